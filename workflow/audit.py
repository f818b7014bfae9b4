"""The tamper-evident audit trail: every event is chained to the previous one by a hash.

An event's ``hash`` is sha256 over the previous event's hash and the event's hashed content: when,
who (the actor's person id: a pseudonymous id, never a name), which team, what (action, trigger,
phases, forced) and ``digest``. The personal part (the actor's name or e-mail, the free-text reason,
the data) stays outside: ``digest`` is sha256 of it salted with the event's own ``salt``. An erasure
or a purge rewrites the personal part and forgets the salt; every hash still holds, so the chain stays
valid. A forgotten salt is accepted only on an event a later erasure or purge lists as rewritten (in its
own event's data, which its digest covers: :data:`RELEASING`); anywhere else it is a broken link.

Writing (:func:`append`) takes the chain's head (``audit_head``, one row) under the write's own lock,
so concurrent writers queue and the chain stays one line in id order. :class:`Audit` walks it back.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from workflow.clock import as_aware, stored_utc
from workflow.errors import N_, Np_, StoreError
from workflow.models import AuditHead, Event, Person
from workflow.records import AuditRecord

if TYPE_CHECKING:
    from workflow.context import Context

RELEASING = ("person.erase", "purge")  # their events list (data "released": [[first, last], ...]) what they rewrote
SYSTEM = " (system user)"  # as workflow.context.SYSTEM (not imported: migrations import this module)

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
    def _canonical(values: list[Any]) -> bytes:
        return "".join(_C_ENCODE(values, 0)).encode("utf-8", "surrogatepass")
else:  # pragma: no cover - a Python without json's C speedups
    _ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def _canonical(values: list[Any]) -> bytes:
        return _ENCODE(values).encode("utf-8", "surrogatepass")


_SHA256 = hashlib.sha256


def new_salt() -> str:
    """A fresh salt for one event's personal part (forgotten when that part is erased)."""
    return secrets.token_hex(16)


def digest(salt: str, actor: str | None, reason: str | None, data: str | None) -> str:
    """The salted hash of an event's personal part."""
    return _SHA256(_canonical([salt, actor, reason, data])).hexdigest()


def link(prev: str, row: Mapping[str, Any]) -> str:
    """An event's hash: the previous hash and the event's hashed content (no personal data); the
    figures it recorded, when it recorded some (events written before 0008 hash as they did)."""
    values = [prev, _at(row["at"]), row["actor_id"], row["team_id"], row["action"], row["trigger"],
              row["from_phase"], row["to_phase"], bool(row["forced"]), row["digest"]]
    figures = row.get("figures")
    if figures is not None:
        values.append(figures)
    return _SHA256(_canonical(values)).hexdigest()


def _at(at: datetime | str) -> str:
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
        conn.execute(_INSERT, list(rows))
    conn.execute(_MOVE_HEAD, {"new_count": count + len(rows), "new_hash": prev})
    return new_id


# ---- the figures: what the chain holds the tables to ------------------------------------------------

ROLES = "roles"
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
    ROLES: (("roles",), ()),  # a person's roles (person_role rows), keyed by the person's id: who may do what
}
# What an error calls each table (catalog words).
FIGURE_LABELS = {"checkin": N_("check-in"), "funding": N_("funding"), "expense": N_("expense"),
                 "statement": N_("statement"), "payment": N_("payment"), "notice": N_("formal notice"),
                 ROLES: N_("person (roles)"), "team": N_("team")}
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
    return [{"id": p, ROLES: sorted(r)} for p, r in sorted(by_person.items())]


def _current(conn: Any, name: str, ids: list[int] | None = None) -> list[Mapping[str, Any]]:
    """The rows of figure table ``name`` as stored (only ``ids`` when given)."""
    if name == ROLES:
        table = figure_table("person_role")
        q = sa.select(table.c.person_id, table.c.role)
        return grouped_roles(conn.execute(q if ids is None else q.where(table.c.person_id.in_(ids))).all())
    table = figure_table(name)
    q = _figure_query(name)
    return list(conn.execute(q if ids is None else q.where(table.c.id.in_(ids))).mappings())


def _plain(value: Any) -> Any:
    """A figure as JSON holds it: a day as ISO text, a number as a number."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def text_digest(salt: str, table: str, row_id: int, column: str, value: str) -> str:
    return _SHA256(_canonical([salt, table, row_id, column, value])).hexdigest()


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
        rows = {r["id"]: r for r in _current(conn, name, ids)}
        out[name] = {str(i): (figures_of(name, rows[i], salt) if i in rows else None) for i in ids}
    return json.dumps(out, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def seal_existing(conn: sa.Connection, actor: str = "preincub (schema 0008)") -> int:
    """Record the figures of every row already in the store, in ``audit.seal`` events of
    :data:`SEAL_BATCH` rows (the migration that brought the figures into the chain, and a restore of
    an older backup). Returns the events appended."""
    at = datetime.now(timezone.utc)
    events = []
    for name in FIGURES:
        ids = [r["id"] for r in _current(conn, name)]
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
        r["actor_id"] = by_login.get(actor[: -len(SYSTEM)]) if actor.endswith(SYSTEM) else by_email.get(actor)
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


# ---- verifying --------------------------------------------------------------------------------------

_WALK_COLUMNS = ("id", "at", "actor", "actor_id", "team_id", "action", "trigger", "from_phase", "to_phase",
                 "reason", "forced", "data", "salt", "digest", "hash", "figures")
_COUNT = sa.select(sa.func.count()).select_from(_EVENT)
_RELEASING = sa.select(_EVENT.c.id, _EVENT.c.actor, _EVENT.c.reason, _EVENT.c.data, _EVENT.c.salt,
                       _EVENT.c.digest).where(_EVENT.c.action.in_(RELEASING))
# PostgreSQL writes ``at`` as hashed (UTC, to the microsecond): no datetime made and formatted per row.
_AT_TEXT = sa.func.to_char(sa.func.timezone("UTC", _EVENT.c.at), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')


def _broken(message: Any, problem: str, event: int | None, verified: int, **params: Any) -> StoreError:
    return StoreError(message, code="audit_broken", problem=problem, event=event, verified=verified, **params)


@dataclass(frozen=True)
class Released:
    """The events whose salt an erasure or a purge forgot, as they recorded it: merged id ranges."""

    starts: tuple[int, ...] = ()
    ends: tuple[int, ...] = ()

    @classmethod
    def of(cls, rows: Iterable[Sequence[Any]]) -> Released:
        """From the erasure and purge events (id, actor, reason, data, salt, digest): only those whose
        personal part checks against their digest count, and only for events before them."""
        spans = []
        for id_, actor, reason, data, salt, dig in rows:
            if salt is None or dig != digest(salt, actor, reason, data):
                continue  # the walk reports it at its place
            try:
                ranges = json.loads(data).get("released") or []
                spans += [(int(a), min(int(b), id_ - 1)) for a, b in ranges if int(a) < id_]
            except (ValueError, TypeError, AttributeError):
                continue
        starts: list[int] = []
        ends: list[int] = []
        for a, b in sorted(spans):
            if ends and a <= ends[-1] + 1:
                ends[-1] = max(ends[-1], b)
            else:
                starts.append(a)
                ends.append(b)
        return cls(tuple(starts), tuple(ends))

    def __contains__(self, event_id: object) -> bool:
        i = bisect.bisect_right(self.starts, event_id) - 1  # type: ignore[call-overload]
        return i >= 0 and event_id <= self.ends[i]  # type: ignore[operator]


@dataclass
class Recorded:
    """What the chain says the tables hold, gathered by :func:`walk`: each figure row's last recorded
    figures ((table, id) -> (event id, that event's salt, figures or None once deleted)), and each
    team's last recorded phase (team id -> (event id, phase))."""

    figures: dict[tuple[str, int], tuple[int, str | None, dict[str, Any] | None]] = field(default_factory=dict)
    phases: dict[int, tuple[int, str]] = field(default_factory=dict)


def walk(rows: Iterable[Sequence[Any]], head: tuple[int, str] | None, total: int,
         released: Released = Released(), recorded: Recorded | None = None) -> AuditRecord:
    """Check the chain: ``rows`` are the events' columns as :data:`_WALK_COLUMNS`, in id order (``at``
    a datetime or SQLite's stored text); ``head`` the stored (count, hash); ``total`` the events stored;
    ``released`` the events whose salt a later erasure or purge forgot; ``recorded``, when given,
    gathers what the events say the tables hold (:func:`check_tables`). Raises a StoreError (code
    ``audit_broken``, params problem, event, verified) at the first broken link."""
    prev, prev_id, n, erased = "", 0, 0, 0
    canonical, sha = _canonical, _SHA256
    for (id_, at, actor, actor_id, team_id, action, trigger, from_, to, reason, forced, data, salt, dig,
         stored, figures) in rows:
        if at.__class__ is str and len(at) == 26 and at[10] == " ":  # SQLite's stored text
            when = f"{at[:10]}T{at[11:]}Z"
        elif at.__class__ is str and len(at) == 27 and at[26] == "Z" and at[10] == "T":  # written so (PostgreSQL)
            when = at
        else:
            when = _at(at)
        hashed = [prev, when, actor_id, team_id, action, trigger, from_, to, bool(forced), dig]
        if figures is not None:
            hashed.append(figures)
        if stored != sha(canonical(hashed)).hexdigest():
            missing = (head[0] if head else 0) - total
            if missing > 0 and id_ != prev_id + 1:
                raise _broken(Np_("the audit trail is broken at event #{event}: the hash of the event before it does "
                                  "not match ({n} event was deleted from the trail)",
                                  "the audit trail is broken at event #{event}: the hash of the event before it does "
                                  "not match ({n} events were deleted from the trail)"),
                              "missing", id_, n, n=missing)
            raise _broken(N_("the audit trail is broken at event #{event}: its content no longer matches its hash "
                             "(it was changed or moved after it was written)"), "changed", id_, n)
        if salt is None:
            if action in RELEASING or id_ not in released:
                raise _broken(N_("the audit trail is broken at event #{event}: its personal part was removed without "
                                 "an erasure or purge recording it (its salt is missing)"), "unreleased", id_, n)
            erased += 1
        elif dig != sha(canonical([salt, actor, reason, data])).hexdigest():
            raise _broken(N_("the audit trail is broken at event #{event}: its personal part (actor, reason, data) "
                             "no longer matches its digest (it was edited)"), "personal", id_, n)
        if recorded is not None:
            if to is not None and team_id is not None:
                recorded.phases[team_id] = (id_, to)
            if figures is not None:
                try:
                    for name, written in json.loads(figures).items():
                        for row_id, values in written.items():
                            if not (values is None or isinstance(values, dict)):
                                raise TypeError(row_id)
                            recorded.figures[(name, int(row_id))] = (id_, salt, values)
                except (ValueError, TypeError, AttributeError, RecursionError):
                    raise _broken(N_("the audit trail is broken at event #{event}: the figures it recorded cannot "
                                     "be read (they were written outside preincub)"), "figures", id_, n) from None
        prev, prev_id = stored, id_
        n += 1
    if head is None:
        raise _broken(N_("the audit trail is broken: its head is missing"), "head", None, n)
    if head[0] > n:
        raise _broken(Np_("the audit trail is broken after event #{event}, its last: the head counts {n} more event "
                          "(the last one was deleted)",
                          "the audit trail is broken after event #{event}, its last: the head counts {n} more events "
                          "(the last ones were deleted)"), "head", prev_id or None, n, n=head[0] - n)
    if head[0] != n or head[1] != prev:
        raise _broken(N_("the audit trail is broken after event #{event}, its last: it does not match the head "
                         "(events were added or the head edited outside preincub)"), "head", prev_id or None, n)
    return AuditRecord(events=n, erased=erased, last=prev_id or None, head=prev)


def check_tables(recorded: Recorded, tables: Mapping[str, Iterable[Mapping[str, Any]]],
                 teams: Iterable[Sequence[Any]], verified: int) -> None:
    """The tables against what the chain recorded (:func:`walk`'s ``recorded``): every figure row as
    its last recording event wrote it (its texts too while that event's salt is known), none written
    or deleted outside preincub, and each team in the phase its last move took it to. ``tables``: the
    rows of :data:`FIGURES`' tables (mappings of :func:`_figure_query`'s columns); ``teams``: (id, phase)."""
    figures = recorded.figures
    for name in FIGURES:
        label = FIGURE_LABELS[name]
        seen = set()
        for row in tables.get(name, ()):
            row_id = row["id"]
            seen.add(row_id)
            found = figures.get((name, row_id))
            if found is None or found[2] is None:
                raise _broken(N_("the audit trail does not match the store: {table!t} #{row} was written outside "
                                 "preincub (no event records it)"), "unrecorded", None, verified,
                              table=label, row=row_id)
            event, salt, values = found
            current = figures_of(name, row, salt)
            for column, value in current.items():
                if values.get(column) != value:
                    raise _broken(N_("the audit trail does not match the store: {table!t} #{row} differs from "
                                     "what event #{event} recorded ({column} was changed outside preincub)"),
                                  "figures", event, verified, table=label, row=row_id, column=column)
        for (kind, row_id), (event, _salt, values) in figures.items():
            if kind == name and values is not None and row_id not in seen:
                raise _broken(N_("the audit trail does not match the store: {table!t} #{row}, recorded by event "
                                 "#{event}, was deleted outside preincub"), "deleted", event, verified,
                              table=label, row=row_id)
    present = set()
    for team_id, phase in teams:
        present.add(team_id)
        found = recorded.phases.get(team_id)
        if found is None:
            raise _broken(N_("the audit trail does not match the store: {table!t} #{row} was written outside "
                             "preincub (no event records it)"), "unrecorded", None, verified,
                          table=FIGURE_LABELS["team"], row=team_id)
        if found[1] != phase:
            raise _broken(N_("the audit trail does not match the store: team #{team} is in the phase {phase}, but "
                             "its last move (event #{event}) took it to {recorded}"), "phase", found[0], verified,
                          team=team_id, phase=phase, recorded=found[1])
    for team_id, (event, _phase) in recorded.phases.items():
        if team_id not in present:
            raise _broken(N_("the audit trail does not match the store: {table!t} #{row}, recorded by event "
                             "#{event}, was deleted outside preincub"), "deleted", event, verified,
                          table=FIGURE_LABELS["team"], row=team_id)


def verify_backup(data: Mapping[str, list[dict[str, Any]]], schema: str) -> AuditRecord | None:
    """A backup's rows (``workflow.backup.rows_of``) checked as ``audit verify`` checks a store, before
    any is written: the chain, and (from schema 0008, when the figures joined it) the tables against
    it. None for a backup from before the chain (0006 or older: it is chained on restore)."""
    if schema < "0007":
        return None
    events = sorted(data.get("event", []), key=lambda r: r["id"])
    head = data.get("audit_head") or []
    released = Released.of([(r["id"], r.get("actor"), r.get("reason"), r.get("data"), r.get("salt"), r.get("digest"))
                            for r in events if r.get("action") in RELEASING])
    recorded = Recorded() if schema >= "0008" else None
    record = walk(([r.get(c) for c in _WALK_COLUMNS] for r in events),
                  (head[0]["count"], head[0]["hash"]) if head else None, len(events), released, recorded)
    if recorded is not None:
        tables = {name: data.get(name, []) for name in FIGURES}
        tables[ROLES] = grouped_roles((r["person_id"], r["role"]) for r in data.get("person_role", []))
        check_tables(recorded, tables,
                     [(t["id"], t.get("phase")) for t in data.get("team", [])], record.events)
    return record


@dataclass(frozen=True)
class Audit:
    """The audit trail as a whole: verifying the chain (coordinators)."""

    ctx: Context

    def verify(self) -> AuditRecord:
        """Walk the chain in id order: each hash recomputed, each personal part not erased checked
        against its digest, each erased one listed by a later erasure or purge, the head against the
        last event. Raises a StoreError (code
        ``audit_broken``) at the first broken link, with the event's id and what differs."""
        store = self.ctx.store
        with store.read() as s:
            if store.dialect == "postgresql":  # one snapshot: the head, the count and the walk agree
                s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            self.ctx.require(s, "audit")
            conn = s.connection()
            head = conn.execute(_READ_HEAD).first()
            total = conn.execute(_COUNT).scalar_one()
            released = Released.of(conn.execute(_RELEASING).all())
            cols = [_EVENT.c[c] for c in _WALK_COLUMNS]
            cols[1] = _AT_TEXT if store.dialect == "postgresql" else store.as_stored(_EVENT.c.at)
            recorded = Recorded()
            # Closed before the session ends, also when the walk stops early at a broken link.
            with closing(store.stored_rows(conn, sa.select(*cols).order_by(_EVENT.c.id))) as rows:
                record = walk(rows, tuple(head) if head is not None else None, total, released, recorded)
            team = figure_table("team")
            check_tables(recorded, {name: _current(conn, name) for name in FIGURES},
                         conn.execute(sa.select(team.c.id, team.c.phase)), record.events)
            return record
