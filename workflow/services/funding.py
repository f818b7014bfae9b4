"""Funding per partner: the cap, the share of the expenses, the statement, the one
payment, the unused funds.

Two ways to pay, one per source agreement:

- ``after-statement`` (seed 1): the partner owes the lower of its cap and its share of the expenses
  really incurred, in ONE payment, once the agreement took effect and a statement was issued;
- ``on-signature`` (seed 2): the partner pays its cap in ONE payment, on or after the effective date;
  what its share of the expenses does not use is given back at the end (:func:`workflow.rules.money.unused`).

Amounts are ``Decimal`` euros in and out, integer cents in the store. Changes are the programme's
coordinators' (``agreements`` in that programme) and audited. Its coordinators and committee read a
programme's money; a partner reader reads their partner body's funding, statement and payment, and the
programme's expenses (the base of their share, listed on the statement issued to them), never the other
partners'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from workflow.context import Context, find
from workflow.errors import N_, Invalid, NotFound
from workflow.rules import money, validate
from workflow.rules.deadlines import deadline
from workflow.rules.money import ON_SIGNATURE, PAYMENTS
from workflow.services.notices import NoticeRecord, Notices, changeable, readable
from workflow.store import funding as money_rows
from workflow.store.models import Expense, Partner, Programme, Statement
from workflow.store.models import Funding as FundingRow

LABEL = N_("the expense label")
EXPENSE_DATE = N_("the expense date")
PAYMENT_DATE = N_("the payment date")


@dataclass(frozen=True, slots=True)
class ExpenseRecord:
    """An expense the operator really incurred."""

    id: int
    programme: str
    on: str
    label: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class FundingRecord:
    """One partner's funding as it stands: ``covered`` is its share of the expenses so far (capped);
    ``due`` what its one payment may be (None: no statement yet, after-statement); ``unused`` what it
    paid beyond ``covered``, to give back once the agreement ended (``give_back``)."""

    programme: str
    partner: str
    payment: str
    cap: Decimal
    share: Decimal  # in percent
    covered: Decimal
    due: Decimal | None
    statement_on: str | None
    paid: Decimal
    paid_on: str | None
    unused: Decimal
    give_back: bool


@dataclass(frozen=True, slots=True)
class FundingSheet:
    """A programme's money: its period, the expenses, each partner's funding, and the agreements made
    terminable by a formal notice left unanswered for one month."""

    programme: str
    takes_effect: str
    deadline: str
    ended: bool
    today: str
    expenses: Decimal
    expense_count: int
    partners: tuple[FundingRecord, ...]
    terminable: tuple[NoticeRecord, ...]


@dataclass(frozen=True, slots=True)
class StatementRecord:
    """A statement of the expenses really incurred, as issued to one partner: what its document shows."""

    id: int
    programme: str
    partner: str
    issued_on: str
    takes_effect: str
    deadline: str
    payment: str
    cap: Decimal
    share: Decimal
    expenses: tuple[ExpenseRecord, ...]
    total: Decimal
    share_amount: Decimal  # the share of the total, before the cap
    due: Decimal  # the lower of the cap and the share
    paid: Decimal
    paid_on: str | None
    unused: Decimal


def _money_error(message: str, code: str, **params: Any) -> Invalid:
    """A refusal quoting figures: each amount as its exact text, shown in the reader's language (``!m``)."""
    return Invalid(message, code=code, **{k: money.text(v) if isinstance(v, Decimal) else v
                                          for k, v in params.items()})


@dataclass(frozen=True)
class Funding:
    """Funding, expenses, statements and payments of the programmes."""

    ctx: Context
    notices: Notices

    # ---- changes ------------------------------------------------------------------------------

    def set(self, programme: str, partner: str, *, cap: Decimal | str | int, payment: str,
            share: Decimal | str | int = Decimal(100)) -> FundingRecord:
        """A partner's funding of a programme: its cap, its share of the expenses, when it pays. Set
        again to correct it, until it has paid."""
        cap_d = money.check_amount(cap, positive=True)
        share_d = money.check_percent(share)
        validate.choice(payment, PAYMENTS, N_("a way to pay"))
        with self.ctx.store.write() as s:
            prog = changeable(self.ctx, s, programme)
            body = find(s, "partner", partner, programme=prog)
            f = money_rows.funding(s, prog.id, body.id, lock=True)
            now = self.ctx.clock.now()
            if f is None:
                f = money_rows.new_funding(prog.id, body.id, payment, now)
            else:
                paid = money_rows.payment(s, f.id)
                if paid is not None:
                    raise _money_error(N_("{partner!q} already paid {paid!m} on {on!d}: its funding of {programme!q} "
                                          "can no longer change"), "funding_paid", partner=body.name,
                                       programme=prog.name, paid=money.from_cents(paid.amount_cents), on=paid.on)
            f.cap_cents, f.share_bp, f.payment, f.updated_at = money.to_cents(cap_d), money.to_bp(share_d), payment, now
            money_rows.save(s, f)
            self.ctx.event(s, "funding.set", data={"programme": prog.name, "partner": body.name,
                                                   "cap": money.text(cap_d), "share": money.text(share_d),
                                                   "payment": payment}, sealed={"funding": [f.id]})
            return self._record(s, prog, body, f)

    def add_expense(self, programme: str, amount: Decimal | str | int, on: date, label: str) -> ExpenseRecord:
        """An expense the operator really incurred for a programme, within its agreement's period (which
        covers the expenses) and not in the future."""
        amount_d = money.check_amount(amount, positive=True)
        label = validate.name(label, LABEL)
        validate.past_date(on, self.ctx.clock.today(), EXPENSE_DATE, "expense_in_future")
        with self.ctx.store.write() as s:
            prog = changeable(self.ctx, s, programme)
            end = deadline(prog.signed_on, prog.months)
            if not prog.signed_on <= on <= end:
                raise Invalid(N_("{on!d} is outside the agreement of {programme!q}, which covers the expenses from "
                                 "{start!d} to {end!d}"), code="expense_outside_agreement", on=on,
                              programme=prog.name, start=prog.signed_on, end=end)
            same = money_rows.same_expense(s, prog.id, on, money.to_cents(amount_d), label)
            if same is not None:  # typed twice: a second identical expense would be counted twice
                raise _money_error(N_("this expense of {amount!m} on {on!d} is already recorded, as #{id}; give "
                                      "another label if it is a second one"), "expense_exists", amount=amount_d,
                                   on=on, id=same)
            e = money_rows.new_expense(s, prog.id, money.to_cents(amount_d), on, label, self.ctx.clock.now())
            self.ctx.event(s, "expense.add", data={"programme": prog.name, "expense": e.id, "on": on.isoformat(),
                                                   "amount": money.text(amount_d), "label": label},
                           sealed={"expense": [e.id]})
            return _expense(e, prog.name)

    def issue_statement(self, programme: str, partner: str, *,
                        deliver: Callable[[StatementRecord], None] | None = None) -> StatementRecord:
        """A statement of the expenses really incurred, issued today to ``partner``: its figures are
        recorded as issued (an after-statement partner pays on it) and returned for the document.

        ``deliver`` (writing the document) runs before the statement is committed: if it fails (a
        full disk, say), no statement is recorded that no one received. A caller that must not leave
        a document if the commit fails stages it there and puts it in place after (as the CLI does,
        ``storefile.staged_private``)."""
        today = self.ctx.clock.today()
        with self.ctx.store.write() as s:
            prog, body, f = self._funding(s, changeable(self.ctx, s, programme), partner, lock=True)
            expenses = money_rows.expenses(s, prog.id, today)
            total = sum(e.amount_cents for e in expenses)
            st = money_rows.new_statement(s, f.id, today, total, money.share_of(total, f.share_bp, f.cap_cents),
                                          self.ctx.clock.now())
            self.ctx.event(s, "funding.statement", data={
                "programme": prog.name, "partner": body.name, "statement": st.id, "issued_on": today.isoformat(),
                "expenses": money.text(money.from_cents(total)), "due": money.text(money.from_cents(st.due_cents))},
                sealed={"statement": [st.id]})
            paid = money_rows.payment(s, f.id)
            paid_cents = paid.amount_cents if paid else 0
            record = StatementRecord(
                id=st.id, programme=prog.name, partner=body.name, issued_on=today.isoformat(),
                takes_effect=prog.signed_on.isoformat(), deadline=deadline(prog.signed_on, prog.months).isoformat(),
                payment=f.payment, cap=money.from_cents(f.cap_cents), share=money.from_bp(f.share_bp),
                expenses=tuple(_expense(e, prog.name) for e in expenses), total=money.from_cents(total),
                share_amount=money.from_cents(total * f.share_bp // money.FULL_SHARE_BP),
                due=money.from_cents(st.due_cents), paid=money.from_cents(paid_cents),
                paid_on=paid.on.isoformat() if paid else None,
                unused=money.from_cents(money.unused(paid_cents, total, f.share_bp, f.cap_cents)))
            if deliver is not None:
                deliver(record)
            return record

    def pay(self, programme: str, partner: str, on: date, amount: Decimal | str | int) -> FundingRecord:
        """The one single payment of ``partner``, of exactly what it owes (:meth:`_due`): after-statement,
        on or after the effective date and a statement, what the latest statement says is due (capped);
        on-signature, on or after the effective date, its cap. A part would leave the rest unpaid for
        good, so it is refused. Any refusal quotes the figures: due, already paid, requested."""
        amount_d = money.check_amount(amount, positive=True)
        validate.past_date(on, self.ctx.clock.today(), PAYMENT_DATE, "payment_in_future")
        with self.ctx.store.write() as s:
            prog, body, f = self._funding(s, changeable(self.ctx, s, programme), partner, lock=True)
            figures = {"partner": body.name, "programme": prog.name, "requested": amount_d}
            done = money_rows.payment(s, f.id)
            due_cents, _ = self._due(s, f, on)
            if done is not None:
                raise _money_error(N_("{partner!q} makes one single payment and already paid on {on!d}: due {due!m}, "
                                      "already paid {paid!m}, requested {requested!m}"), "second_payment",
                                   **figures, on=done.on, due=money.from_cents(due_cents or 0),
                                   paid=money.from_cents(done.amount_cents))
            if on < prog.signed_on:
                raise Invalid(N_("the agreement of {programme!q} takes effect on {effective!d}: no payment before "
                                 "(given {on!d})"), code="payment_before_effect", programme=prog.name,
                              effective=prog.signed_on, on=on)
            if due_cents is None:
                expenses = money_rows.expenses_cents(s, prog.id, on)
                raise _money_error(N_("{partner!q} pays after a statement of the expenses, and none was issued by "
                                      "{on!d}: due so far {due!m}, already paid {paid!m}, requested {requested!m}"),
                                   "payment_before_statement", **figures, on=on, paid=Decimal(0),
                                   due=money.from_cents(money.share_of(expenses, f.share_bp, f.cap_cents)))
            if money.to_cents(amount_d) != due_cents:  # one single payment: a part would leave the rest unpaid
                raise _money_error(N_("{partner!q} makes one single payment of what it owes, not {requested!m}: due "
                                      "{due!m}, already paid {paid!m}, requested {requested!m}"), "payment_not_due",
                                   **figures, due=money.from_cents(due_cents), paid=Decimal(0))
            paid = money_rows.new_payment(s, f.id, on, money.to_cents(amount_d), self.ctx.clock.now())
            self.ctx.event(s, "funding.payment", data={"programme": prog.name, "partner": body.name,
                                                       "on": on.isoformat(), "amount": money.text(amount_d),
                                                       "due": money.text(money.from_cents(due_cents))},
                           sealed={"payment": [paid.id]})
            return self._record(s, prog, body, f)

    # ---- reads ----------------------------------------------------------------------------------

    def expenses(self, programme: str) -> list[ExpenseRecord]:
        """A programme's expenses, in date order."""
        with self.ctx.store.read() as s:
            prog, _mine = readable(self.ctx, s, programme)  # a partner reader too: the base of their share
            return [_expense(e, prog.name) for e in money_rows.expenses(s, prog.id)]

    def show(self, programme: str) -> FundingSheet:
        """A programme's money today: the expenses, each partner's funding (what its share covers, what
        it owes, paid, unused and, once the agreement ended, to give back), and the terminable agreements.
        A partner reader sees their partner body's funding and notices only."""
        today = self.ctx.clock.today()
        with self.ctx.store.read() as s:
            prog, mine = readable(self.ctx, s, programme)
            end = deadline(prog.signed_on, prog.months)
            total, count = money_rows.expenses_total(s, prog.id, today)
            partners = tuple(self._record(s, prog, body, f, today=today, expenses=total)
                             for f, body in money_rows.fundings(s, prog.id, mine))
            terminable = tuple(self.notices.terminable_in(
                s, prog.id, **({} if mine is None else {"programmes": (), "partners": mine})))
        return FundingSheet(programme=prog.name, takes_effect=prog.signed_on.isoformat(), deadline=end.isoformat(),
                            ended=end < today, today=today.isoformat(), expenses=money.from_cents(total),
                            expense_count=count, partners=partners,
                            terminable=terminable)

    # ---- helpers --------------------------------------------------------------------------------

    def _funding(self, s: Any, prog: Programme, partner: str, *, lock: bool = False
                 ) -> tuple[Programme, Partner, FundingRow]:
        body = find(s, "partner", partner, programme=prog)
        f = money_rows.funding(s, prog.id, body.id, lock=lock)
        if f is None:
            raise NotFound(N_("no funding is set for {partner!q} in {programme!q}"), code="no_funding",
                           partner=body.name, programme=prog.name)
        return prog, body, f

    @staticmethod
    def _due(s: Any, f: FundingRow, on: date) -> tuple[int | None, Statement | None]:
        """What ``f``'s partner owes on ``on``, in cents, and the statement saying so: on-signature, its
        cap; after-statement, the latest statement issued by then, capped (None: no statement yet)."""
        st = money_rows.latest_statement(s, f.id, on)
        if f.payment == ON_SIGNATURE:
            return f.cap_cents, st
        return (None if st is None else min(st.due_cents, f.cap_cents)), st

    def _record(self, s: Any, prog: Programme, body: Partner, f: FundingRow, *, today: date | None = None,
                expenses: int | None = None) -> FundingRecord:
        today = today or self.ctx.clock.today()
        expenses = money_rows.expenses_cents(s, prog.id, today) if expenses is None else expenses
        paid = money_rows.payment(s, f.id)
        due, st = self._due(s, f, today)
        paid_cents = paid.amount_cents if paid else 0
        left = money.unused(paid_cents, expenses, f.share_bp, f.cap_cents)
        return FundingRecord(
            programme=prog.name, partner=body.name, payment=f.payment, cap=money.from_cents(f.cap_cents),
            share=money.from_bp(f.share_bp),
            covered=money.from_cents(money.share_of(expenses, f.share_bp, f.cap_cents)),
            due=None if due is None else money.from_cents(due), statement_on=st.issued_on.isoformat() if st else None,
            paid=money.from_cents(paid_cents), paid_on=paid.on.isoformat() if paid else None,
            unused=money.from_cents(left), give_back=left > 0 and deadline(prog.signed_on, prog.months) < today)


def _expense(e: Expense, programme: str) -> ExpenseRecord:
    return ExpenseRecord(id=e.id, programme=programme, on=e.on.isoformat(), label=e.label,
                         amount=money.from_cents(e.amount_cents))
