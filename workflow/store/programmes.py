"""Programmes in the store: their signatures, their teams by phase, their partner bodies, and what was
done under their agreement (``workflow.services.directory``)."""

from __future__ import annotations

from typing import Any

from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, select

from workflow.store.models import Expense, Funding, Notice, Partner, Payment, Programme, Signature, Team


def name_taken(s: Session, name: str) -> bool:
    return s.exec(select(Programme.id).where(Programme.name == name)).first() is not None


def partner_taken(s: Session, programme_id: int, name: str) -> bool:
    return s.exec(select(Partner.id).where(Partner.programme_id == programme_id, Partner.name == name)).first() \
        is not None


def signed(s: Session, programme_id: int, day: date) -> bool:
    """Whether a signature of the programme on ``day`` is recorded."""
    return s.exec(select(Signature.id).where(Signature.programme_id == programme_id,
                                             Signature.signed_on == day)).first() is not None


def signatures(s: Session, programme_id: int) -> list[date]:
    """The days the programme's agreement was signed, in order."""
    return list(s.exec(select(Signature.signed_on).where(Signature.programme_id == programme_id)
                       .order_by(Signature.signed_on)))


def teams_by_phase(s: Session, programme_id: int, teams: Any = None) -> dict[str, int]:
    """How many of the programme's teams (among ``teams``, a subquery of ids, when given) are in each
    phase (phases with none left out)."""
    q = select(Team.phase, sa.func.count()).where(Team.programme_id == programme_id)
    if teams is not None:
        q = q.where(Team.id.in_(teams))
    return dict(s.execute(q.group_by(Team.phase)).all())


def partners(s: Session, programme_id: int, teams: Any = None, bodies: Any = ()) -> list[Partner]:
    """The programme's partner bodies, by name; with ``teams`` (a subquery of team ids), only those
    bodies and the ones of ``bodies`` (ids)."""
    q = select(Partner).where(Partner.programme_id == programme_id)
    if teams is not None:
        q = q.where(sa.or_(Partner.id.in_(select(Team.partner_id).where(Team.id.in_(teams))),
                           Partner.id.in_(sorted(bodies))))
    return list(s.exec(q.order_by(Partner.name)))


def every(s: Session, among: Any = None) -> list[Programme]:
    """Every programme (whose id is in ``among``, a subquery, when given), by signature then name."""
    q = select(Programme)
    if among is not None:
        q = q.where(Programme.id.in_(among))
    return list(s.exec(q.order_by(Programme.signed_on, Programme.name)))


def among(s: Session, programme_id: int, ids: Any) -> bool:
    """Whether ``programme_id`` is in ``ids`` (a subquery)."""
    return s.execute(select(Programme.id).where(Programme.id == programme_id, Programme.id.in_(ids))).first() is not None


def count(s: Session) -> int:
    return s.execute(select(sa.func.count()).select_from(Programme)).scalar_one()


def only(s: Session) -> Programme | None:
    """The one programme of an instance that runs one, else None."""
    rows = list(s.exec(select(Programme).limit(2)))
    return rows[0] if len(rows) == 1 else None


def first_acts(s: Session, programme_id: int) -> dict[str, date | None]:
    """The day of the first expense, payment and formal notice recorded under the programme's
    agreement (None: none)."""
    return {
        "expense": s.exec(select(sa.func.min(Expense.on)).where(Expense.programme_id == programme_id)).one(),
        "payment": s.exec(select(sa.func.min(Payment.on)).join(Funding, Funding.id == Payment.funding_id)
                          .where(Funding.programme_id == programme_id)).one(),
        "notice": s.exec(select(sa.func.min(Notice.on)).where(Notice.programme_id == programme_id)).one(),
    }


# ---- writing -------------------------------------------------------------------------------------

def insert(s: Session, signatures: list[date], **columns: object) -> Programme:
    """A new programme (its columns) with its signatures; flushed, so it has its id."""
    p = Programme(**columns)
    s.add(p)
    s.flush()
    s.add_all(Signature(programme_id=p.id, signed_on=d) for d in signatures)
    return p


def add_signature(s: Session, p: Programme, day: date) -> None:
    """One more signature; the agreement takes effect at the last one."""
    s.add(Signature(programme_id=p.id, signed_on=day))
    p.signed_on = max(p.signed_on, day)
    s.add(p)


def insert_partner(s: Session, programme_id: int, name: str, kind: str) -> Partner:
    """A new partner body of a programme, flushed so it has its id (an import names it by id)."""
    partner = Partner(programme_id=programme_id, name=name, kind=kind)
    s.add(partner)
    s.flush()
    return partner
