"""The inbox: a coach's reply to the weekly reminder becomes the week's check-in.

Mail reaches :meth:`Inbox.receive` from ``inbox serve`` (LMTP or SMTP) or from the mailbox poller
(``inbox poll``, the daemon); both hand the raw message over and nothing else. The reply's key (its
Reply-To's sub-address, or the reminder's Message-ID in In-Reply-To / References when a server dropped the
sub-address: :mod:`workflow.rules.replykey`) names the coach, the team and the week; the check-in is then
written by the check-in link's own path (:meth:`Links.reply_checkin`), so the rules, the correction window and
the audit event (``"via": "email"``) are the form's.

Each mail is received once: its Message-ID's digest is recorded in the transaction that writes what came of
it (the check-in, or a refusal) together with the answer queued in the outbox, so a mail delivered twice
logs once and a crash never answers twice. Auto-replies and bounces (RFC 3834) are recorded as ignored and
never answered; every human reply is answered: what was recorded and how to correct it, or why nothing was.
A sender who is not the key's person is refused without being told anything of that person, and the person
is not told what was written. What a mail said is never stored: only what became of it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from notifications import i18n
from notifications.message import OutboxStatus
from workflow.clock import PARIS, paris
from workflow.context import Context
from workflow.errors import N_, ChangedMeanwhile, Forbidden, Invalid, PreincubError
from workflow.records import (CheckInRecord, InboxCount, InboxEntry, InboxStatus, PollerRecord, Received)
from workflow.rules import replykey
from workflow.rules.coaching import iso_week
from workflow.rules.replykey import ReplyKey
from workflow.services.links import LINK_LIFETIMES, CheckInText, Links
from workflow.store import inbox as inbox_rows
from workflow.store import outbox as outbox_rows
from workflow.store.engine import Session

log = logging.getLogger("preincub.inbox")
DEFAULT_PERIOD = timedelta(days=7)  # inbox status: the last week, unless told
LISTED = 50  # inbox status lists the latest so many mails
ANSWER_STALE = timedelta(days=2)
REFUSALS_A_DAY = 5  # refusals answered to one address in 24 hours; more are recorded, not answered  # an answer not sent within two days is no longer worth sending
_MESSAGE_ID = re.compile(r"<[!-;=?-~]{1,250}>")  # one <...> id of printable ASCII, as In-Reply-To takes it

# Why nothing was recorded, for the refusals of the inbox itself (the others are the library's errors).
NO_KEY = N_("this address takes only replies to the weekly check-in reminders, and your e-mail is not one "
            "(its reply address and references are missing); reply to the reminder itself")
NOT_SENDER = N_("it was not sent from the address the reminder was sent to; reply from that address")
TOO_LARGE = N_("it holds more than {size} KB of text; shorten it, or use the form")


@dataclass(frozen=True, slots=True)
class _Refusal:
    """A refused mail: its code, the sentence that says why (translated when answered), and what is known."""

    code: str
    message: Any
    params: dict[str, Any]
    found: ReplyKey | None = None
    person: Any = None  # the key's person (a row), when the key was ours and the sender is them


@dataclass(frozen=True)
class Inbox:
    """Receiving replies by e-mail, and what became of them (``inbox status``)."""

    ctx: Context
    links: Links

    # ---- who may receive, and at which address -------------------------------------------------

    def accepts(self, address: str) -> bool:
        """Whether the inbox takes mail for ``address`` (an LMTP/SMTP recipient): the reply address's local
        part, with or without a +KEY, in any case; False when PREINCUB_REPLY_ADDRESS is not set."""
        reply = self.ctx.settings.inbox.reply_address
        if not reply or not isinstance(address, str):
            return False
        box, at, domain = address.strip().strip("<>").rpartition("@")
        local, _, reply_domain = reply.rpartition("@")
        return bool(box) and box.partition("+")[0].lower() == local.lower() and domain.lower() == reply_domain.lower()

    def may_receive(self) -> None:
        """Refuse, before serving or polling, a store with no reply address, or an actor who is not an
        instance administrator: the inbox writes every programme's check-ins."""
        if not self.ctx.settings.inbox.reply_address:
            raise Invalid(N_("set PREINCUB_REPLY_ADDRESS (e.g. points@programme.example): replies are taken at "
                             "that address"), code="no_reply_address")
        with self.ctx.store.read() as s:
            if not self.ctx.require(s, "remind").everything:
                raise Forbidden(N_("acting as {actor}, you may not receive replies: the inbox writes the check-ins of "
                                   "every programme; run it as an instance administrator (role admin)"),
                                code="inbox_needs_admin", actor=self.ctx.actor)

    # ---- receiving -------------------------------------------------------------------------

    def receive(self, raw: bytes, *, via: str, recipients: Sequence[str] = (),
                envelope_sender: str | None = None) -> Received:
        """What becomes of one e-mail (the raw message as received; ``recipients`` and ``envelope_sender``: the
        envelope's, over LMTP or SMTP; an empty envelope sender, ``<>``, is a bounce or an auto-reply).

        Never raises for what the mail says: a refusal is recorded and answered. Raises only when the store
        cannot be written (the caller keeps the mail and tries again: an LMTP 451, a message left in its
        mailbox). A race with a second delivery of the same mail ends as ``duplicate``.
        """
        from workflow.rules.mail import parse  # the MIME and reply parsers: loaded by the inbox only

        mail = parse(raw)
        for attempt in range(3):
            if self._seen(mail.digest):
                return Received("duplicate")
            try:
                result = self._receive(mail, via, recipients, envelope_sender)
            except ChangedMeanwhile:  # the same mail, or a check-in of that week, written meanwhile: look again
                if attempt == 2:
                    raise
                continue
            log.info("reply via %s: %s%s", via, result.outcome, f" ({result.reason})" if result.reason else "")
            return result
        raise AssertionError("unreachable")

    def _seen(self, digest: str) -> bool:
        with self.ctx.store.read() as s:
            return inbox_rows.seen(s.connection(), digest)

    def _receive(self, mail: Any, via: str, recipients: Sequence[str], envelope_sender: str | None) -> Received:
        from workflow.rules.mail import MAX_TEXT
        from workflow.rules.replies import fields

        now = self.ctx.clock.now()
        receipt = {"digest": mail.digest, "received_at": now, "via": via, "size": mail.size}
        auto = mail.auto
        if auto is None and envelope_sender is not None and not envelope_sender.strip().strip("<>").strip():
            auto = "bounce"  # MAIL FROM:<>, which bounces and auto-replies use (RFC 3834, 5321)
        if auto is not None:  # RFC 3834: an automatic message is never answered
            with self.ctx.store.write() as s:
                inbox_rows.record(s.connection(), **receipt, outcome="ignored", reason=auto)
            return Received("ignored", auto)
        refusal = self._key_of(mail, recipients)
        if isinstance(refusal, _Refusal):
            return self._refuse(mail, receipt, refusal)
        found, person = refusal
        if mail.text_size > MAX_TEXT:
            return self._refuse(mail, receipt, _Refusal("too_large", TOO_LARGE, {"size": MAX_TEXT // 1024}, found,
                                                        person))
        typed = CheckInText(**fields(mail.reply))
        links = Links(self.ctx.through("email"))
        answered: list[bool] = []

        def also(s: Session, record: CheckInRecord, corrected: bool) -> None:
            inbox_rows.record(s.connection(), **receipt, outcome="corrected" if corrected else "logged",
                              person_id=person.id, team_id=found.team_id, week=found.week, checkin_id=record.id)
            answered.append(self._answer(s, mail, person, found.team_id, "reply_logged", {
                **self._shown(record, person.lang), "name": person.name, "team": record.team, "week": found.week,
                "corrected": corrected, "attachments": len(mail.attachments),
                "edit_days": self.ctx.settings.coaching.checkin_edit_days,
                "form_url": links.form_url(person.id, person.link_generation or 0, found.team_id, found.week)}))

        try:
            record, corrected = links.reply_checkin(found, typed, also=also)
        except ChangedMeanwhile:
            raise
        except PreincubError as exc:
            return self._refuse(mail, receipt, _Refusal(exc.code, exc, {}, found, person))
        return Received("corrected" if corrected else "logged", None, record.team, found.week, record.id,
                        bool(answered and answered[0]))

    def _key_of(self, mail: Any, recipients: Sequence[str]) -> _Refusal | tuple[ReplyKey, Any]:
        """The reply's key and its person, once the sender is known to be them; else the refusal."""
        keys = replykey.candidates(self.ctx.settings.inbox.reply_address, [*recipients, *mail.addresses],
                                   [*mail.in_reply_to, *mail.references])
        secret = self.links.key()
        decoded = [k for k in (replykey.decode(secret, c) for c in keys) if k is not None]
        if not decoded:
            if keys:
                return _Refusal("link_invalid", N_("this reply address is not valid (it was cut or changed); reply "
                                                   "to the reminder itself"), {})
            return _Refusal("no_key", NO_KEY, {})
        with self.ctx.store.read() as s:
            people = inbox_rows.people(s.connection(), [k.person_id for k in decoded])
        # Several keys (a thread of reminders, another coach's in Cc): the sender's own, else the first.
        found = next((k for k in decoded if k.person_id in people
                      and same_address(mail.sender, people[k.person_id].email)), decoded[0])
        person = people.get(found.person_id)
        if person is None or person.erased_at is not None:
            return _Refusal("link_revoked", N_("this link was revoked; ask a coordinator for a new one"), {}, found)
        if not same_address(mail.sender, person.email):
            # The stranger learns nothing of the key's person; the person is not told what was written.
            return _Refusal("not_sender", NOT_SENDER, {}, found)
        return found, person

    def _refuse(self, mail: Any, receipt: dict[str, Any], why: _Refusal) -> Received:
        """Record a refused mail and answer its sender in one transaction: in the key's person's language when
        the sender is them, else in the default one; with the form's link when the key still allows it."""
        person, found = why.person, why.found
        lang = person.lang if person is not None else i18n.DEFAULT_LANG
        reason = why.message.text(lang) if isinstance(why.message, PreincubError) else i18n.text(lang, why.message,
                                                                                                  why.params)
        form_url = self._form_link(found, person) if person is not None else None
        team = week = None
        if person is not None and found is not None:
            team = self._team_name(found.team_id)
            week = found.week if team is not None else None
        # A stranger is greeted by no name: what they wrote in their From is never sent back.
        context = {"name": person.name if person is not None else None, "team": team, "week": week,
                   "reason": reason, "form_url": form_url}
        with self.ctx.store.write() as s:
            inbox_rows.record(s.connection(), **receipt, outcome="refused", reason=why.code,
                              person_id=found.person_id if found is not None and person is not None else None,
                              team_id=found.team_id if team is not None else None, week=week)
            answered = (self._answer(s, mail, person, found.team_id if team is not None else None, "reply_refused",
                                     context, lang)
                        if self._may_refuse_to(s, person.email if person is not None else mail.sender) else False)
        log.info("reply refused: %s", why.code)
        return Received("refused", why.code, team, week, None, answered)

    def _may_refuse_to(self, s: Session, to: str) -> bool:
        """Whether a refusal may still be answered to ``to``: a few a day at most, so that the inbox never
        becomes a way to mail someone over and over, nor loops with a robot that answers every mail."""
        since = self.ctx.clock.now() - timedelta(days=1)
        return inbox_rows.answers_to(s.connection(), to, since) < REFUSALS_A_DAY

    def _form_link(self, found: ReplyKey | None, person: Any) -> str | None:
        """A fresh link to the form, when the key's person still coaches its open team (not when their links
        were revoked): of the key's week while it may still be written, else of this week."""
        if found is None or person is None:
            return None
        weeks = [found.week] if self.ctx.clock.now() - found.signed_at <= LINK_LIFETIMES["reply"] else []
        weeks.append(iso_week(self.ctx.clock.today()))
        for week in weeks:
            fresh = ReplyKey(found.person_id, found.team_id, week, found.generation, self.ctx.clock.now())
            try:
                self.links.reply_grant(fresh)
            except PreincubError:
                continue
            return self.links.form_url(found.person_id, found.generation, found.team_id, week)
        return None

    def _team_name(self, team_id: int) -> str | None:
        with self.ctx.store.read() as s:
            return inbox_rows.team_name(s.connection(), team_id)

    def _answer(self, s: Session, mail: Any, person: Any, team_id: int | None, kind: str, context: dict[str, Any],
                lang: str | None = None) -> bool:
        """Queue the answer to ``mail`` in the outbox, keyed by the mail's digest (once, whatever happens);
        False when the mail gave no address to answer."""
        from notifications.render import render  # jinja: loaded by the inbox when it answers

        to = person.email if person is not None else mail.sender
        if not to or "@" not in to:
            return False
        lang = lang or person.lang
        subject, text, html = render(kind, lang, context)
        now, key = self.ctx.clock.now(), f"reply:{mail.digest[:40]}"
        thread = [*mail.references, mail.message_id.strip()] if mail.message_id else []
        # The thread the answer belongs to (RFC 5322: its References, then its Message-ID), so a reply to the
        # answer still leads to the reminder's key; the last is what it answers. Unsafe ids are left out.
        in_reply_to = " ".join([i for i in thread if _MESSAGE_ID.fullmatch(i)][-10:]) or None
        row = {"key": key, "reminder": key, "kind": "reply", "channel": "email", "recipient": to,
               "recipient_name": person.name if person is not None else "", "lang": lang,
               "subject": subject, "body_text": text, "body_html": html, "team_id": team_id,
               "programme_id": inbox_rows.programme_of(s.connection(), team_id) if team_id is not None else None,
               "due_at": now, "stale_at": now + ANSWER_STALE, "status": OutboxStatus.PENDING.value, "attempts": 0,
               "next_attempt_at": self.ctx.clock.wall(), "created_at": now,
               "in_reply_to": in_reply_to if mail.message_id and in_reply_to and in_reply_to.endswith(
                   mail.message_id.strip()) else None}
        return outbox_rows.insert_new(s, self.ctx.store.dialect, [row]) == 1

    @staticmethod
    def _shown(record: CheckInRecord, lang: str) -> dict[str, Any]:
        """The check-in's fields as the confirmation shows them, under the labels a reply uses."""
        from workflow.rules.replies import SHOWN

        labels = SHOWN.get(lang, SHOWN["fr"])
        sep = i18n.colon(lang)
        lines = [f"{labels['on']}{sep}{i18n.format_day(date.fromisoformat(record.on), lang)}"]
        if record.hours is not None:
            lines.append(f"{labels['hours']}{sep}{i18n.format_number(record.hours, lang)}")
        if record.mood is not None:
            lines.append(f"{labels['mood']}{sep}{record.mood}")
        for field in ("blockers", "next_steps"):
            if getattr(record, field):
                lines.append(f"{labels[field]}{sep}{' '.join(getattr(record, field).split())}")
        if record.missed:
            lines.append(f"{labels['missed']}{sep}{record.reason or ''}")
        # One paragraph under its label: a line of the coach's is never read as a link or a command block.
        notes = (f"{labels['notes']}{sep.rstrip()}\n" + "\n".join(
            line.strip() for line in record.notes.splitlines() if line.strip())) if record.notes else None
        return {"lines": lines, "notes": notes}

    # ---- what came of the mail received ------------------------------------------------------

    def status(self, since: date | None = None, until: date | None = None) -> InboxStatus:
        """The mails received from ``since`` to ``until`` (days, included; default: the last seven days), counted
        by outcome and reason, the latest listed; and the poller's health. A coordinator sees the mails about
        their programmes' teams; an administrator every mail."""
        today = self.ctx.clock.today()
        until = until or today
        since = since or until - DEFAULT_PERIOD + timedelta(days=1)
        if since > until:
            raise Invalid(N_("the period starts ({since!d}) after it ends ({until!d})"), code="period_reversed",
                          since=since, until=until)
        start = paris_midnight(since)
        end = paris_midnight(until + timedelta(days=1))
        with self.ctx.store.read() as s:
            among = self.ctx.visible_programmes(s, "remind")
            conn = s.connection()
            counts = inbox_rows.counts(conn, start, end, among)
            rows = inbox_rows.entries(conn, start, end, among, LISTED)
            poll = inbox_rows.poll_state(s)
        total = {o: sum(n for out, _r, n in counts if out == o) for o in ("logged", "corrected", "refused", "ignored")}
        entries = tuple(InboxEntry(paris(r[0]).isoformat(timespec="seconds"), r[1], r[2], r[3], r[4], r[5], r[6], r[7])
                        for r in rows)
        poller = None if poll is None else PollerRecord(
            paris(poll.polled_at).isoformat(timespec="seconds") if poll.polled_at else None,
            paris(poll.ok_at).isoformat(timespec="seconds") if poll.ok_at else None, poll.handled, poll.error)
        return InboxStatus(since.isoformat(), until.isoformat(), sum(n for *_x, n in counts), total["logged"],
                           total["corrected"], total["refused"], total["ignored"],
                           tuple(InboxCount(o, r, n) for o, r, n in counts), entries, poller)


def paris_midnight(day: date) -> datetime:
    """The start of ``day`` in Paris (DST-safe: midnight always exists there)."""
    return datetime(day.year, day.month, day.day, tzinfo=PARIS)


def same_address(a: str, b: str) -> bool:
    """Whether two addresses are one mailbox: the domain in any case; the local part too, as every mail
    service people use treats it (RFC 5321 allows otherwise, no one does)."""
    return bool(a) and a.strip().lower() == (b or "").strip().lower()


__all__ = ["Inbox", "same_address"]
