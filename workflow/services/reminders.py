"""Reminders into the outbox: what is due (derived by :mod:`workflow.rules.due`), a preview of it,
enqueuing it, and one tick (enqueue, then deliver).

Enqueue is one transaction, under a unique key per message: computing twice, restarting, or two
daemons at once never enqueue a message twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from notifications.i18n import DEFAULT_LANG
from notifications.message import OutboxStatus
from notifications.render import Footer
from workflow.clock import paris
from workflow.context import Context
from workflow.errors import N_, Invalid
from workflow.records import PlannedMessage, TickResult
from workflow.rules import due, validate
from workflow.rules.replies import SHOWN
from workflow.services.daemon import Lease
from workflow.services.delivery import Delivery, Progress, Stop, holder_name
from workflow.services.links import Links, base_url
from workflow.services.listing import gc_paused
from workflow.services.mutes import Mutes
from workflow.services.outbox import channels_for
from workflow.store import mutes as mute_rows
from workflow.store import outbox as outbox_rows
from workflow.store import reminders as reminder_rows
from workflow.store.engine import Session


def reply_context(lang: str | None) -> dict[str, Any]:
    """What the weekly reminder by e-mail says of answering it (PREINCUB_REPLY_ADDRESS): the labelled
    lines a reply may start with, in the words the reply's parser reads (not the catalog's)."""
    lang = lang if lang in SHOWN else DEFAULT_LANG
    return {"reply_address": True, "reply_labels": SHOWN[lang], "reply_colon": " : " if lang == "fr" else ": "}


@lru_cache(maxsize=8)
def settings_digest(reminders: Any, coaching: Any) -> str:
    """A digest of the reminders' and the coaching's settings (frozen sections, hence a cache: a daemon
    asks every tick)."""
    return hashlib.sha256(repr((sorted(reminders.model_dump().items()), sorted(coaching.model_dump().items()))
                               ).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Reminders:
    """What is due and its way into the outbox; ``tick`` also delivers (through :class:`Delivery`)."""

    ctx: Context
    delivery: Delivery

    # ---- what is due ---------------------------------------------------------------------

    def _snapshot(self, s: Session, now: datetime) -> due.Snapshot:
        """What is due depends on, for the programmes the actor may remind about (an administrator: all)."""
        return reminder_rows.snapshot(s, now - due.horizon(self.ctx.settings), self.ctx.visible_programmes(s, "remind"))

    def _messages(self, s: Session, snap: due.Snapshot, dues: list[due.Due]) -> list[dict[str, Any]]:
        """One outbox row per reminder, recipient and chosen channel, in the recipient's language,
        written for its reader: it names the teams they may read, and gives a command line only to
        those who run the programme from it (its coordinators; a coach, their check-in's), a link to
        the board to the others when PREINCUB_BASE_URL is set.

        A reminder is queued for a person once: on the channels they chose when it fell due. A
        reminder already queued for them (on any channel) is skipped, so changing one's channels
        never re-sends it. Queued ones are dropped before rendering: a tick that finds nothing
        new costs a key lookup, not a rendering of every message. A person whose address is a
        placeholder (``login@localhost``) gets a row with no recipient: ``preview`` shows it, a tick
        never enqueues it.

        A kind a person muted is not queued for them, unless they may not stop it (a coordinator, the
        deadline). Each message ends with why its person receives it and how to stop it
        (:class:`~notifications.render.Footer`): its one-click link when PREINCUB_BASE_URL is set.
        """
        # The shapes' compiler (~1 ms to import) is loaded by the first reminders rendered, not by `status`.
        from notifications.compiled import render_compiled

        people = {pid: p for pid, p in reminder_rows.people(s, {pid for d in dues for pid in d.recipients}).items()
                  if p.erased_at is None}  # an erased person gets nothing
        links = Links(self.ctx)  # the web links a message carries when PREINCUB_BASE_URL is set
        mutes = Mutes(self.ctx)
        board = base_url(self.ctx.settings)
        board = None if board is None else board + "/"  # the board: what each person may read
        queued = self._queued(s, min((d.at for d in dues), default=None))
        muted = mute_rows.muted(s, people)
        replying = bool(self.ctx.settings.inbox.reply_address)  # a weekly reminder by e-mail may be answered
        wanted = [(d, pid, channel) for d in dues for pid in d.recipients
                  if pid in people and f"{d.key}:p{pid}" not in queued
                  and not ((pid, d.kind) in muted and due.mutable(d.kind, d.why(pid)[0]))
                  for channel in channels_for(people[pid])]
        rows, rendered = [], {}
        for d, pid, channel in wanted:
            key = f"{d.key}:p{pid}:{channel}"
            person = people[pid]
            reply = replying and d.kind == "coaching" and channel == "email"
            if (d.key, pid, reply) not in rendered:
                coordinator = pid in snap.coordinators.get(d.programme_id, ())
                cli = coordinator or d.kind == "coaching"
                role, team = d.why(pid)
                mutable = due.mutable(d.kind, role)
                footer = Footer(d.kind, role, d.context["programme"], team, mutable,
                                mutes.url(pid, person.link_generation or 0, d.kind, d.at) if mutable else None,
                                person.email if coordinator else None)
                rendered[(d.key, pid, reply)] = render_compiled(
                    d.kind, person.lang, {**d.context, **d.per_reader.get(pid, {}), "cli": cli,
                                          **({} if cli or board is None else {"board_url": board}),
                                          "name": person.name, "email": person.email,
                                          **links.for_message(s, d.kind, person, d.context, d.team_id),
                                          **(reply_context(person.lang) if reply else {})},
                    footer)
            subject, text, html = rendered[(d.key, pid, reply)]
            rows.append({"key": key, "reminder": d.key, "kind": d.kind, "channel": channel,
                         "recipient": None if validate.placeholder(person.email) else person.email,
                         "recipient_name": person.name, "lang": person.lang,
                         "subject": subject, "body_text": text, "body_html": html, "team_id": d.team_id,
                         "programme_id": d.programme_id, "due_at": d.at, "stale_at": d.stale})
        return rows

    def preview(self, until: datetime) -> list[PlannedMessage]:
        """What would be enqueued from now up to ``until``, in order; writes nothing. A recipient with no
        real address (a placeholder) shows as None: nothing will be sent to them."""
        now = self.ctx.clock.now()
        validate.plausible_date(until.date(), "--until")
        if until < now:
            raise Invalid(N_("the end of the preview, {until!d}, is before now ({now!d})"), code="until_before_now",
                          until=until.date(), now=now.date())
        with self.ctx.store.read() as s, gc_paused():  # ~10,000 rows of acyclic objects: see enqueue
            self.ctx.require(s, "remind")
            snap = self._snapshot(s, now)
            rows = self._messages(s, snap, due.planned(snap, now, until, self.ctx.settings))
        return [PlannedMessage(paris(r["due_at"]).isoformat(timespec="seconds"), r["kind"], r["reminder"],
                               r["recipient"], r["channel"], r["subject"], r["key"]) for r in rows]

    def unreachable(self) -> list[str]:
        """The people the reader sees who hold a role but have no real address (a placeholder, such as the
        system user's ``login@localhost``): nothing is ever sent to them (``status`` warns once)."""
        with self.ctx.store.read() as s:
            among = None if self.ctx.reach(s, "programmes").everything else self.ctx.visible_people(s)
            return [e for e in reminder_rows.placeholders(s, among) if validate.placeholder(e)]

    @staticmethod
    def _queued(s: Session, since: datetime | None) -> set[str]:
        """``<reminder>:p<person>`` of every message queued for reminders due from ``since`` on: the key
        without its channel."""
        if since is None:
            return set()
        return {k.rsplit(":", 1)[0] for k in outbox_rows.queued_keys(s, since)}

    def enqueue(self) -> int:
        """Enqueue what is due now and not yet stale, in one transaction; return how many were new.

        An instance administrator's enqueue (the daemon's) first reads one row: when nothing changed since
        its last full look (the audit chain's head, which every change moves, and the settings are the same)
        and no reminder can have fallen due since (:func:`~workflow.rules.due.quiet_until`), there is nothing
        new, whatever the number of teams. Otherwise the full look, which records itself as the new plan;
        the cyclic garbage collector is paused during it (:func:`~workflow.services.listing.gc_paused`): its
        ~100,000 small acyclic objects made it run over and over, ~15 % of the look at 10,000 teams.
        """
        now = self.ctx.clock.now()
        cfg = self._settings_digest()
        with self.ctx.store.read() as s:
            self.ctx.require(s, "remind")
            everything = self.ctx.visible_programmes(s, "remind") is None
            if everything and self._quiet(s, cfg, now):
                return 0
        with self.ctx.store.write() as s, gc_paused():
            self.ctx.require(s, "remind")
            # The head before the look: a change written meanwhile makes the next tick look again.
            events, head = reminder_rows.head(s.connection())
            snap = self._snapshot(s, now)
            fresh = [r for r in self._messages(s, snap, due.due_now(snap, now, self.ctx.settings)) if r["recipient"]]
            if everything:
                reminder_rows.save_plan(s.connection(), self.ctx.store.dialect, events, head, cfg, now)
            if not fresh:
                return 0
            at = self.ctx.clock.wall()
            for r in fresh:
                r.update(status=OutboxStatus.PENDING.value, attempts=0, next_attempt_at=at, created_at=now)
            # A concurrent tick may insert the same keys first: count only the rows this one inserted.
            return outbox_rows.insert_new(s, self.ctx.store.dialect, fresh)

    def _quiet(self, s: Session, cfg: str, now: datetime) -> bool:
        """Whether the last full look still holds at ``now`` (see :meth:`enqueue`)."""
        row = reminder_rows.plan(self.ctx.store, s)
        if row is None:
            return False
        events, head, settings, computed_at, events_now, head_now = row
        return ((events, head, settings) == (events_now, head_now, cfg)
                and computed_at <= now < due.quiet_until(computed_at, self.ctx.settings))

    def _settings_digest(self) -> str:
        """What the reminders due depend on among the settings (their days and times; the coaching's)."""
        return settings_digest(self.ctx.settings.reminders, self.ctx.settings.coaching)

    def tick(self, holder: str | None = None, stop: Stop | None = None, record: bool = False, *,
             console: bool = False, progress: Progress | None = None,
             next_tick: str | None = None) -> TickResult:
        """One tick: enqueue what is due now, then deliver what is pending (see :meth:`deliver`).

        Delivery settings and the actor's right are checked before anything is written. The daemon
        ``record``s it as its last tick, with ``next_tick`` (its next scheduled one); ``remind run``
        does not, so a manual run never passes for a live daemon.
        """
        self.ctx.settings.check_delivery()
        self.delivery.may_remind()
        holder = holder or holder_name()
        enqueued = self.enqueue()
        counts = self.delivery.deliver(holder, stop, console=console, progress=progress)
        summary = TickResult(self.ctx.clock.now().isoformat(timespec="seconds"), holder, enqueued, counts["sent"],
                             counts["retry"], counts["failed"], counts["waiting"], next_tick)
        if record:
            Lease(self.ctx).record(summary, holder)
        return summary

