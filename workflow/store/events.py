"""The audit chain in the store: appending events, each chained to the previous one by a hash, and
what the chain's verification reads.

An event's ``hash`` is sha256 over the previous event's hash and the event's hashed content: when,
who (the actor's person id: a pseudonymous id, never a name), which team, what (action, trigger,
phases, forced), ``digest`` and the figures it recorded. The personal part (the actor's name or
e-mail, the free-text reason, the data) stays outside: ``digest`` is sha256 of it salted with the
event's own ``salt``, so an erasure can forget the salt and every hash still holds.

Writing (:func:`append`) takes the chain's head (``audit_head``, one row) under the write's own lock,
so concurrent writers queue and the chain stays one line in id order. It runs in the caller's write
transaction: the event is committed with the change it records, or not at all. Verifying the chain
is ``workflow.services.audit``'s.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from workflow.clock import as_aware, stored_utc
from workflow.rules.permissions import Grant
from workflow.errors import N_, StoreError
from workflow.store import driver
from workflow.store.engine import Store
from workflow.store.models import AuditHead, Event, Person
from workflow.store.people import login_of

RELEASING = ("person.erase", "purge")  # their events list (data "released": [[first, last], ...]) what they rewrote

# The canonical text hashed: the compact JSON list json.dumps(..., ensure_ascii=False,
# separators=(",", ":")) writes, encoded UTF-8 (a lone surrogate passed through, never an error).
# json.dumps builds its C encoder on every call, which is most of its cost: this one is built once.


def _no_default(value: Any) -> Any:
    raise TypeError(f"not hashable as audit content: {type(value).__name__}")


def _json_c_encoder() -> Any:
    """json's C list encoder with json.dumps's options, when this Python has it and it writes the same
    text as json.dumps (checked once, here); else None."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    try:
        encoder = make(None, _no_default, json.encoder.encode_basestring, None, ":", ",", False, False, True)
        sample = ['é"\\\n\x00', None, 7, True, False]
        if "".join(encoder(sample, 0)) != json.dumps(sample, ensure_ascii=False, separators=(",", ":")):
            return None
    except TypeError:  # another signature
        return None
    return encoder


_C_ENCODE = _json_c_encoder()
if _C_ENCODE is not None:
    def canonical(values: list[Any]) -> bytes:
        return "".join(_C_ENCODE(values, 0)).encode("utf-8", "surrogatepass")
else:  # pragma: no cover - a Python without json's C speedups
    _ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def canonical(values: list[Any]) -> bytes:
        return _ENCODE(values).encode("utf-8", "surrogatepass")


_SHA256 = hashlib.sha256


def new_salt() -> str:
    """A fresh salt for one event's personal part (forgotten when that part is erased)."""
    return secrets.token_hex(16)


def digest(salt: str, actor: str | None, reason: str | None, data: str | None) -> str:
    """The salted hash of an event's personal part."""
    return _SHA256(canonical([salt, actor, reason, data])).hexdigest()


def link(prev: str, row: Mapping[str, Any]) -> str:
    """An event's hash: the previous hash and the event's hashed content (no personal data); the
    figures it recorded, when it recorded some (events written before 0008 hash as they did)."""
    values = [prev, hashed_at(row["at"]), row["actor_id"], row["team_id"], row["action"], row["trigger"],
              row["from_phase"], row["to_phase"], bool(row["forced"]), row["digest"]]
    figures = row.get("figures")
    if figures is not None:
        values.append(figures)
    return _SHA256(canonical(values)).hexdigest()


def hashed_at(at: datetime | str) -> str:
    """When, as hashed: UTC to the microsecond, ``2020-07-01T08:00:00.000000Z``. Also SQLite's stored
    text (``2020-07-01 08:00:00.000000``), rewritten without parsing it when it has that shape."""
    if at.__class__ is str:
        if len(at) == 26 and at[10] == " ":
            return f"{at[:10]}T{at[11:]}Z"
        at = stored_utc(at)
    return as_aware(at).astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


# ---- writing: each event chained under the write's lock -------------------------------------------

_EVENT, _HEAD_TABLE = Event.__table__, AuditHead.__table__
# Built once (advance runs them): the head, locked until commit on PostgreSQL (SQLite's writes already
# hold the database's one write lock, BEGIN IMMEDIATE); the insert; the head moved on.
_HEAD = sa.select(_HEAD_TABLE.c.count, _HEAD_TABLE.c.hash).where(_HEAD_TABLE.c.id == 1).with_for_update()
_READ_HEAD = sa.select(_HEAD_TABLE.c.count, _HEAD_TABLE.c.hash).where(_HEAD_TABLE.c.id == 1)
_INSERT = sa.insert(_EVENT)
_MOVE_HEAD = sa.update(_HEAD_TABLE).where(_HEAD_TABLE.c.id == 1).values(
    count=sa.bindparam("new_count"), hash=sa.bindparam("new_hash"))


def append(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> int | None:
    """Chain ``rows`` (events with their ``actor_id``; their salt, digest and hash are set here) after
    the head, insert them in that order and move the head: three statements whatever their number.
    A row's ``sealed`` ({table: [ids]}, popped) names the rows of :data:`FIGURES` it wrote: their
    figures, read back as stored, become its hashed ``figures``.
    Returns the id of the event when there is one (else None)."""
    head = conn.execute(_HEAD).first()
    if head is None:
        raise StoreError(N_("the audit trail's head is missing: the store was damaged"),
                         code="audit_head_missing")
    count, prev = head
    sealing = any(row.get("sealed") for row in rows)
    for row in rows:
        salt = row["salt"] = new_salt()
        row["digest"] = digest(salt, row["actor"], row["reason"], row["data"])
        sealed = row.pop("sealed", None)
        if sealing:
            row["figures"] = _seal(conn, sealed, salt) if sealed else None
        prev = row["hash"] = link(prev, row)
    if len(rows) == 1:
        new_id = conn.execute(_INSERT, rows[0]).inserted_primary_key[0]
    else:
        new_id = None
        driver.insert_many(conn, _INSERT, list(rows))  # an import's 10,000 events: SQLAlchemy's per-row work skipped
    conn.execute(_MOVE_HEAD, {"new_count": count + len(rows), "new_hash": prev})
    return new_id


# ---- the figures: what the chain holds the tables to ------------------------------------------------

ROLES_FIGURE = "roles"  # the figure of people's roles and grants (person_role, person_grant rows, by person)
# table: (columns recorded as they are, texts recorded as a digest salted with the recording event's salt:
# once an erasure or a purge forgets that salt, the digest says nothing of the text any more).
FIGURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "checkin": (("team_id", "author_id", "on", "week", "hours", "mood", "missed"),
                ("notes", "blockers", "next_steps", "reason")),
    "funding": (("programme_id", "partner_id", "cap_cents", "share_bp", "payment"), ()),
    "expense": (("programme_id", "amount_cents", "on"), ("label",)),
    "statement": (("funding_id", "issued_on", "expenses_cents", "due_cents"), ()),
    "payment": (("funding_id", "on", "amount_cents"), ()),
    "notice": (("programme_id", "partner_id", "on", "answered_on"), ("breach", "answer")),
    ROLES_FIGURE: (("roles",), ()),  # a person's roles (person_role rows), keyed by the person's id: who may do what
}
SEAL_BATCH = 1000  # rows an ``audit.seal`` event records (the rows a store held before the figures were chained)


def figure_table(name: str) -> sa.Table:
    return _EVENT.metadata.tables[name]


def _figure_query(name: str) -> sa.Select:
    table = figure_table(name)
    plain, texts = FIGURES[name]
    return sa.select(table.c.id, *(table.c[c] for c in plain + texts))


def grouped_roles(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """(person id, role) rows as the ``roles`` figure rows: each person's id and sorted roles."""
    by_person: dict[int, list[str]] = {}
    for person, role in rows:
        by_person.setdefault(person, []).append(role)
    return [{"id": p, "roles": sorted(r)} for p, r in sorted(by_person.items())]


def roles_figure(role_rows: Iterable[Sequence[Any]], grant_rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """The ``roles`` figure rows of (person id, role) team-role rows and (person id, role, programme id,
    partner id) grant rows: each person's roles and grants, as :attr:`Grant.figure` writes them."""
    return grouped_roles([*((p, r) for p, r in role_rows),
                          *((p, Grant(r, prog, part).figure) for p, r, prog, part in grant_rows)])


def figure_rows(conn: Any, name: str, ids: list[int] | None = None) -> list[Mapping[str, Any]]:
    """The rows of figure table ``name`` as stored (only ``ids`` when given)."""
    if name == ROLES_FIGURE:
        table, grant = figure_table("person_role"), figure_table("person_grant")
        q = sa.select(table.c.person_id, table.c.role)
        g = sa.select(grant.c.person_id, grant.c.role, grant.c.programme_id, grant.c.partner_id)
        if ids is not None:
            q, g = q.where(table.c.person_id.in_(ids)), g.where(grant.c.person_id.in_(ids))
        return roles_figure(conn.execute(q).all(), conn.execute(g).all())
    table = figure_table(name)
    q = _figure_query(name)
    return list(conn.execute(q if ids is None else q.where(table.c.id.in_(ids))).mappings())


def _plain(value: Any) -> Any:
    """A figure as JSON holds it: a day as ISO text, a number as a number."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def text_digest(salt: str, table: str, row_id: int, column: str, value: str) -> str:
    return _SHA256(canonical([salt, table, row_id, column, value])).hexdigest()


def figures_of(name: str, row: Mapping[str, Any], salt: str | None) -> dict[str, Any]:
    """One row's figures as an event records them (``salt``: its own). Without a salt (forgotten), the
    texts are left out: only what can still be compared."""
    plain, texts = FIGURES[name]
    out = {c: _plain(row.get(c)) for c in plain}
    if salt is not None:
        for c in texts:
            value = row.get(c)
            out[c] = None if value is None else text_digest(salt, name, row["id"], c, value)
    return out


def _seal(conn: Any, sealed: Mapping[str, Iterable[int]], salt: str) -> str:
    """The hashed ``figures`` of an event that wrote the rows ``sealed`` names: read back as stored."""
    out: dict[str, dict[str, Any]] = {}
    for name, ids in sealed.items():
        ids = sorted(set(ids))
        if not ids:
            continue
        rows = {r["id"]: r for r in figure_rows(conn, name, ids)}
        out[name] = {str(i): (figures_of(name, rows[i], salt) if i in rows else None) for i in ids}
    return json.dumps(out, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def seal_existing(conn: sa.Connection, actor: str = "preincub (schema 0008)",
                  names: Iterable[str] = tuple(FIGURES), also: Mapping[str, Iterable[int]] | None = None) -> int:
    """Record the figures of every row already in the store, in ``audit.seal`` events of
    :data:`SEAL_BATCH` rows (the migration that brought the figures into the chain, and a restore of
    an older backup). ``also``: ids of rows recorded before that are gone (a person left without any
    role by migration 0009): recorded as deleted. Returns the events appended."""
    at = datetime.now(timezone.utc)
    events = []
    for name in names:
        ids = sorted({r["id"] for r in figure_rows(conn, name)} | set((also or {}).get(name, ())))
        for i in range(0, len(ids), SEAL_BATCH):
            events.append({"at": at, "actor": actor, "actor_id": None, "team_id": None, "action": "audit.seal",
                           "trigger": None, "from_phase": None, "to_phase": None, "reason": None, "forced": False,
                           "data": json.dumps({"rows": len(ids[i:i + SEAL_BATCH]), "table": name}),
                           "sealed": {name: ids[i:i + SEAL_BATCH]}})
    for event in events:  # one at a time: each reads its rows in the same transaction
        append(conn, [event])
    return len(events)


def chain(rows: Iterable[dict[str, Any]], people: Iterable[Mapping[str, Any]], prev: str = "") -> tuple[int, str]:
    """Give events written before the chain existed (dicts with at, actor, team_id, action, trigger,
    from_phase, to_phase, reason, forced, data; in id order) their actor_id, salt, digest and hash.
    ``people``: the store's persons (id, email, login). Returns the head: (count, last hash)."""
    by_email, by_login = {}, {}
    for p in people:
        by_email[p["email"]] = p["id"]
        if p.get("login"):
            by_login[p["login"]] = p["id"]
    count = 0
    for r in rows:
        for column in ("team_id", "trigger", "from_phase", "to_phase", "reason", "data"):
            r.setdefault(column, None)
        r.setdefault("forced", False)
        actor = r["actor"]
        login = login_of(actor)
        r["actor_id"] = by_email.get(actor) if login is None else by_login.get(login)
        r["salt"] = salt = new_salt()
        r["digest"] = digest(salt, actor, r["reason"], r["data"])
        prev = r["hash"] = link(prev, r)
        count += 1
    return count, prev


def chain_existing(conn: sa.Connection) -> None:
    """Chain the events already in a store, in their order (the migration that brought the chain)."""
    event, person = _EVENT, Person.__table__
    people = conn.execute(sa.select(person.c.id, person.c.email, person.c.login)).mappings().all()
    rows = [dict(r) for r in conn.execute(
        sa.select(event.c.id, event.c.at, event.c.actor, event.c.team_id, event.c.action, event.c.trigger,
                  event.c.from_phase, event.c.to_phase, event.c.reason, event.c.forced, event.c.data)
        .order_by(event.c.id)).mappings()]
    count, last = chain(rows, people)
    update = sa.update(event).where(event.c.id == sa.bindparam("event_id")).values(
        actor_id=sa.bindparam("actor_id"), salt=sa.bindparam("salt"), digest=sa.bindparam("digest"),
        hash=sa.bindparam("hash"))
    if rows:
        conn.execute(update, [{"event_id": r["id"], "actor_id": r["actor_id"], "salt": r["salt"],
                               "digest": r["digest"], "hash": r["hash"]} for r in rows])
    conn.execute(sa.insert(_HEAD_TABLE).values(id=1, count=count, hash=last))


def restored(conn: sa.Connection, data: dict[str, list[dict[str, Any]]], schema: str) -> None:
    """Before a backup's rows are written into a new store: its head replaces the new store's empty
    one; a backup from before the chain (schema 0006 or older) gets its events chained, in id order."""
    conn.execute(sa.delete(_HEAD_TABLE))
    if schema < "0007":
        count, last = chain(sorted(data["event"], key=lambda r: r["id"]), data["person"])
        data["audit_head"] = [{"id": 1, "count": count, "hash": last}]


def of_team(s: Session, team_id: int) -> list[Event]:
    """A team's events, oldest first."""
    return list(s.exec(select(Event).where(Event.team_id == team_id).order_by(Event.id)))


# ---- what verifying the chain reads -----------------------------------------------------------------

# The columns :func:`walk_rows` gives, in this order.
WALK_COLUMNS = ("id", "at", "actor", "actor_id", "team_id", "action", "trigger", "from_phase", "to_phase",
                "reason", "forced", "data", "salt", "digest", "hash", "figures")
_COUNT = sa.select(sa.func.count()).select_from(_EVENT)
_RELEASING = sa.select(_EVENT.c.id, _EVENT.c.actor, _EVENT.c.reason, _EVENT.c.data, _EVENT.c.salt,
                       _EVENT.c.digest).where(_EVENT.c.action.in_(RELEASING))
# PostgreSQL writes ``at`` as hashed (UTC, to the microsecond): no datetime made and formatted per row.
_AT_TEXT = sa.func.to_char(sa.func.timezone("UTC", _EVENT.c.at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')


def repeatable_read(store: Store, s: Session) -> sa.Connection:
    """The read session's connection, on PostgreSQL in one snapshot (REPEATABLE READ), so the head,
    the count and the walk agree (SQLite's read transaction is one already)."""
    if store.dialect == "postgresql":
        return s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return s.connection()


def head(conn: sa.Connection) -> tuple[int, str] | None:
    """The chain's head as stored: (count, last hash), or None when it is missing."""
    row = conn.execute(_READ_HEAD).first()
    return None if row is None else tuple(row)


def count(conn: sa.Connection) -> int:
    """The events stored."""
    return conn.execute(_COUNT).scalar_one()


def releasing(conn: sa.Connection) -> list[Sequence[Any]]:
    """The erasures and purges (:data:`RELEASING`): id, actor, reason, data, salt, digest."""
    return conn.execute(_RELEASING).all()


@contextmanager
def walk_rows(store: Store, conn: sa.Connection) -> Iterator[Iterator[tuple[Any, ...]]]:
    """Every event's :data:`WALK_COLUMNS`, in id order, ``at`` as stored text (SQLite) or as hashed
    (PostgreSQL); the cursor is closed on leaving, also when the walk stops early at a broken link."""
    cols = [_EVENT.c[c] for c in WALK_COLUMNS]
    cols[1] = _AT_TEXT if store.dialect == "postgresql" else store.as_stored(_EVENT.c.at)
    with closing(store.stored_rows(conn, sa.select(*cols).order_by(_EVENT.c.id))) as rows:
        yield rows


def team_phases(conn: sa.Connection) -> list[Sequence[Any]]:
    """Every team's (id, phase)."""
    team = figure_table("team")
    return conn.execute(sa.select(team.c.id, team.c.phase)).all()


def team_programme(conn: sa.Connection, team_id: int) -> int | None:
    """The programme of team ``team_id`` (None: no such team)."""
    team = figure_table("team")
    return conn.execute(sa.select(team.c.programme_id).where(team.c.id == team_id)).scalar()
