"""Formal notices (mises en demeure) to a partner body, and the one-month clock.

A breach may end an agreement after a formal notice left unanswered for one month (seed 1, article 5:
"mise en demeure restée sans réponse satisfaisante dans un délai d'un mois"). One rule, everywhere:
the partner has until :func:`workflow.rules.deadlines.answer_by` (the notice's day plus one calendar month, a month end
clamping) to answer, that day included; unanswered, the agreement of that programme with that partner
is terminable from the day after, :func:`workflow.rules.deadlines.terminable_on`. The reminder telling the coordinators is
planned by :mod:`workflow.rules.due` from :func:`workflow.store.notices.facts` (at midnight, Paris, on :func:`workflow.rules.deadlines.terminable_on`);
``status`` and ``funding show`` flag :meth:`Notices.terminable`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from workflow.context import Context, find
from workflow.errors import N_, Invalid, NotFound
from workflow.rules import validate
from workflow.rules.deadlines import terminable_on
from workflow.rules.permissions import Reach
from workflow.store import funding as money_rows
from workflow.store import notices as notice_rows
from workflow.store.models import Programme

# A notice's states (stable: printed in JSON).
PENDING = "pending"  # unanswered, its month still running
ANSWERED = "answered"  # answered by answer_by, that day included: the clock stopped
TERMINABLE = "terminable"  # unanswered from terminable_on (the day after answer_by): it may be terminated
ANSWERED_LATE = "answered_late"  # answered from terminable_on on: it had been terminable from that day
STATES = (PENDING, ANSWERED, TERMINABLE, ANSWERED_LATE)

BREACH = N_("the breach")
ANSWER = N_("the answer")
NOTICE_DATE = N_("the notice date")
ANSWER_DATE = N_("the answer date")
# How ``status``, ``funding show`` and the web board flag an agreement an unanswered notice made
# terminable (its parameters: :meth:`NoticeRecord.flag_params`).
TERMINABLE_FLAG = N_("⚠ agreement of {programme!q} with {partner!q} terminable since {day!d}: formal notice #{id} of "
                     "{on!d} unanswered")


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    """A formal notice to a partner and its one-month clock: ``state`` is pending (the month runs),
    answered (before ``terminable_on``), terminable (unanswered from that day) or answered_late."""

    id: int
    programme: str
    partner: str
    on: str
    breach: str
    terminable_on: str
    state: str
    answered_on: str | None
    answer: str | None

    def flag_params(self) -> dict[str, object]:
        """The parameters of :data:`TERMINABLE_FLAG` for this notice."""
        return {"programme": self.programme, "partner": self.partner, "day": date.fromisoformat(self.terminable_on),
                "id": self.id, "on": date.fromisoformat(self.on)}


def state(on: date, answered_on: date | None, today: date) -> str:
    """Where a notice sent on ``on`` stands ``today``: an answer by :func:`workflow.rules.deadlines.answer_by` stops the clock;
    unanswered, it is terminable from :func:`workflow.rules.deadlines.terminable_on`."""
    day = terminable_on(on)
    if answered_on is not None:
        return ANSWERED if answered_on < day else ANSWERED_LATE
    return TERMINABLE if today >= day else PENDING


def _record(n: Any, programme: str, partner: str, today: date) -> NoticeRecord:
    return NoticeRecord(id=n.id, programme=programme, partner=partner, on=n.on.isoformat(), breach=n.breach,
                        terminable_on=terminable_on(n.on).isoformat(), state=state(n.on, n.answered_on, today),
                        answered_on=n.answered_on.isoformat() if n.answered_on else None, answer=n.answer)


def readable(ctx: Context, s: Any, programme: str) -> tuple[Programme, frozenset[int] | None]:
    """The programme named so, and the partner bodies of it whose funding, statements and notices the
    reader reads: None for all of them (an administrator, a coordinator or committee member of it), else
    those they are a partner reader of. A programme they read none of is refused, naming the grant."""
    reach = ctx.require(s, "agreements_read")
    prog = find(s, "programme", programme)
    if reach.covers(prog.id):
        return prog, None
    mine = money_rows.partners_in(s, prog.id, reach.partners)
    if not mine:
        ctx.require(s, "agreements_read", programme=prog)  # refused: it names the programme and the grant needed
    return prog, mine


def changeable(ctx: Context, s: Any, programme: str) -> Programme:
    """The programme named so, when the actor may record its funding, expenses, payments and notices (a
    coordinator of it); else refused, naming the grant (someone who may record none anywhere: the role)."""
    ctx.require(s, "agreements")
    prog = find(s, "programme", programme)
    ctx.require(s, "agreements", programme=prog)
    return prog


def _within(reach: Reach) -> dict[str, Any]:
    """The filter of :func:`workflow.store.notices.listed` for ``reach``: the notices of the programmes
    it reaches and to the partner bodies it reaches (nothing to filter: everything)."""
    return {} if reach.everything else {"programmes": reach.programmes, "partners": reach.partners}


@dataclass(frozen=True)
class Notices:
    """Formal notices: recorded and answered by a programme's coordinators (audited); read by its
    coordinators and committee, and by a partner reader for the notices to their partner body."""

    ctx: Context

    def add(self, programme: str, partner: str, on: date, breach: str) -> NoticeRecord:
        """A formal notice sent to ``partner`` on ``on`` about ``breach``: its one-month clock starts."""
        breach = validate.text(breach, BREACH)
        today = self.ctx.clock.today()
        validate.past_date(on, today, NOTICE_DATE, "notice_in_future")
        with self.ctx.store.write() as s:
            prog = changeable(self.ctx, s, programme)
            body = find(s, "partner", partner, programme=prog)
            if on < prog.signed_on:
                raise Invalid(N_("the agreement of {programme!q} takes effect on {effective!d}: a formal notice "
                                 "cannot precede it ({on!d})"), code="notice_before_agreement",
                              programme=prog.name, effective=prog.signed_on, on=on)
            same = notice_rows.same(s, prog.id, body.id, on, breach)
            if same is not None:
                raise Invalid(N_("this formal notice to {partner!q} on {on!d} is already recorded, as #{id}"),
                              code="notice_exists", partner=body.name, on=on, id=same)
            n = notice_rows.add(s, prog.id, body.id, on, breach, self.ctx.clock.now())
            self.ctx.event(s, "notice.add", reason=breach,
                           data={"notice": n.id, "programme": prog.name, "partner": body.name, "on": on.isoformat(),
                                 "terminable_on": terminable_on(on).isoformat()},
                           sealed={"notice": [n.id]})
            return _record(n, prog.name, body.name, today)

    def answer(self, notice_id: int, on: date, note: str) -> NoticeRecord:
        """The partner's answer to notice ``notice_id``, received on ``on``: by :func:`workflow.rules.deadlines.answer_by` (that day
        included) it stops the clock; later, it is recorded as late (the agreement was terminable from
        :func:`workflow.rules.deadlines.terminable_on`)."""
        note = validate.text(note, ANSWER)
        today = self.ctx.clock.today()
        validate.past_date(on, today, ANSWER_DATE, "answer_in_future")
        with self.ctx.store.write() as s:
            self.ctx.require(s, "agreements")
            n = self._get(s, notice_id, lock=True)
            self.ctx.require(s, "agreements", programme=notice_rows.programme(s, n))
            if n.answered_on is not None:
                raise Invalid(N_("formal notice #{id} was already answered, on {answered!d}"),
                              code="notice_answered", id=n.id, answered=n.answered_on)
            if on < n.on:
                raise Invalid(N_("the answer ({on!d}) cannot precede formal notice #{id} ({notice!d})"),
                              code="answer_before_notice", on=on, id=n.id, notice=n.on)
            programme, partner = notice_rows.answered(s, n, on, note)
            rec = _record(n, programme, partner, today)
            self.ctx.event(s, "notice.answer", reason=note,
                           data={"notice": n.id, "programme": programme, "partner": partner, "on": on.isoformat(),
                                 "state": rec.state},
                           sealed={"notice": [n.id]})
            return rec

    @staticmethod
    def _get(s: Any, notice_id: int, lock: bool = False) -> Any:
        n = notice_rows.get(s, notice_id, lock=lock)
        if n is None:
            raise NotFound(N_("no formal notice #{id}"), code="unknown_notice", id=notice_id)
        return n

    def listing(self, programme: str | None = None) -> list[NoticeRecord]:
        """Every notice the reader reads (of ``programme``), oldest first, with its state today."""
        with self.ctx.store.read() as s:
            return self._listed(s, programme)

    def terminable(self, programme: str | None = None) -> list[NoticeRecord]:
        """The unanswered notices whose month is over (of ``programme``), oldest first: the agreements
        that may be terminated, and since when (``terminable_on``); those the reader reads."""
        with self.ctx.store.read() as s:
            return self._listed(s, programme, terminable=True)

    def flags(self, programme: str | None = None) -> list[NoticeRecord]:
        """:meth:`terminable` for a reader of ``status``: nothing, rather than a refusal, for a person who
        reads no agreement there (a coach sees their teams, not the agreements)."""
        with self.ctx.store.read() as s:
            reach = self.ctx.reach(s, "agreements_read")
            if not reach.anything:
                return []
            if programme is None:
                return self.terminable_in(s, None, **_within(reach))
            prog = find(s, "programme", programme)
            if reach.covers(prog.id):
                return self.terminable_in(s, prog.id)
            mine = money_rows.partners_in(s, prog.id, reach.partners)
            return self.terminable_in(s, prog.id, programmes=(), partners=mine) if mine else []

    def _listed(self, s: Any, programme: str | None, *, terminable: bool = False) -> list[NoticeRecord]:
        """The notices the reader reads (of ``programme``: refused, naming the grant, when they read none
        of its); only the terminable ones with ``terminable``."""
        if programme is None:
            within = _within(self.ctx.require(s, "agreements_read"))
            pid = None
        else:
            prog, mine = readable(self.ctx, s, programme)
            within = {} if mine is None else {"programmes": (), "partners": mine}
            pid = prog.id
        if terminable:
            return self.terminable_in(s, pid, **within)
        today = self.ctx.clock.today()
        return [_record(n, pn, bn, today) for n, pn, bn in notice_rows.listed(s, pid, **within)]

    def terminable_in(self, s: Any, programme_id: int | None, *, programmes: Collection[int] | None = None,
                      partners: Collection[int] = ()) -> list[NoticeRecord]:
        """The terminable notices (of ``programme_id``; within ``programmes`` and ``partners``, the
        reader's reach, when given), in the caller's transaction (``funding show`` reads them with the
        money); the caller checked who may read them."""
        today = self.ctx.clock.today()
        rows = (_record(n, pn, bn, today) for n, pn, bn in notice_rows.listed(
            s, programme_id, unanswered=True, programmes=programmes, partners=partners))
        return [r for r in rows if r.state == TERMINABLE]
