"""A local Démarches Simplifiées: a real HTTP server on 127.0.0.1 that executes GraphQL queries with
graphql-core against a schema written here (the part of DS's API v2 that preincub reads: a démarche's
dossiers and deleted dossiers, Relay-style, at most 100 a page), over a realistic fixture.

Every DS test uses it, so the client under test speaks real HTTP and real GraphQL::

    with DsServer() as ds:
        client = DsClient(ds.url, ds.token, sleep=waits.append)

Knobs in ``ds.fail`` (a dict the test may change at any time):

- ``{"429_on_page": 2, "retry_after": 1}``: the request for page 2 of the dossiers is answered 429 with
  ``Retry-After: 1`` (``"ratelimit_reset": 3`` sends ``RateLimit-Reset`` instead); ``"429_times"`` (1)
  how many times, after which the knob is taken off;
- ``{"errors_on_page": 3}``: page 3 answers a root ``errors`` entry (``"error_message"`` to choose it),
  as long as the knob is there;
- ``{"500_times": 2}``: the next 2 requests answer HTTP 500 (``"500_status"``: another 5xx);
- ``{"drop_times": 2}``: the next 2 connections are closed without an answer (a network error);
- ``{"unauthorized": 401}``: a wrong token is refused with HTTP 401 rather than DS's 403; ``"graphql"``: by
  a GraphQL error (code ``unauthorized``); ``"hidden"``: as DS hides a démarche the token does not open.

``requests`` lists what the server received (``query``, ``variables``, ``authorized``), in order.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from zoneinfo import ZoneInfo

from graphql import GraphQLError, build_schema, graphql_sync

from workflow.formats.ds import DsClient

SCHEMA_SDL = '''
"""An ISO 8601-encoded datetime"""
scalar ISO8601DateTime
"""An ISO 8601-encoded date"""
scalar ISO8601Date
scalar BigInt

enum Order { ASC DESC }
enum DossierState { en_construction en_instruction accepte refuse sans_suite }
enum Civilite { M Mme }

type Query {
  demarche(number: Int!): Demarche!
}

type Demarche {
  id: ID!
  number: Int!
  title: String!
  dossiers(after: String, before: String, first: Int, last: Int, order: Order = ASC, state: DossierState,
           createdSince: ISO8601DateTime, updatedSince: ISO8601DateTime): DossierConnection!
  deletedDossiers(after: String, before: String, first: Int, last: Int, order: Order = ASC,
                  deletedSince: ISO8601DateTime): DeletedDossierConnection!
}

type PageInfo {
  endCursor: String
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
}

type DossierConnection {
  nodes: [Dossier]
  pageInfo: PageInfo!
}

type DeletedDossierConnection {
  nodes: [DeletedDossier]
  pageInfo: PageInfo!
}

type Dossier {
  id: ID!
  number: Int!
  state: DossierState!
  dateDepot: ISO8601DateTime!
  dateDerniereModification: ISO8601DateTime!
  motivation: String
  usager: Profile!
  demandeur: Demandeur!
  champs: [Champ!]!
}

type DeletedDossier {
  id: ID!
  number: Int!
  state: DossierState!
  reason: String!
  dateSupression: ISO8601DateTime!
}

type Profile {
  id: ID!
  email: String!
}

interface Demandeur {
  id: ID!
}

type PersonnePhysique implements Demandeur {
  id: ID!
  civilite: Civilite
  nom: String!
  prenom: String!
  email: String
  dateDeNaissance: ISO8601Date
}

type PersonneMorale implements Demandeur {
  id: ID!
  siret: String!
  libelleNaf: String!
}

interface Champ {
  id: ID!
  champDescriptorId: String!
  label: String!
  stringValue: String
}

type TextChamp implements Champ {
  id: ID!
  champDescriptorId: String!
  label: String!
  stringValue: String
  value: String
}

type DropDownListChamp implements Champ {
  id: ID!
  champDescriptorId: String!
  label: String!
  stringValue: String
  value: String
}

type IntegerNumberChamp implements Champ {
  id: ID!
  champDescriptorId: String!
  label: String!
  stringValue: String
  value: BigInt
}
'''

SCHEMA = build_schema(SCHEMA_SDL)
DEMARCHE = 4242
MAX_PAGE = 100
STATES = ("en_construction", "en_instruction", "accepte", "refuse", "sans_suite")
PARIS = ZoneInfo("Europe/Paris")  # DS writes its dates with the offset of Paris

# The form of the démarche: (descriptor id, type, label). Two fields are labelled "Nom", as in real forms.
FORM = (
    ("Q2hhbXAtMTAx", "TextChamp", "Nom du projet"),
    ("Q2hhbXAtMTAy", "TextChamp", "Problème public"),
    ("Q2hhbXAtMTAz", "DropDownListChamp", "Département"),
    ("Q2hhbXAtMTA0", "TextChamp", "Nom"),  # the intrapreneur's name
    ("Q2hhbXAtMTA1", "TextChamp", "Prénom"),
    ("Q2hhbXAtMTA2", "TextChamp", "Adresse électronique de l'intrapreneur"),
    ("Q2hhbXAtMTA3", "IntegerNumberChamp", "Jours par semaine"),
    ("Q2hhbXAtMTA4", "TextChamp", "Nom"),  # the sponsor's name: a second "Nom"
)
DEPARTEMENTS = (("80", "Somme"), ("02", "Aisne"), ("60", "Oise"), ("59", "Nord"), ("62", "Pas-de-Calais"),
                ("2A", "Corse-du-Sud"), ("971", "Guadeloupe"), ("13", "Bouches-du-Rhône"), ("29", "Finistère"),
                ("74", "Haute-Savoie"))
NOMS = ("Lefèvre", "Dubois", "Bernard", "Müller", "N'Diaye", "Le Goff", "Hervé", "Côté", "Gaël-Durand", "Ørsted")
PRENOMS = ("Élodie", "François", "Chloé", "Jérôme", "Anaïs", "Loïc", "Maëlle", "Noël", "Zoé", "Grégoire")
PROJETS = ("Rénov'Habitat", "Écoles ouvertes", "Mobilité rurale", "Aides à l'énergie", "Santé des aînés",
           "Accès aux droits", "Cantine locale", "Forêts & eau", "Inclusion numérique", "Logement d'abord")
PROBLEMES = ("Les ménages modestes renoncent à la rénovation énergétique faute d'accompagnement.",
             "Les aides sociales ne sont pas demandées par ceux qui y ont droit (non-recours).",
             "Les habitants des communes rurales n'ont pas de solution de transport à la demande.",
             "Les élèves en décrochage ne sont repérés qu'après des mois d'absence.")
MOTIVATIONS = {"refuse": "Le projet ne relève pas du périmètre de l'appel à projets.",
               "sans_suite": "Dossier classé sans suite à la demande du déposant.",
               "accepte": "Projet retenu par le comité de sélection."}


@dataclass
class Fixture:
    """The démarche's data, in the shape of the API's answers (``__typename`` says a Champ's or a
    Demandeur's type). Tests may change it between syncs."""

    dossiers: list[dict]
    deleted: list[dict] = field(default_factory=list)

    def dossier(self, number: int) -> dict:
        """The dossier numbered ``number``."""
        return next(d for d in self.dossiers if d["number"] == number)

    def touch(self, number: int, when: datetime | None = None, **champs: str) -> dict:
        """Updates a dossier as DS would: some champs' values (by label or descriptor id) and its
        dateDerniereModification (now, or ``when``)."""
        d = self.dossier(number)
        for name, value in champs.items():
            for c in d["champs"]:
                if name in (c["label"], c["champDescriptorId"]):
                    c["stringValue"] = value
                    break
            else:
                raise KeyError(name)
        d["dateDerniereModification"] = _iso(when or datetime.now(PARIS))
        return d

    def delete(self, number: int, *, reason: str = "user_request", when: datetime | None = None) -> dict:
        """Deletes a dossier as DS does: gone from ``dossiers``, listed in ``deletedDossiers``."""
        d = self.dossier(number)
        self.dossiers.remove(d)
        record = {"id": _b64(f"DeletedDossier-{number}"), "number": number, "state": d["state"],
                  "reason": reason, "dateSupression": _iso(when or datetime.now(PARIS))}
        self.deleted.append(record)
        return record


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def dossiers_fixture(n: int = 250, *, seed: int = 1) -> Fixture:
    """``n`` dossiers of every state (the first five cover all five), French names with accents,
    départements written as forms write them ("80 - Somme", "Somme (80)", "somme", "80"), some filed by a
    company (PersonneMorale: only the usager's e-mail), some without a problem; ordered by last change."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 5, 9, 0, tzinfo=PARIS)
    dossiers = []
    for i in range(n):
        number = 10_001 + i
        state = STATES[i] if i < len(STATES) else rng.choices(STATES, weights=(2, 4, 3, 2, 1))[0]
        code, name = DEPARTEMENTS[i % len(DEPARTEMENTS)]
        departement = (f"{code} - {name}", f"{name} ({code})", name.lower(), code)[i // len(DEPARTEMENTS) % 4]
        nom, prenom = NOMS[rng.randrange(len(NOMS))], PRENOMS[rng.randrange(len(PRENOMS))]
        email = f"{_ascii(prenom)}.{_ascii(nom)}{number}@{name.lower().replace(' ', '')}.gouv.fr".lower()
        deposited = start + timedelta(hours=3 * i)
        updated = deposited + timedelta(days=1 + i % 5, minutes=i)
        values = {
            "Q2hhbXAtMTAx": f"{PROJETS[i % len(PROJETS)]} {name} n°{number}",
            "Q2hhbXAtMTAy": None if i % 37 == 36 else PROBLEMES[i % len(PROBLEMES)],
            "Q2hhbXAtMTAz": departement,
            "Q2hhbXAtMTA0": nom,
            "Q2hhbXAtMTA1": prenom,
            "Q2hhbXAtMTA2": email,
            "Q2hhbXAtMTA3": str(1 + i % 3),
            "Q2hhbXAtMTA4": f"{NOMS[(i + 3) % len(NOMS)]} (sponsor)",
        }
        champs = []
        for descriptor, typename, label in FORM:
            value = values[descriptor]
            champ = {"__typename": typename, "id": _b64(f"Champ-{descriptor}-{number}"),
                     "champDescriptorId": descriptor, "label": label, "stringValue": value}
            champ["value"] = int(value) if typename == "IntegerNumberChamp" and value else value
            champs.append(champ)
        if i % 20 == 19:
            demandeur = {"__typename": "PersonneMorale", "id": _b64(f"Etablissement-{number}"),
                         "siret": f"2180{number:06d}0017", "libelleNaf": "Administration publique générale"}
        else:
            demandeur = {"__typename": "PersonnePhysique", "id": _b64(f"Individual-{number}"),
                         "civilite": ("M", "Mme")[i % 2], "nom": nom, "prenom": prenom,
                         "email": email if i % 3 else None, "dateDeNaissance": None}
        dossiers.append({
            "id": _b64(f"Dossier-{number}"), "number": number, "state": state,
            "dateDepot": _iso(deposited), "dateDerniereModification": _iso(updated),
            "motivation": MOTIVATIONS.get(state) if state != "accepte" or i % 2 else None,
            "usager": {"id": _b64(f"User-{number}"), "email": email},
            "demandeur": demandeur, "champs": champs,
        })
    return Fixture(dossiers)


def _ascii(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isalnum() and c.isascii())


class DsServer:
    """The local DS (see the module docstring); a context manager that serves on a free port."""

    SCHEMA_SDL = SCHEMA_SDL

    def __init__(self, fixture: Fixture | None = None, *, token: str = "ds-test-token-Zx81", demarche: int = DEMARCHE,
                 fail: dict | None = None) -> None:
        self.fixture = fixture if fixture is not None else dossiers_fixture()
        self.token = token
        self.demarche = demarche
        self.fail: dict = dict(fail or {})
        self.requests: list[dict] = []
        self.waits: list[float] = []  # what clients made by client() were told to sleep
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def __enter__(self) -> Self:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                server._handle(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/api/v2/graphql"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def client(self, **options: Any) -> DsClient:
        """A client of this server whose waits are recorded in ``self.waits``, never slept."""
        options.setdefault("sleep", self.waits.append)
        return DsClient(self.url, self.token, **options)

    def __exit__(self, *exc: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    # -- requests --------------------------------------------------------------------------------------

    def _once(self, knob: str) -> bool:
        """Whether the knob ``knob`` (a count in ``fail``) still fires, using one."""
        with self._lock:
            left = int(self.fail.get(knob, 0))
            if left <= 0:
                return False
            self.fail[knob] = left - 1
            return True

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length)
        try:
            body = json.loads(raw)
            query, variables = body["query"], body.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            return self._send(h, 400, {"errors": [{"message": "Bad request"}]})
        authorized = h.headers.get("Authorization") == f"Bearer {self.token}"
        with self._lock:
            self.requests.append({"query": query, "variables": variables, "authorized": authorized})
        if self._once("drop_times"):
            h.close_connection = True
            h.wfile.flush()
            h.connection.shutdown(2)
            return None
        if self._once("500_times"):
            return self._send(h, int(self.fail.get("500_status", 500)), {"errors": [{"message": "Internal error"}]})
        if not authorized:
            return self._refuse(h)
        page = self._page_of(query, variables)
        if page is not None and page == self.fail.get("429_on_page") and self._throttle():
            headers = ({"RateLimit-Reset": str(self.fail["ratelimit_reset"])} if "ratelimit_reset" in self.fail
                       else {"Retry-After": str(self.fail.get("retry_after", 1))})
            return self._send(h, 429, {"errors": [{"message": "Too many requests"}]}, headers)
        if page is not None and page == self.fail.get("errors_on_page"):
            message = self.fail.get("error_message", "Le serveur a rencontré une erreur inattendue (page indisponible)")
            return self._send(h, 200, {"data": None, "errors": [{"message": message, "locations": [],
                                                                   "extensions": {"code": "internal_error"}}]})
        result = graphql_sync(SCHEMA, query, root_value={"demarche": self._demarche}, variable_values=variables)
        out: dict[str, Any] = {"data": result.data}
        if result.errors:
            out["errors"] = [e.formatted for e in result.errors]
        return self._send(h, 200, out)

    def _refuse(self, h: BaseHTTPRequestHandler) -> None:
        """A wrong token, refused as ``fail["unauthorized"]`` says; by default as DS does (403, and a
        GraphQL error saying only persisted queries may go without a token)."""
        how = self.fail.get("unauthorized", 403)
        if how == "graphql":
            return self._send(h, 200, {"data": None, "errors": [
                {"message": "Unauthorized", "extensions": {"code": "unauthorized"}}]})
        if how == "hidden":  # a token that does not open this démarche
            return self._send(h, 200, {"data": None, "errors": [
                {"message": "An object of type Demarche was hidden due to permissions", "path": ["demarche"]}]})
        return self._send(h, int(how), {"data": None, "errors": [
            {"message": "Without a token, only persisted queries are allowed", "extensions": {"code": "forbidden"}}]})

    def _throttle(self) -> bool:
        """Whether to answer 429, using one of ``429_times``; the knob goes once they are used, so a test
        may set it again."""
        with self._lock:
            left = int(self.fail.get("429_times", 1))
            if left <= 1:
                self.fail.pop("429_on_page", None)
                self.fail.pop("429_times", None)
            else:
                self.fail["429_times"] = left - 1
            return left >= 1

    def _page_of(self, query: str, variables: dict) -> int | None:
        """Which page of the dossiers a request asks for (1 from the start), None for other queries."""
        if "dossiers(" not in query.replace(" (", "(") or "deletedDossiers" in query:
            return None
        first = min(int(variables.get("first") or MAX_PAGE), MAX_PAGE)
        after = variables.get("after")
        try:
            items = self._dossiers_since(variables.get("updatedSince"))
            return 1 + (_offset(items, after, _dossier_key) // first if after else 0)
        except GraphQLError:
            return None

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    # -- resolvers -------------------------------------------------------------------------------------

    def _demarche(self, info: Any, number: int) -> dict:
        if number != self.demarche:
            raise GraphQLError("Demarche not found", extensions={"code": "not_found"})
        return {"id": _b64(f"Procedure-{number}"), "number": number, "title": "Appel à projets « Intrapreneurs »",
                "dossiers": self._dossiers, "deletedDossiers": self._deleted}

    def _dossiers_since(self, since: str | None) -> list[dict]:
        items = list(self.fixture.dossiers)
        if since:
            floor = _parse(since)
            items = [d for d in items if _parse(d["dateDerniereModification"]) >= floor]
        return sorted(items, key=_dossier_key)

    def _dossiers(self, info: Any, first: int | None = None, after: str | None = None, order: str = "ASC",
                  updatedSince: str | None = None, **_: Any) -> dict:
        items = self._dossiers_since(updatedSince)
        return _connection(items, first, after, order, key=_dossier_key)

    def _deleted(self, info: Any, first: int | None = None, after: str | None = None, order: str = "ASC",
                 deletedSince: str | None = None, **_: Any) -> dict:
        items = list(self.fixture.deleted)
        if deletedSince:
            floor = _parse(deletedSince)
            items = [d for d in items if _parse(d["dateSupression"]) >= floor]
        items.sort(key=_deleted_key)
        return _connection(items, first, after, order, key=_deleted_key)


def _parse(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise GraphQLError(f"{value!r} is not an ISO 8601 date-time") from None
    return when if when.tzinfo else when.replace(tzinfo=PARIS)


def _cursor(key: tuple[datetime, int]) -> str:
    """An opaque cursor naming a position in the order (date, number): a dossier updated meanwhile moves
    after it and is listed again, as DS's own keyset cursors do."""
    return _b64(json.dumps([key[0].isoformat(), key[1]]))


def _offset(items: list[dict], after: str, key: Any) -> int:
    """How many of ``items`` (sorted by ``key``) are at or before the cursor's position."""
    try:
        when, number = json.loads(base64.b64decode(after, validate=True).decode())
        mark = (datetime.fromisoformat(when), int(number))
    except (ValueError, TypeError, UnicodeDecodeError):
        raise GraphQLError("Invalid cursor") from None
    return sum(1 for d in items if key(d) <= mark)


def _connection(items: list[dict], first: int | None, after: str | None, order: str, key: Any) -> dict:
    """One page of ``items`` (sorted by ``key``) after the cursor ``after``; at most 100, as DS."""
    if order == "DESC":
        raise GraphQLError("order DESC is not served by this test double")
    size = min(first or MAX_PAGE, MAX_PAGE)
    if size < 0:
        raise GraphQLError("first must be positive")
    start = _offset(items, after, key) if after else 0
    page = items[start:start + size]
    return {"nodes": page, "pageInfo": {
        "hasNextPage": start + size < len(items), "hasPreviousPage": start > 0,
        "startCursor": _cursor(key(page[0])) if page else None,
        "endCursor": _cursor(key(page[-1])) if page else (after or None)}}


def _dossier_key(d: dict) -> tuple[datetime, int]:
    return _parse(d["dateDerniereModification"]), d["number"]


def _deleted_key(d: dict) -> tuple[datetime, int]:
    return _parse(d["dateSupression"]), d["number"]
