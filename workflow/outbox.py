"""Reminders into the outbox, the daemon's lease, and the outbox for people (list, retry, health).

Enqueue is one transaction, under a unique key per message: computing twice, restarting, or two
daemons at once never enqueue a message twice. Sending is :mod:`workflow.delivery`.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from notifications import CHANNELS, render
from workflow import delivery, reminders, validate
from workflow.clock import PARIS, paris
from workflow.delivery import UNCONFIGURED, Delivery, Progress, configured, holder_name
from workflow.errors import ChangedMeanwhile, Invalid, NotFound
from workflow.models import DaemonLease, Outbox, Person

__all__ = ["STATUSES", "Reminders", "channels_for", "health_warning", "holder_name", "tick_line", "until_datetime"]

STATUSES = ("pending", "sending", "sent", "failed", "cancelled")
_T = Outbox.__table__
LEASE = "daemon"
RETRYING_TOO_LONG = timedelta(hours=1)  # a message failing for longer makes the outbox unhealthy


def channels_for(person: Person) -> list[str]:
    """The channels the person chose, whatever is configured here: a reminder goes once on each.

    A channel not configured here never falls back to another: that would re-send, under a new
    key, what a process configured for it has sent or will send.
    """
    chosen = [c.strip() for c in (person.channels or "").split(",") if c.strip() in CHANNELS]
    return list(dict.fromkeys(chosen)) or ["email"]


def tick_line(r: dict[str, Any]) -> str:
    """A tick's counts as one line: the daemon's log, `remind run` and `daemon --once`."""
    line = f"enqueued {r['enqueued']}, sent {r['sent']}, to retry {r['retry']}, failed {r['failed']}"
    return line + (f", waiting {r['waiting']} (channel not configured here)" if r.get("waiting") else "")


def health_warning(h: dict[str, Any]) -> str | None:
    """One line when messages failed or have been retrying for over an hour (the daemon's log)."""
    if not (h["failed"] or h["retrying_over_an_hour"]):
        return None
    return (f"outbox: {h['failed']} failed, {h['retrying_over_an_hour']} retrying for over an hour"
            + (f" (failing since {h['failing_since']})" if h["failing_since"] else "")
            + "; see 'preincub outbox list' and 'preincub outbox retry --status failed'")


def _insert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


class Reminders(Delivery):
    """Mixed into :class:`workflow.Workflow`: reminders, the outbox, and the daemon's lease."""

    # ---- what is due ---------------------------------------------------------------------

    def _snapshot(self, s: Session, now: datetime) -> reminders.Snapshot:
        return reminders.snapshot(s, now - reminders.horizon(self.settings))

    def _messages(self, s: Session, dues: list[reminders.Due]) -> list[dict[str, Any]]:
        """One outbox row per reminder, recipient and chosen channel, in the recipient's language.

        A reminder is queued for a person once: on the channels they chose when it fell due. A
        reminder already queued for them (on any channel) is skipped, so changing one's channels
        never re-sends it. Queued ones are dropped before rendering: a tick that finds nothing
        new costs a key lookup, not a rendering of every message.
        """
        people = reminders.people(s, {pid for d in dues for pid in d.recipients})
        queued = self._queued(s, min((d.at for d in dues), default=None))
        wanted = [(d, pid, channel) for d in dues for pid in d.recipients if f"{d.key}:p{pid}" not in queued
                  for channel in channels_for(people[pid])]
        rows, rendered = [], {}
        for d, pid, channel in wanted:
            key = f"{d.key}:p{pid}:{channel}"
            person = people[pid]
            if (d.key, pid) not in rendered:
                rendered[(d.key, pid)] = render(d.kind, person.lang,
                                                {**d.context, "name": person.name, "email": person.email})
            subject, text, html = rendered[(d.key, pid)]
            rows.append({"key": key, "reminder": d.key, "kind": d.kind, "channel": channel,
                         "recipient": person.email, "recipient_name": person.name, "lang": person.lang,
                         "subject": subject, "body_text": text, "body_html": html, "team_id": d.team_id,
                         "programme_id": d.programme_id, "due_at": d.at, "stale_at": d.stale})
        return rows

    def remind_preview(self, until: datetime) -> list[dict]:
        """What would be enqueued from now up to ``until``, in order; writes nothing."""
        now = self.clock.now()
        validate.plausible_date(until.date(), "--until")
        if until < now:
            raise Invalid(f"--until {until.date().isoformat()} is before now ({now.date().isoformat()})",
                          f"--until {until.date().isoformat()} est avant maintenant ({now.date().isoformat()})")
        with self.store.read() as s:
            self._require(s, "remind")
            rows = self._messages(s, reminders.planned(self._snapshot(s, now), now, until, self.settings))
        return [{"at": paris(r["due_at"]).isoformat(timespec="minutes"), "kind": r["kind"],
                 "reminder": r["reminder"], "to": r["recipient"], "channel": r["channel"], "subject": r["subject"],
                 "key": r["key"]} for r in rows]

    @staticmethod
    def _queued(s: Session, since: datetime | None) -> set[str]:
        """``<reminder>:p<person>`` of every message queued for reminders due from ``since`` on (one
        range scan, whatever the number of keys): the key without its channel."""
        if since is None:
            return set()
        keys = s.connection().execute(select(Outbox.key).where(Outbox.due_at >= since)).scalars()
        return {k.rsplit(":", 1)[0] for k in keys}

    def enqueue_due(self) -> int:
        """Enqueue what is due now and not yet stale, in one transaction; return how many were new."""
        now = self.clock.now()
        with self.store.write() as s:
            self._require(s, "remind")
            fresh = self._messages(s, reminders.due_now(self._snapshot(s, now), now, self.settings))
            if not fresh:
                return 0
            at, created = delivery.wall(), now
            for r in fresh:
                r.update(status="pending", attempts=0, next_attempt_at=at, created_at=created)
            # A concurrent tick may insert the same keys first: count only the rows this one inserted.
            ins = (_insert(self.store.dialect)(Outbox).on_conflict_do_nothing(index_elements=["key"])
                   .returning(Outbox.id))
            return len(s.connection().execute(ins, fresh).all())

    def tick(self, holder: str | None = None, stop: threading.Event | None = None, record: bool = False, *,
             console: bool = False, progress: Progress | None = None,
             note: dict[str, Any] | None = None) -> dict[str, Any]:
        """One tick: enqueue what is due now, then deliver what is pending (see :meth:`deliver`).

        Delivery settings and the actor's right are checked before anything is written. The daemon
        ``record``s it as its last tick, with ``note`` (its next scheduled tick); ``remind run``
        does not, so a manual run never passes for a live daemon.
        """
        self.settings.check_delivery()
        self.may_remind()
        holder = holder or holder_name()
        enqueued = self.enqueue_due()
        counts = self.deliver(holder, stop, console=console, progress=progress)
        summary = {"at": self.clock.now().isoformat(timespec="seconds"), "holder": holder,
                   "enqueued": enqueued, **counts, **(note or {})}
        if not record:
            return summary
        with self.store.write() as s:
            lease = s.get(DaemonLease, LEASE)
            if lease is None:
                s.add(DaemonLease(name=LEASE, holder=holder, until=delivery.wall(), last_tick_at=delivery.wall(),
                                  last_tick=json.dumps(summary)))
            else:
                lease.last_tick_at, lease.last_tick = delivery.wall(), json.dumps(summary)
                s.add(lease)
        return summary

    # ---- the daemon's lease --------------------------------------------------------------

    def acquire_lease(self, holder: str) -> bool:
        """Take or renew the daemon lease; False while another live daemon holds it."""
        at = delivery.wall()
        until = at + timedelta(seconds=self.settings.lease_seconds)
        try:
            with self.store.write() as s:
                self._require(s, "remind")  # before the lease row is written
                q = select(DaemonLease).where(DaemonLease.name == LEASE)
                if self.store.dialect == "postgresql":
                    q = q.with_for_update()
                lease = s.exec(q).first()
                if lease is None:
                    s.add(DaemonLease(name=LEASE, holder=holder, until=until))
                    return True
                if lease.holder != holder and lease.until > at:
                    return False
                lease.holder, lease.until = holder, until
                s.add(lease)
                return True
        except ChangedMeanwhile:  # another daemon created the very first lease row at the same moment
            return False

    def release_lease(self, holder: str) -> None:
        with self.store.write() as s:
            s.execute(sa.update(DaemonLease).where(DaemonLease.name == LEASE, DaemonLease.holder == holder)
                      .values(until=delivery.wall() - timedelta(seconds=1)).execution_options(synchronize_session=False))

    def last_tick(self) -> dict | None:
        with self.store.read() as s:
            lease = s.get(DaemonLease, LEASE)
        if lease is None or lease.last_tick_at is None:
            return None
        return {**json.loads(lease.last_tick or "{}"), "wall": paris(lease.last_tick_at).isoformat(timespec="seconds"),
                "lease_holder": lease.holder, "lease_until": paris(lease.until).isoformat(timespec="seconds")}

    # ---- the outbox, for people --------------------------------------------------------------

    @staticmethod
    def _outbox_dict(r: Outbox) -> dict:
        def at(dt: datetime | None) -> str | None:
            return paris(dt).isoformat(timespec="seconds") if dt else None

        return {"id": r.id, "key": r.key, "kind": r.kind, "channel": r.channel, "to": r.recipient,
                "subject": r.subject, "status": r.status, "attempts": r.attempts, "last_error": r.last_error,
                "due_at": paris(r.due_at).isoformat(timespec="minutes"), "stale_at": at(r.stale_at),
                "next_attempt_at": at(r.next_attempt_at), "failing_since": at(r.failing_since),
                "sent_at": at(r.sent_at), "sent_via": r.sent_via}

    def outbox(self, status: str | None = None, limit: int | None = None) -> list[dict]:
        with self.store.read() as s:
            self._require(s, "remind")
            q = select(Outbox).order_by(Outbox.id)
            if status is not None:
                q = q.where(Outbox.status == validate.choice(status, STATUSES, "status"))
            if limit:
                q = q.limit(limit)
            return [self._outbox_dict(r) for r in s.exec(q)]

    def outbox_health(self) -> dict[str, Any]:
        """For monitoring: messages pending (of which retrying, and for over an hour) and failed.

        Read from what deliverers recorded, not from this process's settings: a shell without
        PREINCUB_SMTP_URL sees the daemon's outbox as the daemon does.
        """
        long_ago = delivery.wall() - RETRYING_TOO_LONG
        waiting = (_T.c.status == "pending") | (_T.c.status == "sending")
        with self.store.read() as s:
            self._require(s, "remind")
            c = s.connection()
            by = dict(c.execute(select(_T.c.status, sa.func.count()).group_by(_T.c.status)).all())
            retrying, too_long, oldest = c.execute(
                select(sa.func.count(_T.c.failing_since), sa.func.count(sa.case((_T.c.failing_since <= long_ago, 1))),
                       sa.func.min(_T.c.failing_since)).where(waiting)).one()
        return {"pending": by.get("pending", 0) + by.get("sending", 0), "retrying": retrying,
                "retrying_over_an_hour": too_long, "failed": by.get("failed", 0),
                "failing_since": paris(oldest).isoformat(timespec="seconds") if oldest else None,
                "healthy": not (too_long or by.get("failed", 0))}

    def _refuse_unconfigured(self, rows: list[Outbox], one: int | None = None) -> None:
        """A retry on a channel not configured here would wait forever: refuse it, with the reason."""
        missing = Counter(r.channel for r in rows if r.channel not in configured(self.settings))
        if not missing:
            return
        channel, n = missing.most_common(1)[0]
        en, fr, var = UNCONFIGURED[channel]
        if one is not None:
            raise Invalid(f"message #{one} goes by {en}, which is not configured here ({var}): it would stay "
                          f"pending; set {var}, then retry",
                          f"le message n°{one} part par {fr}, non configuré ici ({var}) : il resterait en attente ; "
                          f"définissez {var}, puis réessayez")
        raise Invalid(f"{n} of these {len(rows)} messages go by {en}, which is not configured here ({var}): nothing "
                      f"retried; set {var}, then retry",
                      f"{n} de ces {len(rows)} messages partent par {fr}, non configuré ici ({var}) : rien n'est "
                      f"relancé ; définissez {var}, puis réessayez")

    def _revive(self, r: Outbox) -> None:
        """Pending again at once, with a fresh count of attempts. One whose reminder went stale meanwhile
        (no longer current) is sent anyway, a person asked for it: RETRY_MAX attempts, not its staleness."""
        stale = r.stale_at is not None and r.stale_at <= self.clock.now()
        r.status, r.attempts, r.next_attempt_at, r.last_error = "pending", 0, delivery.wall(), None
        r.failing_since, r.sent_via, r.stale_at = None, None, None if stale else r.stale_at

    def _outbox_row(self, s: Session, row_id: int, allowed: tuple[str, ...]) -> Outbox:
        r = s.get(Outbox, row_id)
        if r is None:
            raise NotFound(f"no outbox message #{row_id} (see 'preincub outbox list')",
                           f"aucun message n°{row_id} dans la boîte d'envoi (voir 'preincub outbox list')")
        if r.status not in allowed:
            raise Invalid(f"message #{row_id} is {r.status}; only a {' or '.join(allowed)} one can be changed so",
                          f"le message n°{row_id} est {r.status} ; seul un message {' ou '.join(allowed)} peut l'être")
        return r

    def outbox_retry(self, row_id: int) -> dict:
        """Send a failed (or cancelled) message again at the next tick, with a fresh count of attempts."""
        self.settings.check_delivery()
        with self.store.write() as s:
            self._require(s, "remind")
            r = self._outbox_row(s, row_id, ("failed", "cancelled"))
            self._refuse_unconfigured([r], one=row_id)
            self._revive(r)
            s.add(r)
            self._event(s, "outbox.retry", data={"outbox": r.id, "key": r.key})
            s.flush()
            return self._outbox_dict(r)

    def outbox_retry_all(self, status: str = "failed", since: date | None = None) -> list[int]:
        """Retry every ``status`` message (failed or cancelled) due on or after ``since``, in one
        transaction (after an outage: ``outbox retry --status failed``); return their ids."""
        validate.choice(status, ("failed", "cancelled"), "status")
        self.settings.check_delivery()
        with self.store.write() as s:
            self._require(s, "remind")
            q = select(Outbox).where(Outbox.status == status).order_by(Outbox.id)
            if since is not None:
                validate.plausible_date(since, "--since")
                q = q.where(Outbox.due_at >= datetime.combine(since, time(0), tzinfo=PARIS))
            rows = list(s.exec(q))
            self._refuse_unconfigured(rows)
            for r in rows:
                self._revive(r)
                s.add(r)
            if rows:
                self._event(s, "outbox.retry", data={"status": status, "since": since.isoformat() if since else None,
                                                     "count": len(rows), "outbox": [r.id for r in rows]})
            return [r.id for r in rows]

    def outbox_cancel(self, row_id: int) -> dict:
        with self.store.write() as s:
            self._require(s, "remind")
            r = self._outbox_row(s, row_id, ("pending", "failed"))
            r.status = "cancelled"
            s.add(r)
            self._event(s, "outbox.cancelled", data={"outbox": r.id, "key": r.key})
            s.flush()
            return self._outbox_dict(r)


def until_datetime(d: date) -> datetime:
    """``--until DATE`` covers that whole day, in Paris."""
    return datetime.combine(d, time(23, 59, 59), tzinfo=PARIS)
