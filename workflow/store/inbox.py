"""The inbox in the store: each e-mail received at the reply address, once (``inbound_mail``, by the digest
of its Message-ID), what became of it, and how the mailbox poller fares (``inbox_poll``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from workflow.store.models import InboundMail, InboxPoll, Outbox, Person, Team

_M = InboundMail.__table__
_P = InboxPoll.__table__


def seen(conn: sa.Connection, digest: str) -> bool:
    """Whether a mail of this digest was already received (handled, refused or ignored)."""
    return conn.execute(sa.select(_M.c.id).where(_M.c.digest == digest)).first() is not None


def record(conn: sa.Connection, **values: Any) -> int:
    """Record one received mail (``digest`` unique: a second insert of the same one raises IntegrityError,
    which rolls back whatever its transaction wrote with it); its id."""
    return conn.execute(sa.insert(_M).values(**values).returning(_M.c.id)).scalar_one()


def entries(conn: sa.Connection, since: datetime, until: datetime, among: Any = None,
            limit: int | None = None) -> list[Any]:
    """Mails received in [since, until), newest first, with their team's and person's names: rows of
    (received_at, via, outcome, reason, team, week, person, checkin_id). ``among``: the programmes' ids (a
    subquery) whose teams' mails may be read; mails of no team are then left out (None: every mail)."""
    q = (sa.select(_M.c.received_at, _M.c.via, _M.c.outcome, _M.c.reason, Team.__table__.c.name, _M.c.week,
                   Person.__table__.c.email, _M.c.checkin_id)
         .select_from(_M.outerjoin(Team.__table__, Team.__table__.c.id == _M.c.team_id)
                      .outerjoin(Person.__table__, Person.__table__.c.id == _M.c.person_id))
         .where(_M.c.received_at >= since, _M.c.received_at < until)
         .order_by(_M.c.received_at.desc(), _M.c.id.desc()))
    if among is not None:
        q = q.where(Team.__table__.c.programme_id.in_(among))
    if limit is not None:
        q = q.limit(limit)
    return list(conn.execute(q))


def counts(conn: sa.Connection, since: datetime, until: datetime, among: Any = None) -> list[tuple[str, str | None, int]]:
    """(outcome, reason, how many) of the mails received in [since, until), as :func:`entries` filters them."""
    q = (sa.select(_M.c.outcome, _M.c.reason, sa.func.count())
         .where(_M.c.received_at >= since, _M.c.received_at < until)
         .group_by(_M.c.outcome, _M.c.reason).order_by(_M.c.outcome, _M.c.reason))
    if among is not None:
        q = q.where(_M.c.team_id.in_(sa.select(Team.__table__.c.id).where(Team.__table__.c.programme_id.in_(among))))
    return [tuple(r) for r in conn.execute(q)]


# ---- the poller ------------------------------------------------------------------------------------

def poll_state(s: Session, name: str = "imap") -> InboxPoll | None:
    return s.get(InboxPoll, name)


def record_poll(s: Session, at: datetime, *, error: str | None = None, handled: int = 0, name: str = "imap") -> None:
    """A poll attempt at ``at``: a success (its count of mails handled) or a failure (its error)."""
    row = s.get(InboxPoll, name) or InboxPoll(name=name)
    row.polled_at = at
    if error is None:
        row.ok_at, row.error, row.handled = at, None, handled
    else:
        row.error = error
    s.add(row)
    s.flush()


def people(conn: sa.Connection, ids: Iterable[int]) -> dict[int, Any]:
    """Rows (id, email, name, lang, link_generation, erased_at) of the people ``ids``, by id."""
    t = Person.__table__
    ids = sorted(set(ids))
    if not ids:
        return {}
    return {r.id: r for r in conn.execute(sa.select(t.c.id, t.c.email, t.c.name, t.c.lang, t.c.link_generation,
                                                    t.c.erased_at).where(t.c.id.in_(ids)))}


def team_name(conn: sa.Connection, team_id: int) -> str | None:
    return conn.execute(sa.select(Team.__table__.c.name).where(Team.__table__.c.id == team_id)).scalar()


def programme_of(conn: sa.Connection, team_id: int) -> int | None:
    return conn.execute(sa.select(Team.__table__.c.programme_id).where(Team.__table__.c.id == team_id)).scalar()


def answers_to(conn: sa.Connection, recipient: str, since: datetime) -> int:
    """How many answers to received mail were queued for ``recipient`` since ``since``."""
    t = Outbox.__table__
    return conn.execute(sa.select(sa.func.count()).where(t.c.kind == "reply", t.c.recipient == recipient,
                                                          t.c.created_at >= since)).scalar_one()
