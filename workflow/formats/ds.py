"""Démarches Simplifiées (DS): the dossiers of a démarche, read through DS's public GraphQL API (v2).

DS is where French public bodies collect applications; its API is the source that stays current, where an
export file is stale the moment it is downloaded. :class:`DsClient` reads it page by page with httpx (one
HTTP request a page, lazily, so a caller commits each page before asking for the next) and gives frozen
:class:`Dossier` values: no store here, :mod:`workflow.services.ds` decides what they become.

The connection is Relay-style (``first``/``after``, ``pageInfo { hasNextPage endCursor }``, at most 100 a
page). Throttling (HTTP 429) waits as long as ``Retry-After`` or ``RateLimit-Reset`` says and goes on; 5xx
answers and network errors are retried with a doubling backoff; whatever cannot be survived is one
:class:`DsError` line with a stable code. The token goes only in the ``Authorization`` header: never in an
error, a log line or a repr.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self
from zoneinfo import ZoneInfo

import httpx

from notifications.visible import shown
from workflow.errors import N_, Np_, PreincubError

__all__ = ["DEFAULT_URL", "DELETED_QUERY", "DOSSIERS_QUERY", "PAGE_SIZE", "Champ", "DeletedDossier", "Demandeur",
           "Dossier", "DsClient", "DsError", "Page"]

DEFAULT_URL = "https://www.demarches-simplifiees.fr/api/v2/graphql"
PAGE_SIZE = 100  # DS's maximum page size
MAX_WAIT = 300.0  # seconds: a longer Retry-After is reported, not slept through
MAX_THROTTLES = 20  # 429 answers in a row for one request before giving up
MESSAGE_LIMIT = 300  # characters of DS's own error message quoted in ours
PARIS = ZoneInfo("Europe/Paris")
_log = logging.getLogger(__name__)

DOSSIERS_QUERY = """\
query preincubDossiers($demarche: Int!, $first: Int!, $after: String, $updatedSince: ISO8601DateTime) {
  demarche(number: $demarche) {
    dossiers(first: $first, after: $after, updatedSince: $updatedSince, order: ASC) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id
        number
        state
        dateDepot
        dateDerniereModification
        motivation
        usager { email }
        demandeur { ... on PersonnePhysique { civilite nom prenom email } }
        champs { id champDescriptorId label stringValue }
      }
    }
  }
}
"""

DELETED_QUERY = """\
query preincubDeletedDossiers($demarche: Int!, $first: Int!, $after: String, $deletedSince: ISO8601DateTime) {
  demarche(number: $demarche) {
    deletedDossiers(first: $first, after: $after, deletedSince: $deletedSince, order: ASC) {
      pageInfo { hasNextPage endCursor }
      nodes { id number reason dateSupression }
    }
  }
}
"""


@dataclass(frozen=True, slots=True)
class Champ:
    """One field of a dossier's form: ``descriptor_id`` names the field in the démarche (it survives a label
    edit), ``value`` is DS's text of any kind of field."""

    id: str
    descriptor_id: str | None
    label: str
    value: str | None


@dataclass(frozen=True, slots=True)
class Demandeur:
    """The person a dossier is filed for (DS's ``PersonnePhysique``)."""

    civilite: str | None
    nom: str | None
    prenom: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class Dossier:
    """One application as DS has it now; ``id`` is its stable key, ``number`` what people quote."""

    id: str
    number: int
    state: str
    deposited_at: datetime | None
    updated_at: datetime
    motivation: str | None
    usager_email: str | None
    demandeur: Demandeur | None
    champs: tuple[Champ, ...]


@dataclass(frozen=True, slots=True)
class DeletedDossier:
    """A dossier DS deleted: its record has an id of its own, so it is matched by ``number``."""

    id: str
    number: int
    reason: str | None
    deleted_at: datetime


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a démarche's dossiers and where the next one starts (``end_cursor``)."""

    dossiers: tuple[Dossier, ...]
    end_cursor: str | None
    has_next: bool


class DsError(PreincubError):
    """DS could not be read. Codes: ``ds_bad_token``, ``ds_error`` (a GraphQL ``errors`` entry: DS's own
    message), ``ds_unreachable`` (5xx, network, throttled too long), ``ds_bad_answer`` (not what the API
    promises), ``ds_bad_url``."""


class _BadAnswer(Exception):
    """An answer not shaped as the API promises (caught at the request and raised as one DsError)."""


class DsClient:
    """A DS API v2 client over httpx: paging, throttling, retries; see the module docstring."""

    def __init__(self, url: str, token: str, *, sleep: Callable[[float], None] = time.sleep, retries: int = 5,
                 timeout: float = 30.0, transport: httpx.BaseTransport | None = None) -> None:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise DsError(N_("the Démarches Simplifiées URL {url!q} is not an http(s) address"), code="ds_bad_url",
                          url=url)
        # A token goes in a header: printable ASCII without spaces, or it cannot be DS's.
        if not token or not re.fullmatch(r"[\x21-\x7e]+", token):
            raise DsError(N_("the Démarches Simplifiées token is missing or malformed"), code="ds_bad_token")
        self.url = str(parsed)
        self._sleep = sleep
        self._retries = max(0, retries)
        # httpx's Headers repr hides Authorization; the client has no other copy of the token.
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False,
                                  headers={"Authorization": f"Bearer {token}", "Accept": "application/json",
                                           "User-Agent": "preincub"})

    def __repr__(self) -> str:
        return f"DsClient({self.url!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes the HTTP connections."""
        self._http.close()

    def dossiers(self, demarche: int, *, updated_since: datetime | None = None,
                 after: str | None = None) -> Iterator[Page]:
        """The démarche's dossiers, oldest change first, one HTTP request a page as the caller iterates:
        what was yielded before an error stays yielded (the caller keeps the pages it committed)."""
        variables: dict[str, Any] = {"demarche": demarche, "first": PAGE_SIZE,
                                     "updatedSince": _iso(updated_since) if updated_since else None}
        for conn in self._pages(DOSSIERS_QUERY, "dossiers", variables, after):
            try:
                dossiers = tuple(_dossier(n) for n in _nodes(conn))
            except _BadAnswer as e:
                raise _bad_answer(str(e)) from None
            yield Page(dossiers, conn["pageInfo"].get("endCursor"), bool(conn["pageInfo"].get("hasNextPage")))

    def deleted(self, demarche: int, *, since: datetime | None = None) -> list[DeletedDossier]:
        """Every dossier of the démarche that DS deleted (since ``since``), over all pages."""
        variables: dict[str, Any] = {"demarche": demarche, "first": PAGE_SIZE,
                                     "deletedSince": _iso(since) if since else None}
        out: list[DeletedDossier] = []
        for conn in self._pages(DELETED_QUERY, "deletedDossiers", variables, None):
            try:
                out.extend(_deleted(n) for n in _nodes(conn))
            except _BadAnswer as e:
                raise _bad_answer(str(e)) from None
        return out

    def _pages(self, query: str, field: str, variables: dict[str, Any], after: str | None) -> Iterator[dict]:
        """The connection ``field`` of the démarche, page after page; a cursor that does not move is an
        error, not an endless loop."""
        seen = {after} if after else set()
        while True:
            data = self._post(query, {**variables, "after": after})
            demarche = data.get("demarche")
            conn = demarche.get(field) if isinstance(demarche, dict) else None
            if not isinstance(conn, dict) or not isinstance(conn.get("pageInfo"), dict):
                raise _bad_answer(f"no {field} connection")
            yield conn
            cursor = conn["pageInfo"].get("endCursor")
            if not conn["pageInfo"].get("hasNextPage"):
                return
            if not isinstance(cursor, str) or cursor in seen:
                raise _bad_answer("a next page without a new cursor")
            seen.add(cursor)
            after = cursor

    def _post(self, query: str, variables: Mapping[str, Any]) -> dict:
        """One GraphQL request: its ``data``, after waiting out throttling and retrying what may pass."""
        failures = throttles = 0
        while True:
            try:
                r = self._http.post(self.url, json={"query": query, "variables": dict(variables)})
            except httpx.TransportError as e:
                failures += 1
                if failures > self._retries:
                    raise DsError(Np_("Démarches Simplifiées cannot be reached ({reason}) after {n} attempt",
                                      "Démarches Simplifiées cannot be reached ({reason}) after {n} attempts"),
                                  code="ds_unreachable", reason=_reason(e), n=failures) from None
                self._backoff(failures, _reason(e))
                continue
            if r.status_code == 429:
                throttles += 1
                wait = _wait(r.headers)
                if throttles > MAX_THROTTLES or wait > MAX_WAIT:
                    raise DsError(N_("Démarches Simplifiées is throttling requests: try again in {seconds} s"),
                                  code="ds_unreachable", seconds=round(wait))
                _log.info("DS throttles requests: waiting %.1f s", wait)
                self._sleep(wait)
                continue
            if r.status_code >= 500:
                failures += 1
                if failures > self._retries:
                    raise DsError(Np_("Démarches Simplifiées cannot be reached (HTTP {status}) after {n} attempt",
                                      "Démarches Simplifiées cannot be reached (HTTP {status}) after {n} attempts"),
                                  code="ds_unreachable", status=r.status_code, n=failures)
                self._backoff(failures, f"HTTP {r.status_code}")
                continue
            return _data(r)

    def _backoff(self, failures: int, reason: str) -> None:
        delay = float(min(2 ** (failures - 1), 30))
        _log.info("DS request failed (%s): retrying in %.0f s", reason, delay)
        self._sleep(delay)


def _data(r: httpx.Response) -> dict:
    """The ``data`` of a non-5xx answer, or the DsError its status or its ``errors`` say."""
    if r.status_code in (401, 403):
        raise _bad_token()
    try:
        body = r.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        body = None
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors:
        first = errors[0] if isinstance(errors, list) else errors
        message = first.get("message") if isinstance(first, dict) else first
        code = (first.get("extensions") or {}).get("code") if isinstance(first, dict) else None
        message = message if isinstance(message, str) else json.dumps(message, ensure_ascii=False)
        if str(code).lower() in ("unauthorized", "forbidden") or any(w in message.lower() for w in _REFUSALS):
            raise _bad_token()
        # DS may quote what it was sent: the token (from the request's own header) never reaches a message.
        token = r.request.headers.get("Authorization", "").removeprefix("Bearer ")
        if len(token) >= 8:
            message = message.replace(token, "…")
        raise DsError(N_("Démarches Simplifiées refused the query: {message}"), code="ds_error",
                      message=_one_line(message))
    if r.status_code != 200:
        raise DsError(N_("Démarches Simplifiées answered HTTP {status}: check its URL"), code="ds_bad_answer",
                      status=r.status_code)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise _bad_answer("no data")
    return data


# What DS says of a token it does not know (or of none), and of a démarche the token does not open.
_REFUSALS = ("unauthorized", "without a token", "hidden due to permissions")


def _bad_token() -> DsError:
    return DsError(N_("Démarches Simplifiées refused the token: check it, and that it gives access to this "
                      "démarche"), code="ds_bad_token")


def _bad_answer(what: str) -> DsError:
    return DsError(N_("Démarches Simplifiées gave an unexpected answer: {what}"), code="ds_bad_answer",
                   what=_one_line(what))


def _one_line(value: str) -> str:
    value = " ".join(value.split())
    return shown(value[:MESSAGE_LIMIT] + "…" if len(value) > MESSAGE_LIMIT else value)


def _reason(e: httpx.TransportError) -> str:
    """A network error named by its kind (its text may quote the request)."""
    return type(e).__name__


def _wait(headers: httpx.Headers) -> float:
    """Seconds to wait after a 429: ``Retry-After`` (seconds or an HTTP date), else ``RateLimit-Reset``
    (seconds, or a Unix time when it is one), else a second."""
    value = headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                return max(0.0, (when - datetime.now(UTC)).total_seconds())
    value = headers.get("ratelimit-reset") or headers.get("x-ratelimit-reset")
    if value:
        try:
            seconds = float(value)
        except ValueError:
            return 1.0
        return max(0.0, seconds - time.time()) if seconds > 1e9 else max(0.0, seconds)
    return 1.0


def _iso(when: datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("a DS date must be timezone-aware")
    return when.isoformat()


def _nodes(conn: Mapping[str, Any]) -> list[dict]:
    nodes = conn.get("nodes")
    if not isinstance(nodes, list):
        raise _BadAnswer("no nodes")
    return [n for n in nodes if n is not None]


def _dossier(n: Any) -> Dossier:
    if not isinstance(n, dict):
        raise _BadAnswer("a dossier that is not an object")
    number = _int(n.get("number"), "number")
    where = f"dossier {number}"
    usager = n.get("usager")
    demandeur = n.get("demandeur")
    champs = n.get("champs") or []
    if not isinstance(champs, list):
        raise _BadAnswer(f"{where}: champs")
    return Dossier(id=_str(n.get("id"), f"{where}: id"), number=number,
                   state=_str(n.get("state"), f"{where}: state"),
                   deposited_at=None if n.get("dateDepot") is None else _when(n["dateDepot"], f"{where}: dateDepot"),
                   updated_at=_when(n.get("dateDerniereModification"), f"{where}: dateDerniereModification"),
                   motivation=_opt(n.get("motivation"), f"{where}: motivation"),
                   usager_email=_opt(usager.get("email"), f"{where}: usager") if isinstance(usager, dict) else None,
                   demandeur=_demandeur(demandeur, where),
                   champs=tuple(_champ(c, where) for c in champs if c is not None))


def _demandeur(d: Any, where: str) -> Demandeur | None:
    """A PersonnePhysique; None for another kind (a PersonneMorale gives none of these fields)."""
    if not isinstance(d, dict):
        return None
    fields = [_opt(d.get(k), f"{where}: demandeur {k}") for k in ("civilite", "nom", "prenom", "email")]
    return Demandeur(*fields) if any(f is not None for f in fields) else None


def _champ(c: Any, where: str) -> Champ:
    if not isinstance(c, dict):
        raise _BadAnswer(f"{where}: a champ that is not an object")
    return Champ(id=_str(c.get("id"), f"{where}: champ id"),
                 descriptor_id=_opt(c.get("champDescriptorId"), f"{where}: champDescriptorId"),
                 label=_str(c.get("label"), f"{where}: champ label"),
                 value=_opt(c.get("stringValue"), f"{where}: stringValue"))


def _deleted(n: Any) -> DeletedDossier:
    if not isinstance(n, dict):
        raise _BadAnswer("a deleted dossier that is not an object")
    number = _int(n.get("number"), "deleted number")
    where = f"deleted dossier {number}"
    return DeletedDossier(id=_str(n.get("id"), f"{where}: id"), number=number,
                          reason=_opt(n.get("reason"), f"{where}: reason"),
                          deleted_at=_when(n.get("dateSupression"), f"{where}: dateSupression"))


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _BadAnswer(what)
    return value


def _opt(value: Any, what: str) -> str | None:
    return None if value is None else _str(value, what)


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _BadAnswer(what)
    return value


def _when(value: Any, what: str) -> datetime:
    """An ISO 8601 date-time, timezone-aware (DS's are; one without an offset is read as Paris time)."""
    if not isinstance(value, str):
        raise _BadAnswer(what)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise _BadAnswer(what) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=PARIS)
