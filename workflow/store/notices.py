"""Formal notices in the store: the rows of ``workflow.services.notices``, and the unanswered ones the
reminder planning reads (:func:`facts`)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from workflow.rules.due import NoticeFacts
from workflow.store.models import Notice, Partner, Programme

# Every notice with its programme's and partner's names: the base of each listing.
_LISTED = (select(Notice, Programme.name, Partner.name)
           .join(Programme, Programme.id == Notice.programme_id).join(Partner, Partner.id == Notice.partner_id))


def same(s: Session, programme_id: int, partner_id: int, on: date, breach: str) -> int | None:
    """The id of a notice already recorded with these very values (typed twice), or None."""
    return s.exec(select(Notice.id).where(Notice.programme_id == programme_id, Notice.partner_id == partner_id,
                                          Notice.on == on, Notice.breach == breach)).first()


def add(s: Session, programme_id: int, partner_id: int, on: date, breach: str, created_at: datetime) -> Notice:
    """A new notice, flushed (its id known)."""
    n = Notice(programme_id=programme_id, partner_id=partner_id, on=on, breach=breach, created_at=created_at)
    s.add(n)
    s.flush()
    return n


def get(s: Session, notice_id: int, *, lock: bool = False) -> Notice | None:
    """Notice ``notice_id`` (locked for the transaction with ``lock``), or None."""
    q = select(Notice).where(Notice.id == notice_id)
    return s.exec(q.with_for_update() if lock else q).first()


def programme(s: Session, n: Notice) -> Programme:
    """The programme a notice belongs to."""
    return s.get(Programme, n.programme_id)


def answered(s: Session, n: Notice, on: date, note: str) -> tuple[str, str]:
    """Record the answer to ``n``; the names of its programme and partner."""
    n.answered_on, n.answer = on, note
    s.add(n)
    return s.get(Programme, n.programme_id).name, s.get(Partner, n.partner_id).name


def listed(s: Session, programme_id: int | None = None, *, unanswered: bool = False,
           programmes: Collection[int] | None = None, partners: Collection[int] = ()) -> list[tuple[Any, str, str]]:
    """(notice, programme name, partner name) of every notice (of ``programme_id``; only the unanswered
    ones with ``unanswered``), oldest first. ``programmes`` (None: every one) and ``partners``: the
    reader's reach, the notices of those programmes and to those partner bodies."""
    q = _LISTED.where(Notice.answered_on.is_(None)) if unanswered else _LISTED
    if programme_id is not None:
        q = q.where(Notice.programme_id == programme_id)
    if programmes is not None:
        q = q.where(sa.or_(Notice.programme_id.in_(sorted(programmes)), Notice.partner_id.in_(sorted(partners))))
    return [tuple(r) for r in s.execute(q.order_by(Notice.on, Notice.id))]


# ---- what the reminders read (workflow.rules.due) -------------------------------------------------

# A terminable reminder goes stale about one month after its day (workflow.rules.due: terminable_on of
# the day; status keeps flagging the notice): the oldest notice that can still be due was sent at most
# two months (62 days) and two days before the window opens.
STALE_AFTER_DAYS = 64


def facts(s: Session, since: datetime) -> tuple[NoticeFacts, ...]:
    """The unanswered notices whose reminder may be due from ``since`` on: one query."""
    oldest = since.date() - timedelta(days=STALE_AFTER_DAYS)
    rows = s.execute(select(Notice.id, Notice.programme_id, Programme.name, Partner.name, Notice.on, Notice.breach)
                     .join(Programme, Programme.id == Notice.programme_id)
                     .join(Partner, Partner.id == Notice.partner_id)
                     .where(Notice.answered_on.is_(None), Notice.on >= oldest).order_by(Notice.id))
    return tuple(NoticeFacts(*r) for r in rows)
