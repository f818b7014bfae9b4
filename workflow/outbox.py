"""Reminders into the outbox, and the outbox out through the channels.

Enqueue is one transaction, under a unique key per message: computing twice, restarting, or two
daemons at once never enqueue a message twice. Delivery claims rows (``FOR UPDATE SKIP LOCKED``
on PostgreSQL), sends each, and marks it sent only once the channel accepted it: at least once,
with the key travelling along so receivers can drop the rare duplicate.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from notifications import (
    Channel,
    ChatChannel,
    ConsoleChannel,
    DeliveryError,
    EmailChannel,
    Message,
    backoff,
    render,
)
from workflow import reminders, validate
from workflow.clock import PARIS, paris
from workflow.errors import ChangedMeanwhile, Invalid, NotFound
from workflow.models import DaemonLease, Outbox, Person
from workflow.settings import Settings

STATUSES = ("pending", "sending", "sent", "failed", "cancelled")
log = logging.getLogger("preincub.outbox")
_T = Outbox.__table__
_SETTLE = sa.update(_T).where(_T.c.id == sa.bindparam("row_id"), _T.c.claimed_by == sa.bindparam("holder"))
LEASE = "daemon"
BATCH = 50


def wall() -> datetime:
    """Real time, for leases and retry delays (the business clock may be frozen by --now)."""
    return datetime.now(timezone.utc)


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def channels_for(person: Person, cfg: Settings) -> list[str]:
    """The person's chosen channels that are configured here; the console when none is."""
    configured = {"console": True, "email": bool(cfg.smtp_url), "chat": bool(cfg.webhook_url)}
    chosen = [c.strip() for c in (person.channels or "").split(",") if c.strip()]
    usable = [c for c in dict.fromkeys(chosen) if configured.get(c)]
    return usable or ["console"]


def open_channel(name: str, cfg: Settings) -> Channel:
    if name == "email":
        if not cfg.smtp_url:
            raise DeliveryError("e-mail is not configured here (PREINCUB_SMTP_URL)")
        return EmailChannel(cfg.smtp_url, cfg.smtp_from, password=cfg.smtp_password, starttls=cfg.smtp_starttls,
                            timeout=cfg.smtp_timeout)
    if name == "chat":
        if not cfg.webhook_url:
            raise DeliveryError("the chat webhook is not configured here (PREINCUB_WEBHOOK_URL)")
        return ChatChannel(cfg.webhook_url, timeout=cfg.smtp_timeout)
    return ConsoleChannel()


def _insert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


class Reminders:
    """Mixed into :class:`workflow.Workflow`: reminders, the outbox, and the daemon's lease."""

    # ---- what is due ---------------------------------------------------------------------

    def _snapshot(self, s: Session, now: datetime) -> reminders.Snapshot:
        return reminders.snapshot(s, now - reminders.horizon(self.settings))

    def _messages(self, s: Session, dues: list[reminders.Due]) -> list[dict[str, Any]]:
        """One outbox row per reminder, recipient and channel not queued yet, in the recipient's language.

        Keys already in the outbox are dropped before rendering: a tick that finds nothing new
        costs a key lookup, not a rendering of every message.
        """
        people = reminders.people(s, {pid for d in dues for pid in d.recipients})
        wanted = [(d, pid, channel) for d in dues for pid in d.recipients
                  for channel in channels_for(people[pid], self.settings)]
        queued = self._existing(s, min((d.at for d in dues), default=None))
        rows, rendered = [], {}
        for d, pid, channel in wanted:
            key = f"{d.key}:p{pid}:{channel}"
            if key in queued:
                continue
            person = people[pid]
            if (d.key, pid) not in rendered:
                rendered[(d.key, pid)] = render(d.kind, person.lang,
                                                {**d.context, "name": person.name, "email": person.email})
            subject, text, html = rendered[(d.key, pid)]
            rows.append({"key": key, "reminder": d.key, "kind": d.kind, "channel": channel,
                         "recipient": person.email, "recipient_name": person.name, "lang": person.lang,
                         "subject": subject, "body_text": text, "body_html": html, "team_id": d.team_id,
                         "programme_id": d.programme_id, "due_at": d.at})
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
    def _existing(s: Session, since: datetime | None) -> set[str]:
        """Keys queued for reminders due from ``since`` on: one range scan, whatever the number of keys."""
        if since is None:
            return set()
        return set(s.connection().execute(select(Outbox.key).where(Outbox.due_at >= since)).scalars())

    def enqueue_due(self) -> int:
        """Enqueue what is due now and not yet stale, in one transaction; return how many were new."""
        now = self.clock.now()
        with self.store.write() as s:
            self._require(s, "remind")
            fresh = self._messages(s, reminders.due_now(self._snapshot(s, now), now, self.settings))
            if not fresh:
                return 0
            at, created = wall(), now
            for r in fresh:
                r.update(status="pending", attempts=0, next_attempt_at=at, created_at=created)
            # A concurrent tick may insert the same keys first: count only the rows this one inserted.
            ins = (_insert(self.store.dialect)(Outbox).on_conflict_do_nothing(index_elements=["key"])
                   .returning(Outbox.id))
            return len(s.connection().execute(ins, fresh).all())

    # ---- delivery ------------------------------------------------------------------------

    def _claim(self, holder: str, after: int) -> list[Outbox]:
        at = wall()
        with self.store.write() as s:
            q = (select(Outbox).where(Outbox.id > after, sa.or_(
                    sa.and_(Outbox.status == "pending", Outbox.next_attempt_at <= at),
                    sa.and_(Outbox.status == "sending", Outbox.claimed_until < at)))  # a claimer that died
                 .order_by(Outbox.id).limit(BATCH))
            if self.store.dialect == "postgresql":
                q = q.with_for_update(skip_locked=True)
            rows = list(s.exec(q))
            if rows:
                s.execute(sa.update(Outbox).where(Outbox.id.in_([r.id for r in rows]))
                          .values(status="sending", claimed_by=holder,
                                  claimed_until=at + timedelta(seconds=self.settings.lease_seconds))
                          .execution_options(synchronize_session=False))
            return rows

    def _renew(self, holder: str, ids: list[int]) -> set[int]:
        """Extend our claim on rows not sent yet; return those still ours (a claim that lapsed may be taken)."""
        with self.store.write() as s:
            res = s.execute(sa.update(Outbox).where(Outbox.id.in_(ids), Outbox.claimed_by == holder,
                                                    Outbox.status == "sending")
                            .values(claimed_until=wall() + timedelta(seconds=self.settings.lease_seconds))
                            .returning(Outbox.id).execution_options(synchronize_session=False))
            return set(res.scalars())

    def _unclaim(self, holder: str, ids: list[int]) -> None:
        """Give back rows claimed but not sent (on stop), so the next tick sends them at once."""
        if ids:
            with self.store.write() as s:
                s.execute(sa.update(Outbox).where(Outbox.id.in_(ids), Outbox.claimed_by == holder)
                          .values(status="pending", claimed_by=None, claimed_until=None)
                          .execution_options(synchronize_session=False))

    def _settle(self, row: Outbox, holder: str, error: str | None) -> str:
        """Mark a claimed row sent, or schedule its retry, or fail it after the last attempt."""
        at = wall()
        attempts = row.attempts + 1
        if error is None:
            values: dict[str, Any] = {"status": "sent", "sent_at": at, "last_error": None}
        elif attempts >= self.settings.retry_max:
            values = {"status": "failed", "last_error": error}
        else:
            values = {"status": "pending", "last_error": error,
                      "next_attempt_at": at + timedelta(seconds=backoff(attempts, self.settings.retry_base_seconds))}
        with self.store.core_write() as conn:  # once per message: kept lean
            conn.execute(_SETTLE.values(attempts=attempts, claimed_by=None, claimed_until=None, **values),
                         {"row_id": row.id, "holder": holder})
        return values["status"]

    def deliver(self, holder: str | None = None, stop: threading.Event | None = None) -> dict[str, int]:
        """Send every pending message once (a failure waits for a later tick); return the counts.

        A claim is renewed once half its time has passed, and a row whose claim lapsed to
        another deliverer is left to it. ``stop`` (SIGTERM) ends the pass between two messages
        and gives the unsent rows back.
        """
        holder = holder or holder_name()
        counts = {"sent": 0, "retry": 0, "failed": 0}
        opened: dict[str, Channel] = {}
        after = 0
        half = timedelta(seconds=self.settings.lease_seconds / 2)
        try:
            while batch := self._claim(holder, after):
                renew_at = wall() + half
                ours = {r.id for r in batch}
                for i, row in enumerate(batch):
                    after = row.id
                    if stop is not None and stop.is_set():
                        self._unclaim(holder, [r.id for r in batch[i:]])
                        return counts
                    if wall() >= renew_at:
                        ours = self._renew(holder, [r.id for r in batch[i:]])
                        renew_at = wall() + half
                    if row.id not in ours:
                        continue
                    msg = Message(row.key, row.recipient, row.recipient_name, row.subject, row.body_text,
                                  row.body_html, row.lang)
                    try:
                        if row.channel not in opened:
                            opened[row.channel] = open_channel(row.channel, self.settings)
                        opened[row.channel].send(msg)
                        error = None
                    except DeliveryError as exc:
                        error = str(exc)[:500]
                    except Exception as exc:  # noqa: BLE001 - one bad message must not hold back the others
                        log.exception("delivering outbox message %s", row.id)
                        error = f"{type(exc).__name__}: {exc}"[:500]
                    status = self._settle(row, holder, error)
                    counts["sent" if status == "sent" else "retry" if status == "pending" else "failed"] += 1
        finally:
            for ch in opened.values():
                ch.close()
        return counts

    def tick(self, holder: str | None = None, stop: threading.Event | None = None,
             record: bool = False) -> dict[str, Any]:
        """One tick: enqueue what is due now, then deliver what is pending.

        The daemon ``record``s it as its last tick (what ``status`` shows); ``remind run`` does not,
        so a manual run never passes for a live daemon.
        """
        holder = holder or holder_name()
        enqueued = self.enqueue_due()
        counts = self.deliver(holder, stop)
        summary = {"at": self.clock.now().isoformat(timespec="seconds"), "holder": holder,
                   "enqueued": enqueued, **counts}
        if not record:
            return summary
        with self.store.write() as s:
            lease = s.get(DaemonLease, LEASE)
            if lease is None:
                s.add(DaemonLease(name=LEASE, holder=holder, until=wall(), last_tick_at=wall(),
                                  last_tick=json.dumps(summary)))
            else:
                lease.last_tick_at, lease.last_tick = wall(), json.dumps(summary)
                s.add(lease)
        return summary

    # ---- the daemon's lease --------------------------------------------------------------

    def acquire_lease(self, holder: str) -> bool:
        """Take or renew the daemon lease; False while another live daemon holds it."""
        at = wall()
        until = at + timedelta(seconds=self.settings.lease_seconds)
        try:
            with self.store.write() as s:
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
                      .values(until=wall() - timedelta(seconds=1)).execution_options(synchronize_session=False))

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
        return {"id": r.id, "key": r.key, "kind": r.kind, "channel": r.channel, "to": r.recipient,
                "subject": r.subject, "status": r.status, "attempts": r.attempts, "last_error": r.last_error,
                "due_at": paris(r.due_at).isoformat(timespec="minutes"),
                "next_attempt_at": paris(r.next_attempt_at).isoformat(timespec="seconds"),
                "sent_at": paris(r.sent_at).isoformat(timespec="seconds") if r.sent_at else None}

    def outbox(self, status: str | None = None, limit: int | None = None) -> list[dict]:
        with self.store.read() as s:
            self._require(s, "remind")
            q = select(Outbox).order_by(Outbox.id)
            if status is not None:
                if status not in STATUSES:
                    raise Invalid(f"unknown status {status!r}; choose one of: {', '.join(STATUSES)}",
                                  f"statut inconnu {status!r} ; choisissez parmi : {', '.join(STATUSES)}")
                q = q.where(Outbox.status == status)
            if limit:
                q = q.limit(limit)
            return [self._outbox_dict(r) for r in s.exec(q)]

    def _outbox_change(self, row_id: int, allowed: tuple[str, ...], **values: Any) -> dict:
        with self.store.write() as s:
            self._require(s, "remind")
            r = s.get(Outbox, row_id)
            if r is None:
                raise NotFound(f"no outbox message #{row_id} (see 'preincub outbox list')",
                               f"aucun message n°{row_id} dans la boîte d'envoi (voir 'preincub outbox list')")
            if r.status not in allowed:
                raise Invalid(f"message #{row_id} is {r.status}; only a {' or '.join(allowed)} one can be changed so",
                              f"le message n°{row_id} est {r.status} ; seul un message {' ou '.join(allowed)} peut l'être")
            for k, v in values.items():
                setattr(r, k, v)
            s.add(r)
            self._event(s, f"outbox.{values['status'] if values['status'] == 'cancelled' else 'retry'}",
                        data={"outbox": r.id, "key": r.key})
            s.flush()
            return self._outbox_dict(r)

    def outbox_retry(self, row_id: int) -> dict:
        """Send a failed (or cancelled) message again at the next tick, with a fresh count of attempts."""
        return self._outbox_change(row_id, ("failed", "cancelled"), status="pending", attempts=0,
                                   next_attempt_at=wall(), last_error=None)

    def outbox_cancel(self, row_id: int) -> dict:
        return self._outbox_change(row_id, ("pending", "failed"), status="cancelled")


def until_datetime(d: date) -> datetime:
    """``--until DATE`` covers that whole day, in Paris."""
    return datetime.combine(d, time(23, 59, 59), tzinfo=PARIS)
