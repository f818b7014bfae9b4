"""Formal notices (mises en demeure) to a partner body, and the one-month clock (DOMAIN.md, "Time").

A breach may end an agreement after a formal notice left unanswered for one month (seed 1, article 5:
"mise en demeure restée sans réponse satisfaisante dans un délai d'un mois"). One rule, everywhere:
the partner has until :func:`workflow.deadlines.answer_by` (the notice's day plus one calendar month, a month end
clamping) to answer, that day included; unanswered, the agreement of that programme with that partner
is terminable from the day after, :func:`workflow.deadlines.terminable_on`. The reminder telling the coordinators is
planned by :mod:`workflow.reminders` from :func:`facts` (at midnight, Paris, on :func:`workflow.deadlines.terminable_on`);
``status`` and ``funding show`` flag :meth:`Notices.terminable`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from workflow import permissions, validate
from workflow.context import Context, find
from workflow.deadlines import terminable_on
from workflow.errors import N_, Invalid, NotFound
from workflow.models import Notice, Partner, Programme

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
    """Where a notice sent on ``on`` stands ``today``: an answer by :func:`workflow.deadlines.answer_by` stops the clock;
    unanswered, it is terminable from :func:`workflow.deadlines.terminable_on`."""
    day = terminable_on(on)
    if answered_on is not None:
        return ANSWERED if answered_on < day else ANSWERED_LATE
    return TERMINABLE if today >= day else PENDING


def _record(n: Notice, programme: str, partner: str, today: date) -> NoticeRecord:
    return NoticeRecord(id=n.id, programme=programme, partner=partner, on=n.on.isoformat(), breach=n.breach,
                        terminable_on=terminable_on(n.on).isoformat(), state=state(n.on, n.answered_on, today),
                        answered_on=n.answered_on.isoformat() if n.answered_on else None, answer=n.answer)


_LISTED = (select(Notice, Programme.name, Partner.name)
           .join(Programme, Programme.id == Notice.programme_id).join(Partner, Partner.id == Notice.partner_id))


@dataclass(frozen=True)
class Notices:
    """Formal notices: recorded and answered by coordinators (audited), read by those who read every team."""

    ctx: Context

    def add(self, programme: str, partner: str, on: date, breach: str) -> NoticeRecord:
        """A formal notice sent to ``partner`` on ``on`` about ``breach``: its one-month clock starts."""
        breach = validate.text(breach, BREACH)
        today = self.ctx.clock.today()
        validate.past_date(on, today, NOTICE_DATE, "notice_in_future")
        with self.ctx.store.write() as s:
            self.ctx.require(s, "agreements")
            prog = find(s, "programme", programme)
            body = find(s, "partner", partner, programme=prog)
            if on < prog.signed_on:
                raise Invalid(N_("the agreement of {programme!q} takes effect on {effective!d}: a formal notice "
                                 "cannot precede it ({on!d})"), code="notice_before_agreement",
                              programme=prog.name, effective=prog.signed_on, on=on)
            same = s.exec(select(Notice.id).where(Notice.programme_id == prog.id, Notice.partner_id == body.id,
                                                  Notice.on == on, Notice.breach == breach)).first()
            if same is not None:
                raise Invalid(N_("this formal notice to {partner!q} on {on!d} is already recorded, as #{id}"),
                              code="notice_exists", partner=body.name, on=on, id=same)
            n = Notice(programme_id=prog.id, partner_id=body.id, on=on, breach=breach, created_at=self.ctx.clock.now())
            s.add(n)
            s.flush()
            self.ctx.event(s, "notice.add", reason=breach,
                           data={"notice": n.id, "programme": prog.name, "partner": body.name, "on": on.isoformat(),
                                 "terminable_on": terminable_on(on).isoformat()},
                           sealed={"notice": [n.id]})
            return _record(n, prog.name, body.name, today)

    def answer(self, notice_id: int, on: date, note: str) -> NoticeRecord:
        """The partner's answer to notice ``notice_id``, received on ``on``: by :func:`workflow.deadlines.answer_by` (that day
        included) it stops the clock; later, it is recorded as late (the agreement was terminable from
        :func:`workflow.deadlines.terminable_on`)."""
        note = validate.text(note, ANSWER)
        today = self.ctx.clock.today()
        validate.past_date(on, today, ANSWER_DATE, "answer_in_future")
        with self.ctx.store.write() as s:
            self.ctx.require(s, "agreements")
            n = self._get(s, notice_id, lock=True)
            if n.answered_on is not None:
                raise Invalid(N_("formal notice #{id} was already answered, on {answered!d}"),
                              code="notice_answered", id=n.id, answered=n.answered_on)
            if on < n.on:
                raise Invalid(N_("the answer ({on!d}) cannot precede formal notice #{id} ({notice!d})"),
                              code="answer_before_notice", on=on, id=n.id, notice=n.on)
            n.answered_on, n.answer = on, note
            s.add(n)
            prog, body = s.get(Programme, n.programme_id), s.get(Partner, n.partner_id)
            rec = _record(n, prog.name, body.name, today)
            self.ctx.event(s, "notice.answer", reason=note,
                           data={"notice": n.id, "programme": prog.name, "partner": body.name, "on": on.isoformat(),
                                 "state": rec.state},
                           sealed={"notice": [n.id]})
            return rec

    @staticmethod
    def _get(s: Session, notice_id: int, lock: bool = False) -> Notice:
        q = select(Notice).where(Notice.id == notice_id)
        n = s.exec(q.with_for_update() if lock else q).first()
        if n is None:
            raise NotFound(N_("no formal notice #{id}"), code="unknown_notice", id=notice_id)
        return n

    def listing(self, programme: str | None = None) -> list[NoticeRecord]:
        """Every notice (of ``programme``), oldest first, with its state today."""
        with self.ctx.store.read() as s:
            self.ctx.require(s, "agreements_read")
            q = _LISTED
            if programme is not None:
                q = q.where(Notice.programme_id == find(s, "programme", programme).id)
            today = self.ctx.clock.today()
            return [_record(n, pn, bn, today) for n, pn, bn in s.execute(q.order_by(Notice.on, Notice.id))]

    def terminable(self, programme: str | None = None) -> list[NoticeRecord]:
        """The unanswered notices whose month is over (of ``programme``), oldest first: the agreements
        that may be terminated, and since when (``terminable_on``)."""
        with self.ctx.store.read() as s:
            self.ctx.require(s, "agreements_read")
            return self.terminable_in(s, programme)

    def flags(self, programme: str | None = None) -> list[NoticeRecord]:
        """:meth:`terminable` for a reader of ``status``: nothing, rather than a refusal, for a person
        who does not read every team (a coach sees their teams, not the agreements)."""
        with self.ctx.store.read() as s:
            if permissions.scope("agreements_read", self.ctx.me(s).roles) != permissions.ANY:
                return []
            return self.terminable_in(s, programme)

    def terminable_in(self, s: Session, programme: str | None) -> list[NoticeRecord]:
        """:meth:`terminable` within the caller's transaction (``funding show`` reads it with the money);
        the caller checked who may read it."""
        q = _LISTED.where(Notice.answered_on.is_(None))
        if programme is not None:
            q = q.where(Notice.programme_id == find(s, "programme", programme).id)
        today = self.ctx.clock.today()
        rows = (_record(n, pn, bn, today) for n, pn, bn in s.execute(q.order_by(Notice.on, Notice.id)))
        return [r for r in rows if r.state == TERMINABLE]


# ---- what the reminders read (workflow.reminders) -------------------------------------------------

@dataclass(frozen=True, slots=True)
class NoticeFacts:
    """An unanswered notice, as the reminder planning needs it."""

    id: int
    programme_id: int
    programme: str
    partner: str
    on: date
    breach: str

    @property
    def day(self) -> date:
        """The day its reminder is due, from midnight in Paris: the first day the agreement is terminable."""
        return terminable_on(self.on)


# A terminable reminder goes stale about one month after its day (workflow.reminders: terminable_on of
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
