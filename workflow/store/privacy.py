"""Personal data in the store: where a person is referred to or named, and the statements that erase
them or purge the free text of ended programmes (``workflow.services.privacy`` decides what to write).

The events of erasures and purges (:data:`workflow.store.events.RELEASING`) are never read here for
rewriting: they are pseudonymous, and the audit chain checks forgotten salts by them.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel

from workflow.rules.scrub import Scrubber
from workflow.store.engine import Store
from workflow.store.events import RELEASING
from workflow.store.models import (Agreement, Assessment, CheckIn, Event, Expense, Notice, Outbox, Person,
                                   PersonGrant, PersonMute, PersonRole, Programme, Team,
                                   WebSession)

CHECKIN_TEXT = ("notes", "blockers", "next_steps", "reason")  # a check-in's free text
CHECKIN_EVENTS = ("checkin.log", "checkin.edit")  # events about one check-in (its id in their data)
# The free-text columns a person may be named in by others: the only ones scanned for their name and
# e-mail. Names and keys (of programmes, partners, teams, people), e-mail and id columns, phases and
# states never are: a person called like a partner does not rename it.
SCANNED = {"team": ("problem", "poc_summary", "poc_link", "committee_opinion"), "assessment": ("note",),
           "checkin": CHECKIN_TEXT, "event": ("reason", "data"), "outbox": ("subject", "body_text", "body_html"),
           "expense": ("label",), "notice": ("breach", "answer")}

# How each table's rows refer to a person: by id (a foreign key to person.id) or by text (their e-mail,
# or "<login> (system user)", in an actor column; the address a message went to), matched exactly. Rows
# that name them in free text are found in the :data:`SCANNED` columns. tests/workflow/services/test_privacy.py
# checks that every table of the schema with a reference to a person is here.
BY_ID = {"person": "id", "person_role": "person_id", "person_grant": "person_id", "team_member": "person_id",
         "checkin": "author_id", "event": "actor_id", "person_mute": "person_id", "web_session": "person_id",
         "inbound_mail": "person_id"}
BY_TEXT = {"event": "actor", "assessment": "actor", "agreement": "actor", "outbox": "recipient"}

Row = dict[str, Any]


def _tables() -> dict[str, sa.Table]:
    return {t.name: t for t in SQLModel.metadata.sorted_tables}


def _text_columns(table: sa.Table) -> list[sa.Column]:
    """The free-text columns a person's name or e-mail could be written in by others (:data:`SCANNED`)."""
    return [table.c[c] for c in SCANNED.get(table.name, ())]


def _like(sc: Scrubber, column: Any) -> Any:
    """A first filter in SQL, any case on both databases (the scrubber's ``needles``); ``sc.finds`` decides."""
    return sa.or_(*(column.ilike(n, escape="\\") for n in sc.needles))


def primary_key(name: str) -> list[str]:
    """The primary key columns of table ``name``."""
    return [c.name for c in _tables()[name].primary_key.columns]


def person(s: Session, email: str) -> Row | None:
    """The row of the person with the e-mail ``email``, or None."""
    row = s.connection().execute(sa.select(Person.__table__).where(Person.email == email)).mappings().first()
    return None if row is None else dict(row)


def referring(s: Session, person_id: int, actors: list[str]) -> dict[str, list[Row]]:
    """The rows of each table of :data:`BY_ID` and :data:`BY_TEXT` that refer to the person, by id or as
    one of ``actors``; each table listed, also when none does."""
    tables, conn = _tables(), s.connection()
    out = {}
    for name in sorted(set(BY_ID) | set(BY_TEXT)):
        t = tables[name]
        cond = [t.c[BY_ID[name]] == person_id] if name in BY_ID else []
        cond += [t.c[BY_TEXT[name]].in_(actors)] if name in BY_TEXT else []
        out[name] = [dict(r) for r in conn.execute(sa.select(t).where(sa.or_(*cond))).mappings()]
    return out


def mentions(s: Session, sc: Scrubber) -> dict[str, list[Row]]:
    """Every row whose free text names the person (a LIKE, then the pattern); not the events of
    erasures and purges."""
    found: dict[str, list[Row]] = {}
    tables, conn = _tables(), s.connection()
    for name in sorted(SCANNED):
        table, cols = tables[name], _text_columns(tables[name])
        where = sa.or_(*(_like(sc, c) for c in cols))
        if name == "event":
            where = sa.and_(where, table.c.action.not_in(RELEASING))
        rows = conn.execute(sa.select(table).where(where).order_by(*table.primary_key.columns)).mappings()
        hits = [dict(r) for r in rows if any(sc.finds(r[c.name]) for c in cols)]
        if hits:
            found[name] = hits
    return found


def checkin_events(s: Session, team_ids: list[int]) -> list[Row]:
    """The events about check-ins of the teams ``team_ids``."""
    ev = Event.__table__
    return [dict(r) for r in s.connection().execute(sa.select(ev).where(
        ev.c.action.in_(CHECKIN_EVENTS), ev.c.team_id.in_(team_ids))).mappings()]


def teams(s: Session, team_ids: list[int]) -> list[Row]:
    """The rows of the teams ``team_ids``."""
    team = Team.__table__
    return [dict(r) for r in s.connection().execute(sa.select(team).where(team.c.id.in_(team_ids))).mappings()]


# ---- erasure ------------------------------------------------------------------------------------

def blank_checkins(s: Session, person_id: int) -> dict[int, int]:
    """Blank the free text of the person's check-ins: {check-in id: team id} of them."""
    conn, checkin = s.connection(), CheckIn.__table__
    mine = dict(conn.execute(sa.select(checkin.c.id, checkin.c.team_id).where(checkin.c.author_id == person_id)).all())
    conn.execute(sa.update(checkin).where(checkin.c.author_id == person_id).values(**dict.fromkeys(CHECKIN_TEXT)))
    return mine


def pseudonymous_actor(s: Session, actors: list[str], pseudonym: str) -> None:
    """The assessments and agreements the person made: their actor the pseudonym; assessment notes gone."""
    conn, assessment, agreement = s.connection(), Assessment.__table__, Agreement.__table__
    conn.execute(sa.update(assessment).where(assessment.c.actor.in_(actors)).values(actor=pseudonym, note=None))
    conn.execute(sa.update(agreement).where(agreement.c.actor.in_(actors)).values(actor=pseudonym))


def drop_messages(s: Session, person_id: int, actors: list[str]) -> int:
    """Delete the messages queued for the person (to one of ``actors``, or keyed by them); how many."""
    outbox = Outbox.__table__
    return s.connection().execute(sa.delete(outbox).where(sa.or_(outbox.c.recipient.in_(actors),
                                                                 outbox.c.key.like(f"%:p{person_id}:%")))).rowcount


def events_to_rewrite(s: Session, person_id: int, actors: list[str], team_ids: list[int], sc: Scrubber) -> list[Any]:
    """(id, actor_id, action, actor, reason, data) of the events an erasure may rewrite, by id: those the
    person acted in, those about check-ins of ``team_ids``, and those whose reason or data names them."""
    event = Event.__table__
    wrote = sa.or_(event.c.actor_id == person_id, event.c.actor.in_(actors))
    about = sa.and_(event.c.action.in_(CHECKIN_EVENTS), event.c.team_id.in_(team_ids))
    cols = [event.c.id, event.c.actor_id, event.c.action, event.c.actor, event.c.reason, event.c.data]
    return list(s.connection().execute(sa.select(*cols).where(event.c.action.not_in(RELEASING), sa.or_(
        wrote, about, _like(sc, event.c.reason), _like(sc, event.c.data))).order_by(event.c.id)).all())


def rewrite_event(s: Session, event_id: int, actor: str | None, reason: str | None, data: str | None) -> None:
    """An event's personal part rewritten, and its salt forgotten."""
    event = Event.__table__
    s.connection().execute(sa.update(event).where(event.c.id == event_id)
                           .values(actor=actor, reason=reason, data=data, salt=None))


def scrub_rows(s: Session, name: str, found: list[Row], sc: Scrubber) -> int:
    """Replace the person's name and e-mail in the free text of the rows ``found`` of table ``name``;
    how many rows changed."""
    table, conn = _tables()[name], s.connection()
    pk = list(table.primary_key.columns)
    n = 0
    for r in found:
        new = {c.name: sc.text(r[c.name]) for c in _text_columns(table) if sc.finds(r[c.name])}
        if new:
            conn.execute(sa.update(table).where(*(c == r[c.name] for c in pk)).values(**new))
            n += 1
    return n


def pseudonymise(s: Session, person_id: int, sc: Scrubber, now: datetime) -> None:
    """The person's roles, grants, mutes and web sessions removed, and the person given their pseudonym
    (their links no longer valid)."""
    conn, person_ = s.connection(), Person.__table__
    for table in (PersonRole.__table__, PersonGrant.__table__, PersonMute.__table__, WebSession.__table__):
        conn.execute(sa.delete(table).where(table.c.person_id == person_id))
    conn.execute(sa.update(person_).where(person_.c.id == person_id).values(
        name=sc.to_name, email=sc.to_email, login=None, link_generation=person_.c.link_generation + 1,
        erased_at=now))


def compact(store: Store) -> bool:
    """On SQLite: checkpoint the WAL into the file, VACUUM (the file rewritten from its live rows only:
    no freed page keeps old text), and truncate the WAL. False when another process held it open
    (then old bytes may remain until the next VACUUM) or on PostgreSQL."""
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


# ---- retention ----------------------------------------------------------------------------------

def programmes(s: Session) -> list[tuple[int, str, Any, int]]:
    """(id, name, signed on, months) of every programme, by name."""
    return [tuple(r) for r in s.connection().execute(
        sa.select(Programme.id, Programme.name, Programme.signed_on, Programme.months).order_by(Programme.name))]


class Purge:
    """The rows with free text of the programmes ``ids`` (ended): counted, then blanked."""

    def __init__(self, s: Session, ids: list[int]) -> None:
        self.conn = s.connection()
        self.teams = sa.select(Team.id).where(Team.programme_id.in_(ids))
        checkin, assessment = CheckIn.__table__, Assessment.__table__
        notice, expense = Notice.__table__, Expense.__table__
        self.texts = {  # table name: (table, the rows with text to blank)
            "checkin": (checkin, sa.and_(checkin.c.team_id.in_(self.teams),
                                         sa.or_(*(checkin.c[c].is_not(None) for c in CHECKIN_TEXT)))),
            "assessment": (assessment, sa.and_(assessment.c.team_id.in_(self.teams), assessment.c.note.is_not(None))),
            "notice": (notice, sa.and_(notice.c.programme_id.in_(ids),
                                       sa.or_(notice.c.breach != "", notice.c.answer != ""))),
            "expense": (expense, sa.and_(expense.c.programme_id.in_(ids), expense.c.label != "")),
        }

    def count(self, name: str) -> int:
        table, cond = self.texts[name]
        return self.conn.execute(sa.select(sa.func.count()).select_from(table).where(cond)).scalar_one()

    def ids(self, name: str) -> list[int]:
        table, cond = self.texts[name]
        return list(self.conn.execute(sa.select(table.c.id).where(cond)).scalars())

    def events(self) -> list[Any]:
        """(id, reason, data, action, team_id) of the events a purge may rewrite: those of the ended
        programmes' teams with a reason or a check-in correction, and those of no team with data (the
        caller keeps those naming an ended programme)."""
        event = Event.__table__
        return list(self.conn.execute(sa.select(event.c.id, event.c.reason, event.c.data, event.c.action,
                                                event.c.team_id).where(
            event.c.action.not_in(RELEASING), sa.or_(
                sa.and_(event.c.team_id.in_(self.teams),
                        sa.or_(event.c.reason.is_not(None), event.c.action == "checkin.edit")),
                sa.and_(event.c.team_id.is_(None), event.c.data.is_not(None)))).order_by(event.c.id)))

    def blank(self, rewrites: list[Row]) -> None:
        """Blank the free text; the events ``rewrites`` (``event_id``, ``new_data``) lose their reason and salt."""
        conn = self.conn
        checkin, has_text = self.texts["checkin"]
        assessment, noted = self.texts["assessment"]
        notice, worded = self.texts["notice"]
        expense, labelled = self.texts["expense"]
        conn.execute(sa.update(checkin).where(has_text).values(**dict.fromkeys(CHECKIN_TEXT)))
        conn.execute(sa.update(assessment).where(noted).values(note=None))
        conn.execute(sa.update(notice).where(worded).values(
            breach="", answer=sa.case((notice.c.answer.is_(None), None), else_="")))
        conn.execute(sa.update(expense).where(labelled).values(label=""))
        if rewrites:
            event = Event.__table__
            conn.execute(sa.update(event).where(event.c.id == sa.bindparam("event_id"))
                         .values(reason=None, data=sa.bindparam("new_data"), salt=None), rewrites)
