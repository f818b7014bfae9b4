"""Personal data: everything the store holds about a person (right of access), erasing it (right to
erasure), and forgetting the free text of programmes long ended (retention).

Erasure gives the person a pseudonym (name ``erased-<id>``, e-mail ``erased-<id>@erased.invalid``) and
keeps every id, count, phase and date, so reports stay true. It removes what they wrote (the free text
of their check-ins, their assessment notes, the reasons of the events they acted in), deletes the
messages queued for them, rewrites the actor columns that are exactly one of their identities, and
replaces their e-mail (and their full name, when it has two words or more) in the free-text columns of
:data:`SCANNED` (``workflow.scrub``). Events keep their hashed content; their personal part (``actor``,
``reason``, ``data``) is rewritten and its salt forgotten; the erasure's own event lists them, so the
chain stays valid (``workflow.audit``). On SQLite the file is then checkpointed and VACUUMed: no byte
of the old text is left in it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel

from workflow import audit, validate
from workflow.context import SYSTEM, Context
from workflow.deadlines import deadline
from workflow.errors import N_, Invalid, NotFound
from workflow.models import (Agreement, Assessment, CheckIn, Event, Expense, Notice, Outbox, Person, PersonRole,
                             Programme, Team)
from workflow.records import ErasureRecord, PurgeRecord
from workflow.scrub import Scrubber, names, scrubber

FORMAT = "preincub-personal-data"
CHECKIN_TEXT = ("notes", "blockers", "next_steps", "reason")  # a check-in's free text
CHECKIN_EVENTS = ("checkin.log", "checkin.edit")  # events about one check-in (its id in their data)
# The events an erasure or a purge writes: a pseudonymous actor ("person <id>"), the ids of the events
# they rewrote; never rewritten themselves (workflow.audit checks a forgotten salt against them).
RELEASING = audit.RELEASING
FIGURES = audit.FIGURES
NOT_EXPORTED = {"event": ("salt", "digest", "hash")}  # the chain's own values: nothing about the person
# The free-text columns a person may be named in by others: the only ones scanned for their name and
# e-mail. Names and keys (of programmes, partners, teams, people), e-mail and id columns, phases and
# states never are: a person called like a partner does not rename it.
SCANNED = {"team": ("problem", "poc_summary", "poc_link", "committee_opinion"), "assessment": ("note",),
           "checkin": CHECKIN_TEXT, "event": ("reason", "data"), "outbox": ("subject", "body_text", "body_html"),
           "expense": ("label",), "notice": ("breach", "answer")}

# How each table's rows refer to a person: by id (a foreign key to person.id) or by text (their e-mail,
# or "<login> (system user)", in an actor column; the address a message went to), matched exactly. Rows
# that name them in free text are found in the :data:`SCANNED` columns. tests/workflow/test_privacy.py
# checks that every table of the schema with a reference to a person is here.
BY_ID = {"person": "id", "person_role": "person_id", "team_member": "person_id", "checkin": "author_id",
         "event": "actor_id"}
BY_TEXT = {"event": "actor", "assessment": "actor", "agreement": "actor", "outbox": "recipient"}


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
    """The free-text columns a person's name or e-mail could be written in by others (:data:`SCANNED`)."""
    return [table.c[c] for c in SCANNED.get(table.name, ())]


def mentions(conn: sa.Connection, sc: Scrubber) -> dict[str, list[dict[str, Any]]]:
    """Every row whose free text names the person (a LIKE, then the pattern); not the events of
    erasures and purges (pseudonymous, never rewritten)."""
    found: dict[str, list[dict[str, Any]]] = {}
    tables = _tables()
    for name in sorted(SCANNED):
        table, cols = tables[name], _text_columns(tables[name])
        where = sa.or_(*(sc.like(c) for c in cols))
        if name == "event":
            where = sa.and_(where, table.c.action.not_in(RELEASING))
        rows = conn.execute(sa.select(table).where(where).order_by(*table.primary_key.columns)).mappings()
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
            for name, found in mentions(conn, scrubber(p)).items():
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
            out = {name: [_exported(name, r, actors) for _key, r in sorted(by_key.items())]
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
            sc = scrubber(p)
            if names(p, reason):
                raise Invalid(N_("the reason names the person: the erasure is recorded without saying whose data "
                                 "it was; give a reason without any of their names or their e-mail"),
                              code="reason_names_person")
            conn = s.connection()
            record, rewritten, sealed = self._erase(conn, p, sc)
            self._released(s, "person.erase", rewritten, reason=reason, sealed=sealed)
        return ErasureRecord(**record, compacted=self.compact())

    def _released(self, s: Session, action: str, rewritten: list[int], reason: str | None = None,
                  data: dict[str, Any] | None = None, sealed: dict[str, list[int]] | None = None) -> None:
        """The event of an erasure or a purge: it lists the events whose personal part it rewrote (their
        salt forgotten: ``audit verify`` accepts that only for the events such an event lists); its actor
        is pseudonymous ("person <id>"), so a later erasure of that coordinator never rewrites it. It
        records the figures of the rows whose text it changed (``sealed``): their new text is the one
        ``audit verify`` then expects."""
        row = self.ctx.event_row(action, data={**(data or {}), "released": id_ranges(rewritten)}, sealed=sealed)
        row["actor"], row["reason"] = f"person {self.ctx.me(s).id}", reason
        self.ctx.log_rows(s.connection(), [row])

    def _erase(self, conn: sa.Connection, p: dict[str, Any],
               sc: Scrubber) -> tuple[dict[str, Any], list[int], dict[str, list[int]]]:
        """The erasure's rows, in the caller's transaction: the counts of :class:`ErasureRecord`, the
        ids of the events rewritten, and the figure rows whose text changed ({table: [ids]})."""
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
        # every other one only loses their name and e-mail. The salt goes with any rewrite. The events of
        # erasures and purges are pseudonymous and never rewritten (the chain checks forgotten salts by them).
        wrote = sa.or_(event.c.actor_id == pid, event.c.actor.in_(actors))
        about = sa.and_(event.c.action.in_(CHECKIN_EVENTS),
                        event.c.team_id.in_(sorted(set(mine.values()))))
        cols = [event.c.id, event.c.actor_id, event.c.action, event.c.actor, event.c.reason, event.c.data]
        rewritten = []
        for r in conn.execute(sa.select(*cols).where(event.c.action.not_in(RELEASING), sa.or_(
                wrote, about, sc.like(event.c.reason), sc.like(event.c.data))).order_by(event.c.id)).all():
            authored = r.actor_id == pid or r.actor in actors
            theirs = r.action in CHECKIN_EVENTS and _checkin_of(r.data) in mine
            new = (sc.to_email if authored else r.actor, None if authored or theirs else sc.text(r.reason),
                   sc.json(r.data, _without_checkin_text if theirs else None))
            if new != (r.actor, r.reason, r.data):
                conn.execute(sa.update(event).where(event.c.id == r.id)
                             .values(actor=new[0], reason=new[1], data=new[2], salt=None))
                rewritten.append(r.id)
        rows = 0
        sealed = {"checkin": list(mine), audit.ROLES: [pid]}  # their roles are gone with them
        for name, found in mentions(conn, sc).items():
            if name in ("event", "person"):
                continue
            rows += self._scrub(conn, _tables()[name], found, sc)
            if name in FIGURES:
                sealed[name] = sealed.get(name, []) + [r["id"] for r in found]
        conn.execute(sa.delete(PersonRole.__table__).where(PersonRole.__table__.c.person_id == pid))
        person = Person.__table__
        conn.execute(sa.update(person).where(person.c.id == pid).values(
            name=sc.to_name, email=sc.to_email, login=None, link_generation=person.c.link_generation + 1,
            erased_at=self.ctx.clock.now()))
        return ({"pseudonym": sc.to_email, "checkins": len(mine), "events": len(rewritten), "messages": messages,
                 "rows": rows}, rewritten, sealed)

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
        """Remove the free text of every programme whose deadline is before ``before``: the text of
        check-ins, assessment notes, event reasons (also of formal notices and their answers), the text
        of check-in corrections in events, formal notices' breach and answer, expense labels (in their
        rows and events). Counts, amounts, phases, dates, team records and the committee's opinions
        stay; ``dry_run`` writes nothing."""
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
            ids = [pid for pid, _ in ended]
            teams = sa.select(Team.id).where(Team.programme_id.in_(ids))
            checkin, assessment = CheckIn.__table__, Assessment.__table__
            notice, expense = Notice.__table__, Expense.__table__
            has_text = sa.and_(checkin.c.team_id.in_(teams), sa.or_(*(checkin.c[c].is_not(None) for c in CHECKIN_TEXT)))
            noted = sa.and_(assessment.c.team_id.in_(teams), assessment.c.note.is_not(None))
            worded = sa.and_(notice.c.programme_id.in_(ids), sa.or_(notice.c.breach != "", notice.c.answer != ""))
            labelled = sa.and_(expense.c.programme_id.in_(ids), expense.c.label != "")
            count = sa.select(sa.func.count())
            checkins = conn.execute(count.select_from(checkin).where(has_text)).scalar_one()
            assessments = conn.execute(count.select_from(assessment).where(noted)).scalar_one()
            notices = conn.execute(count.select_from(notice).where(worded)).scalar_one()
            expenses = conn.execute(count.select_from(expense).where(labelled)).scalar_one()
            rewrites = _purged_events(conn, teams, {name for _, name in ended})
            record = PurgeRecord(before.isoformat(), dry_run, tuple(n for _, n in ended), checkins, assessments,
                                 len(rewrites), notices, expenses)
            if dry_run or not (checkins or assessments or rewrites or notices or expenses):
                return record
            sealed = {name: list(conn.execute(sa.select(table.c.id).where(cond)).scalars())
                      for name, table, cond in (("checkin", checkin, has_text), ("notice", notice, worded),
                                                ("expense", expense, labelled))}
            conn.execute(sa.update(checkin).where(has_text).values(**dict.fromkeys(CHECKIN_TEXT)))
            conn.execute(sa.update(assessment).where(noted).values(note=None))
            conn.execute(sa.update(notice).where(worded).values(
                breach="", answer=sa.case((notice.c.answer.is_(None), None), else_="")))
            conn.execute(sa.update(expense).where(labelled).values(label=""))
            if rewrites:
                event = Event.__table__
                conn.execute(sa.update(event).where(event.c.id == sa.bindparam("event_id"))
                             .values(reason=None, data=sa.bindparam("new_data"), salt=None), rewrites)
            self._released(s, "purge", [r["event_id"] for r in rewrites], data={
                "before": before.isoformat(), "programmes": list(record.programmes), "checkins": checkins,
                "assessments": assessments, "notices": notices, "expenses": expenses, "events": len(rewrites)},
                sealed=sealed)
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


# Messages to others that mention the person are other people's data (GDPR article 15(4)): the export
# lists them by id and dates only, marked withheld; their text is not given.
WITHHELD = ("id", "created_at", "sent_at")


def _exported(table: str, row: dict[str, Any], actors: list[str]) -> dict[str, Any]:
    """One row of the export, as plain JSON values."""
    if table == "outbox" and row["recipient"] not in actors:
        return {**{k: _plain(row[k]) for k in WITHHELD}, "withheld": True}
    return {k: _plain(v) for k, v in row.items() if k not in NOT_EXPORTED.get(table, ())}


def _actors(p: dict[str, Any]) -> list[str]:
    """How events, assessments and agreements name the person as their actor: their e-mail, or the
    system user whose login they have."""
    return [p["email"]] + ([p["login"] + SYSTEM] if p["login"] else [])


def id_ranges(ids: list[int]) -> list[list[int]]:
    """Event ids as ranges [[first, last], ...]: what an erasure or a purge records it rewrote."""
    out: list[list[int]] = []
    for i in sorted(set(ids)):
        if out and out[-1][1] == i - 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def _checkin_of(data: str | None) -> int | None:
    try:
        value = json.loads(data) if data else None
    except ValueError:
        return None
    return value.get("checkin") if isinstance(value, dict) else None


def _purged_events(conn: sa.Connection, teams: sa.Select, programmes: set[str]) -> list[dict[str, Any]]:
    """The events a purge rewrites (``event_id``, ``new_data``; their reason goes): those of the ended
    programmes' teams with a reason or a check-in correction, and those of the programmes themselves
    (formal notices, expenses: no team, the programme named in their data) with a reason or a label."""
    event = Event.__table__
    rows = conn.execute(sa.select(event.c.id, event.c.reason, event.c.data, event.c.action, event.c.team_id).where(
        event.c.action.not_in(RELEASING), sa.or_(
            sa.and_(event.c.team_id.in_(teams), sa.or_(event.c.reason.is_not(None), event.c.action == "checkin.edit")),
            sa.and_(event.c.team_id.is_(None), event.c.data.is_not(None)))).order_by(event.c.id))
    out = []
    for eid, reason, data, action, team_id in rows:
        value = _loads(data)
        if team_id is None:
            if not (isinstance(value, dict) and value.get("programme") in programmes):
                continue
            new = value if value.get("label") is None else {**value, "label": None}
        else:
            new = _without_checkin_text(value) if action == "checkin.edit" else value
        new_data = data if new == value else json.dumps(new, ensure_ascii=False, sort_keys=True)
        if reason is not None or new_data != data:
            out.append({"event_id": eid, "new_data": new_data})
    return out


def _loads(data: str | None) -> Any:
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None
