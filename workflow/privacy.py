"""Personal data: everything the store holds about a person (right of access), erasing it (right to
erasure), and forgetting the free-text notes of programmes long ended (retention).

Erasure gives the person a pseudonym (name ``erased-<id>``, e-mail ``erased-<id>@erased.invalid``) and
keeps every id, count, phase and date, so reports stay true. It removes what they wrote (the free text
of their check-ins, their assessment notes, the reasons of the events they acted in), deletes the
messages queued for them, and rewrites their name and e-mail wherever any text column of any table
holds them. Events keep their hashed content; their personal part (``actor``, ``reason``, ``data``) is
rewritten and its salt forgotten, so the chain stays valid (``workflow.audit``). On SQLite the file is
then checkpointed and VACUUMed: no byte of the old text is left in it.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa
from markupsafe import escape
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel

from workflow import validate
from workflow.context import SYSTEM, Context
from workflow.deadlines import deadline
from workflow.errors import N_, Invalid, NotFound
from workflow.models import Agreement, Assessment, CheckIn, Event, Outbox, Person, PersonRole, Programme, Team
from workflow.records import ErasureRecord, PurgeRecord

FORMAT = "preincub-personal-data"
ERASED_DOMAIN = "erased.invalid"  # RFC 2606: never a real address
CHECKIN_TEXT = ("notes", "blockers", "next_steps", "reason")  # a check-in's free text
CHECKIN_EVENTS = ("checkin.log", "checkin.edit")  # events about one check-in (its id in their data)
# The event columns the chain's hash covers (and the salt, only ever forgotten): never rewritten.
HASHED = frozenset(("id", "at", "actor_id", "team_id", "action", "trigger", "from_phase", "to_phase", "forced",
                    "digest", "hash", "salt"))
NOT_SCANNED = {"event": HASHED, "audit_head": frozenset(("hash",))}
NOT_EXPORTED = {"event": ("salt", "digest", "hash")}  # the chain's own values: nothing about the person

# How each table's rows refer to a person: by id (a foreign key to person.id) or by text (their e-mail,
# or "<login> (system user)", in an actor column; the address a message went to). Rows that name them
# in any other text are found by a scan of every text column. tests/workflow/test_privacy.py checks
# that every table of the schema with a reference to a person is here.
BY_ID = {"person": "id", "person_role": "person_id", "team_member": "person_id", "checkin": "author_id",
         "event": "actor_id"}
BY_TEXT = {"event": "actor", "assessment": "actor", "agreement": "actor", "outbox": "recipient"}


def pseudonym(person_id: int) -> tuple[str, str]:
    """The name and e-mail an erased person keeps: their id, nothing else."""
    return f"erased-{person_id}", f"erased-{person_id}@{ERASED_DOMAIN}"


@dataclass(frozen=True)
class Scrubber:
    """Finds a person's name and e-mail in text (as typed, HTML-escaped or JSON-escaped, any case; the
    name as a whole word) and replaces them with their pseudonym."""

    email: re.Pattern
    name: re.Pattern
    needles: tuple[str, ...]  # what an SQL LIKE looks for first
    to_email: str
    to_name: str

    @classmethod
    def of(cls, person_id: int, name: str, email: str) -> Scrubber:
        def forms(s: str) -> list[str]:
            return list(dict.fromkeys((s, html.escape(s), str(escape(s)), json.dumps(s, ensure_ascii=False)[1:-1])))

        def pattern(items: list[str], word: bool) -> re.Pattern:
            alts = "|".join(re.escape(x) for x in sorted(items, key=len, reverse=True))
            return re.compile(rf"(?<!\w)(?:{alts})(?!\w)" if word else f"(?:{alts})", re.IGNORECASE)

        to_name, to_email = pseudonym(person_id)
        return cls(pattern(forms(email), False), pattern(forms(name), True), tuple(forms(email) + forms(name)),
                   to_email, to_name)

    def finds(self, text: str | None) -> bool:
        return text is not None and bool(self.email.search(text) or self.name.search(text))

    def text(self, text: str | None) -> str | None:
        if not self.finds(text):
            return text
        return self.name.sub(self.to_name, self.email.sub(self.to_email, text))  # type: ignore[arg-type]

    def json(self, data: str | None, drop: Callable[[Any], Any] | None = None) -> str | None:
        """Event data: every string in it scrubbed (``drop`` may blank parts first); text kept as is."""
        if data is None:
            return None
        try:
            value = json.loads(data)
        except ValueError:
            return self.text(data)
        new = _walk(drop(value) if drop else value, self.text)
        return data if new == value else json.dumps(new, ensure_ascii=False, sort_keys=True)

    def like(self, column: sa.Column) -> sa.ColumnElement:
        """A first filter in SQL (any case on PostgreSQL, ASCII case on SQLite); :meth:`finds` decides."""
        return sa.or_(*(column.ilike("%" + re.sub(r"([\\%_])", r"\\\1", n) + "%", escape="\\") for n in self.needles))


def _walk(value: Any, f: Callable[[str], str | None]) -> Any:
    if isinstance(value, str):
        return f(value)
    if isinstance(value, list):
        return [_walk(v, f) for v in value]
    if isinstance(value, dict):
        return {k: _walk(v, f) for k, v in value.items()}
    return value


def _without_checkin_text(value: Any) -> Any:
    """A ``checkin.edit`` event's data with the free text of the changes blanked (what changed stays)."""
    if isinstance(value, dict) and isinstance(value.get("changes"), dict):
        return {**value, "changes": {k: ([None] * len(v) if k in CHECKIN_TEXT and isinstance(v, list) else v)
                                     for k, v in value["changes"].items()}}
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _tables() -> dict[str, sa.Table]:
    return {t.name: t for t in SQLModel.metadata.sorted_tables}


def _text_columns(table: sa.Table) -> list[sa.Column]:
    """The columns a person's name or e-mail could be written in (not the keys, not the chain's values)."""
    skip = NOT_SCANNED.get(table.name, frozenset())
    return [c for c in table.columns if isinstance(getattr(c.type, "impl", c.type), sa.String) and not c.primary_key
            and c.name not in skip]


def mentions(conn: sa.Connection, sc: Scrubber) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table with a text column that names the person (a LIKE, then the pattern)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for name, table in _tables().items():
        cols = _text_columns(table)
        if not cols:
            continue
        rows = conn.execute(sa.select(table).where(sa.or_(*(sc.like(c) for c in cols)))
                            .order_by(*table.primary_key.columns)).mappings()
        hits = [dict(r) for r in rows if any(sc.finds(r[c.name]) for c in cols)]
        if hits:
            found[name] = hits
    return found


@dataclass(frozen=True)
class Privacy:
    """Personal data: the right of access, the right to erasure, and retention (the purge)."""

    ctx: Context

    # ---- access --------------------------------------------------------------------------

    def export(self, email: str) -> dict[str, Any]:
        """Everything held about the person, table by table, as plain JSON values (coordinators, or the
        person themselves): the rows that refer to them, the rows that name them, their teams."""
        with self.ctx.store.read() as s:
            p = self._person(s, email)
            if self.ctx.me(s).id != p["id"]:
                self.ctx.require(s, "privacy")
            conn = s.connection()
            tables = _tables()
            actors = _actors(p)
            rows: dict[str, dict[tuple, dict[str, Any]]] = {}

            def add(name: str, found: list[dict[str, Any]]) -> None:
                pk = [c.name for c in tables[name].primary_key.columns]
                for r in found:
                    rows.setdefault(name, {})[tuple(r[k] for k in pk)] = r

            for name in sorted(set(BY_ID) | set(BY_TEXT)):
                t = tables[name]
                cond = [t.c[BY_ID[name]] == p["id"]] if name in BY_ID else []
                cond += [t.c[BY_TEXT[name]].in_(actors)] if name in BY_TEXT else []
                rows.setdefault(name, {})  # listed even when empty: the export says it looked there
                add(name, [dict(r) for r in conn.execute(sa.select(t).where(sa.or_(*cond))).mappings()])
            for name, found in mentions(conn, _scrubber(p)).items():
                add(name, found)
            mine = {r["id"]: r["team_id"] for r in rows["checkin"].values() if r["author_id"] == p["id"]}
            if mine:  # the events of their check-ins, also when someone else corrected one
                ev = tables["event"]
                add("event", [dict(r) for r in conn.execute(sa.select(ev).where(
                    ev.c.action.in_(CHECKIN_EVENTS), ev.c.team_id.in_(sorted(set(mine.values()))))).mappings()
                    if _checkin_of(r["data"]) in mine])
            teams = ({r["team_id"] for r in rows["team_member"].values()}
                     | {r["team_id"] for r in rows["checkin"].values()})
            if teams:
                add("team", [dict(r) for r in conn.execute(sa.select(tables["team"])
                                                           .where(tables["team"].c.id.in_(sorted(teams)))).mappings()])
            out = {name: [{k: _plain(v) for k, v in r.items() if k not in NOT_EXPORTED.get(name, ())}
                          for _key, r in sorted(by_key.items())]
                   for name, by_key in sorted(rows.items())}
            return {"format": FORMAT, "version": 1, "exported_at": _plain(self.ctx.clock.now()),
                    "person": {k: _plain(v) for k, v in p.items()}, "tables": out}

    # ---- erasure -------------------------------------------------------------------------

    def erase(self, email: str, reason: str) -> ErasureRecord:
        """Replace the person with a pseudonym everywhere (coordinators; not oneself); audited without
        saying whose data it was. On SQLite the file is compacted afterwards (see :meth:`compact`)."""
        reason = validate.text(reason, "reason")
        with self.ctx.store.write() as s:
            self.ctx.require(s, "privacy")
            p = self._person(s, email)
            if p["erased_at"] is not None:
                raise Invalid(N_("{email} is already erased"), code="already_erased", email=p["email"])
            if self.ctx.me(s).id == p["id"]:
                raise Invalid(N_("you may not erase yourself: ask another coordinator (an erasure records who "
                                 "made it)"), code="erase_yourself")
            sc = _scrubber(p)
            if sc.finds(reason):
                raise Invalid(N_("the reason names the person: the erasure is recorded without saying whose data "
                                 "it was; give a reason without their name or e-mail"), code="reason_names_person")
            record = self._erase(s.connection(), p, sc)
            self.ctx.event(s, "person.erase", reason=reason)
        return ErasureRecord(**record, compacted=self.compact())

    def _erase(self, conn: sa.Connection, p: dict[str, Any], sc: Scrubber) -> dict[str, Any]:
        """The erasure's rows, in the caller's transaction; the counts of :class:`ErasureRecord`."""
        pid, actors = p["id"], _actors(p)
        checkin, event, outbox = CheckIn.__table__, Event.__table__, Outbox.__table__
        mine = dict(conn.execute(sa.select(checkin.c.id, checkin.c.team_id).where(checkin.c.author_id == pid)).all())
        conn.execute(sa.update(checkin).where(checkin.c.author_id == pid).values(**dict.fromkeys(CHECKIN_TEXT)))
        conn.execute(sa.update(Assessment.__table__).where(Assessment.__table__.c.actor.in_(actors))
                     .values(actor=sc.to_email, note=None))
        conn.execute(sa.update(Agreement.__table__).where(Agreement.__table__.c.actor.in_(actors))
                     .values(actor=sc.to_email))
        messages = conn.execute(sa.delete(outbox).where(sa.or_(outbox.c.recipient.in_(actors),
                                                               outbox.c.key.like(f"%:p{pid}:%")))).rowcount
        # Events: those they acted in lose their reason; those about their check-ins, the check-in's text;
        # every other one only loses their name and e-mail. The salt goes with any rewrite.
        wrote = sa.or_(event.c.actor_id == pid, event.c.actor.in_(actors))
        about = sa.and_(event.c.action.in_(CHECKIN_EVENTS),
                        event.c.team_id.in_(sorted(set(mine.values()))))
        cols = [event.c.id, event.c.actor_id, event.c.action, event.c.actor, event.c.reason, event.c.data]
        events = 0
        for r in conn.execute(sa.select(*cols).where(sa.or_(wrote, about, *(sc.like(c) for c in cols[3:])))).all():
            authored = r.actor_id == pid or r.actor in actors
            theirs = r.action in CHECKIN_EVENTS and _checkin_of(r.data) in mine
            new = (sc.to_email if authored else sc.text(r.actor), None if authored or theirs else sc.text(r.reason),
                   sc.json(r.data, _without_checkin_text if theirs else None))
            if new != (r.actor, r.reason, r.data):
                conn.execute(sa.update(event).where(event.c.id == r.id)
                             .values(actor=new[0], reason=new[1], data=new[2], salt=None))
                events += 1
        rows = 0
        for name, found in mentions(conn, sc).items():
            if name in ("event", "person"):
                continue
            rows += self._scrub(conn, _tables()[name], found, sc)
        conn.execute(sa.delete(PersonRole.__table__).where(PersonRole.__table__.c.person_id == pid))
        person = Person.__table__
        conn.execute(sa.update(person).where(person.c.id == pid).values(
            name=sc.to_name, email=sc.to_email, login=None, link_generation=person.c.link_generation + 1,
            erased_at=self.ctx.clock.now()))
        return {"pseudonym": sc.to_email, "checkins": len(mine), "events": events, "messages": messages, "rows": rows}

    @staticmethod
    def _scrub(conn: sa.Connection, table: sa.Table, found: list[dict[str, Any]], sc: Scrubber) -> int:
        pk = list(table.primary_key.columns)
        n = 0
        for r in found:
            new = {c.name: sc.text(r[c.name]) for c in _text_columns(table) if sc.finds(r[c.name])}
            if new:
                conn.execute(sa.update(table).where(*(c == r[c.name] for c in pk)).values(**new))
                n += 1
        return n

    def compact(self) -> bool:
        """On SQLite: checkpoint the WAL into the file, VACUUM (the file rewritten from its live rows only:
        no freed page keeps old text), and truncate the WAL. False when another process held it open
        (then old bytes may remain until the next VACUUM) or on PostgreSQL (see the README)."""
        store = self.ctx.store
        if store.dialect != "sqlite":
            return False
        raw = store.engine.raw_connection()  # the store's connections are in autocommit: VACUUM needs that
        try:
            cur = raw.cursor()
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cur.execute("VACUUM")
            busy = cur.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            cur.close()
            return not busy
        except (sqlite3.Error, DBAPIError):
            return False
        finally:
            raw.close()

    # ---- retention -----------------------------------------------------------------------

    def purge(self, before: date, *, dry_run: bool = False) -> PurgeRecord:
        """Remove the free-text notes of every programme whose deadline is before ``before``: the text of
        check-ins, assessment notes, event reasons and the text of check-in corrections in events.
        Counts, phases, dates, team records and the committee's opinions stay; ``dry_run`` writes nothing."""
        validate.plausible_date(before, N_("the purge date"))
        today = self.ctx.clock.today()
        if before > today:
            raise Invalid(N_("the purge date, {before!d}, is after today ({today!d}): only programmes already ended "
                             "are purged"), code="purge_in_future", before=before, today=today)
        with (self.ctx.store.read() if dry_run else self.ctx.store.write()) as s:
            self.ctx.require(s, "privacy")
            conn = s.connection()
            ended = [(pid, name) for pid, name, signed, months in conn.execute(
                sa.select(Programme.id, Programme.name, Programme.signed_on, Programme.months).order_by(Programme.name))
                if deadline(signed, months) < before]
            teams = sa.select(Team.id).where(Team.programme_id.in_([pid for pid, _ in ended]))
            checkin, assessment, event = CheckIn.__table__, Assessment.__table__, Event.__table__
            has_text = sa.and_(checkin.c.team_id.in_(teams), sa.or_(*(checkin.c[c].is_not(None) for c in CHECKIN_TEXT)))
            noted = sa.and_(assessment.c.team_id.in_(teams), assessment.c.note.is_not(None))
            count = sa.select(sa.func.count())
            checkins = conn.execute(count.select_from(checkin).where(has_text)).scalar_one()
            assessments = conn.execute(count.select_from(assessment).where(noted)).scalar_one()
            rewrites = []
            for eid, reason, data, action in conn.execute(
                    sa.select(event.c.id, event.c.reason, event.c.data, event.c.action).where(
                        event.c.team_id.in_(teams),
                        sa.or_(event.c.reason.is_not(None), event.c.action == "checkin.edit"))
                    .order_by(event.c.id)):
                new = _purged_data(data) if action == "checkin.edit" else data
                if reason is not None or new != data:
                    rewrites.append({"event_id": eid, "new_data": new})
            record = PurgeRecord(before.isoformat(), dry_run, tuple(n for _, n in ended), checkins, assessments,
                                 len(rewrites))
            if dry_run or not (checkins or assessments or rewrites):
                return record
            conn.execute(sa.update(checkin).where(has_text).values(**dict.fromkeys(CHECKIN_TEXT)))
            conn.execute(sa.update(assessment).where(noted).values(note=None))
            if rewrites:
                conn.execute(sa.update(event).where(event.c.id == sa.bindparam("event_id"))
                             .values(reason=None, data=sa.bindparam("new_data"), salt=None), rewrites)
            self.ctx.event(s, "purge", data={"before": before.isoformat(), "programmes": list(record.programmes),
                                             "checkins": checkins, "assessments": assessments, "events": len(rewrites)})
        self.compact()
        return record

    # ---- lookups -------------------------------------------------------------------------

    @staticmethod
    def _person(s: Session, email: str) -> dict[str, Any]:
        addr = validate.email(email, local=True)
        row = s.connection().execute(sa.select(Person.__table__).where(Person.email == addr)).mappings().first()
        if row is None:
            raise NotFound(N_("no person with the e-mail {email} in this store (never added, or erased since)"),
                           code="no_such_person", email=addr)
        return dict(row)


def _actors(p: dict[str, Any]) -> list[str]:
    """How events, assessments and agreements name the person as their actor: their e-mail, or the
    system user whose login they have."""
    return [p["email"]] + ([p["login"] + SYSTEM] if p["login"] else [])


def _scrubber(p: dict[str, Any]) -> Scrubber:
    return Scrubber.of(p["id"], p["name"], p["email"])


def _checkin_of(data: str | None) -> int | None:
    try:
        value = json.loads(data) if data else None
    except ValueError:
        return None
    return value.get("checkin") if isinstance(value, dict) else None


def _purged_data(data: str | None) -> str | None:
    """A ``checkin.edit`` event's data without the text of the changes (None when there is none)."""
    if data is None:
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return data
    new = _without_checkin_text(value)
    return data if new == value else json.dumps(new, ensure_ascii=False, sort_keys=True)
