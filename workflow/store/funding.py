"""Money in the store: each partner's funding of a programme, the expenses, the statements and the one
payment (``workflow.services.funding``). Amounts are integer cents here."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from workflow.store.models import Expense, Funding, Partner, Payment, Statement


def funding(s: Session, programme_id: int, partner_id: int, *, lock: bool = False) -> Funding | None:
    """A partner's funding of a programme (locked for the transaction with ``lock``), or None."""
    q = select(Funding).where(Funding.programme_id == programme_id, Funding.partner_id == partner_id)
    return s.exec(q.with_for_update() if lock else q).first()


def fundings(s: Session, programme_id: int, partners: Collection[int] | None = None) -> list[tuple[Funding, Partner]]:
    """Every funding of a programme with its partner (of the partner bodies ``partners`` when given),
    by partner name."""
    q = select(Funding, Partner).join(Partner, Partner.id == Funding.partner_id).where(
        Funding.programme_id == programme_id)
    if partners is not None:
        q = q.where(Funding.partner_id.in_(sorted(partners)))
    return [tuple(r) for r in s.execute(q.order_by(Partner.name))]


def partners_in(s: Session, programme_id: int, ids: Collection[int]) -> frozenset[int]:
    """Those of the partner bodies ``ids`` that are partners of the programme."""
    if not ids:
        return frozenset()
    return frozenset(s.execute(select(Partner.id).where(Partner.programme_id == programme_id,
                                                        Partner.id.in_(sorted(ids)))).scalars())


def save(s: Session, row: Any) -> Any:
    """A new or changed row of these tables, flushed (its id known)."""
    s.add(row)
    s.flush()
    return row


def payment(s: Session, funding_id: int) -> Payment | None:
    """The one payment of a funding, or None."""
    return s.exec(select(Payment).where(Payment.funding_id == funding_id)).first()


def latest_statement(s: Session, funding_id: int, on: date) -> Statement | None:
    """The latest statement issued to a funding's partner by ``on``."""
    return s.exec(select(Statement).where(Statement.funding_id == funding_id, Statement.issued_on <= on)
                  .order_by(Statement.issued_on.desc(), Statement.id.desc())).first()


def same_expense(s: Session, programme_id: int, on: date, amount_cents: int, label: str) -> int | None:
    """The id of an expense already recorded with these very values (typed twice), or None."""
    return s.exec(select(Expense.id).where(Expense.programme_id == programme_id, Expense.on == on,
                                           Expense.amount_cents == amount_cents, Expense.label == label)).first()


def expenses(s: Session, programme_id: int, until: date | None = None) -> list[Expense]:
    """A programme's expenses (incurred by ``until``), in date order."""
    q = select(Expense).where(Expense.programme_id == programme_id)
    if until is not None:
        q = q.where(Expense.on <= until)
    return list(s.exec(q.order_by(Expense.on, Expense.id)))


def _incurred(programme_id: int, until: date, *more: Any) -> Any:
    """The sum in cents (and ``more``) of a programme's expenses incurred by ``until``."""
    return (select(sa.func.coalesce(sa.func.sum(Expense.amount_cents), 0), *more)
            .where(Expense.programme_id == programme_id, Expense.on <= until))


def expenses_total(s: Session, programme_id: int, until: date) -> tuple[int, int]:
    """The sum in cents and the number of a programme's expenses incurred by ``until``."""
    total, count = s.execute(_incurred(programme_id, until, sa.func.count())).one()
    return int(total), int(count)


def expenses_cents(s: Session, programme_id: int, until: date) -> int:
    """The sum in cents of a programme's expenses incurred by ``until``."""
    return int(s.execute(_incurred(programme_id, until)).scalar_one())


def new_funding(programme_id: int, partner_id: int, how: str, now: datetime) -> Funding:
    """A funding row not in the store yet (its figures set by the caller, then :func:`save`)."""
    return Funding(programme_id=programme_id, partner_id=partner_id, cap_cents=0, payment=how, created_at=now,
                   updated_at=now)


def new_expense(s: Session, programme_id: int, amount_cents: int, on: date, label: str, now: datetime) -> Expense:
    return save(s, Expense(programme_id=programme_id, amount_cents=amount_cents, on=on, label=label, created_at=now))


def new_statement(s: Session, funding_id: int, issued_on: date, total_cents: int, due_cents: int,
                  now: datetime) -> Statement:
    return save(s, Statement(funding_id=funding_id, issued_on=issued_on, expenses_cents=total_cents,
                             due_cents=due_cents, created_at=now))


def new_payment(s: Session, funding_id: int, on: date, amount_cents: int, now: datetime) -> Payment:
    return save(s, Payment(funding_id=funding_id, on=on, amount_cents=amount_cents, created_at=now))
