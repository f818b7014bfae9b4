"""The mailbox poller: the replies that reach the IMAP mailbox of ``PREINCUB_IMAP_URL`` go, one by one, to the
inbox (``Inbox.receive``, the call LMTP uses too); each is then moved out of the folder it was read from.

What the inbox took (logged, corrected, or a duplicate of a mail received before) goes to
``PREINCUB_IMAP_DONE_FOLDER``; what it refused or ignored, to ``PREINCUB_IMAP_REFUSED_FOLDER``. A mail the
store could not take (an infrastructure error) stays where it is and stops the poll: the next poll reads it
again, and its Message-ID makes a second delivery harmless. Each poll is recorded (``inbox_poll``), a success
with its count, a failure with its error (one line, the URL's password never in it), for ``daemon status``
and ``inbox status``.

The mailbox itself (workflow.formats.imap) is given by the facade: services sit below the file formats."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from workflow.context import Context
from workflow.errors import N_, Invalid, PreincubError
from workflow.records import PollerRecord, PollResult
from workflow.services.inbox import Inbox
from workflow.services.teams import iso
from workflow.store import inbox as inbox_rows

log = logging.getLogger("preincub.inbox")

DONE = ("logged", "corrected", "duplicate")  # moved to the done folder; the others to the refused one
ERROR_LENGTH = 500


class Mailbox(Protocol):
    """What the poller needs of a mailbox session (workflow.formats.imap.Mailbox)."""

    def messages(self) -> Any: ...

    def move(self, uid: str, folder: str) -> None: ...


@dataclass(frozen=True)
class Poller:
    """Polls the mailbox of ``PREINCUB_IMAP_URL`` (``inbox poll``, and the daemon every PREINCUB_IMAP_EVERY)."""

    ctx: Context
    inbox: Inbox
    # The mailbox at this URL (the URL read at once, a refusal if it cannot be); the session opens on entering.
    connect: Callable[[str], AbstractContextManager[Mailbox]]

    def poll(self, stop: threading.Event | None = None) -> PollResult:
        """Read every mail of the folder once, hand each to the inbox, move it out; record the poll.

        Refused before anything is read unless PREINCUB_IMAP_URL and PREINCUB_REPLY_ADDRESS are set and the
        actor is an instance administrator. ``stop`` (set: SIGTERM) ends the poll between two mails. A
        failure (the server, a mail the store could not take) is recorded, then raised, the text without
        the password."""
        settings = self.ctx.settings.inbox
        url = self.check()
        at = self.ctx.clock.now()
        counts = dict.fromkeys(("logged", "corrected", "refused", "ignored", "duplicate"), 0)
        found = 0
        try:
            with self.connect(url) as box:
                for uid, raw in box.messages():
                    if stop is not None and stop.is_set():
                        break
                    found += 1
                    r = self.inbox.receive(raw, via="imap")
                    counts[r.outcome] = counts.get(r.outcome, 0) + 1
                    box.move(uid, settings.imap_done_folder if r.outcome in DONE else settings.imap_refused_folder)
        except Exception as exc:
            error = self.error_text(exc)  # logged by the caller (the daemon), said by the command
            try:
                self._record(at, error=error)
            except Exception as again:  # noqa: BLE001 - the store itself may be what failed
                log.error("mailbox poll: its failure was not recorded: %s", self.error_text(again))
            if isinstance(exc, PreincubError):
                raise self._redacted(exc) from None
            raise
        self._record(at, handled=found)
        log.info("mailbox poll: %s found, %s", found,
                 ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "nothing to do")
        return PollResult(found, counts["logged"], counts["corrected"], counts["refused"], counts["ignored"],
                          counts["duplicate"])

    def check(self) -> str:
        """Refuse what would fail every poll, before any (``inbox poll --every``, the daemon): no
        PREINCUB_IMAP_URL or one of the wrong shape, no PREINCUB_REPLY_ADDRESS, an actor who is not an
        instance administrator. Returns the URL (a secret: never shown)."""
        url = self.ctx.settings.inbox.imap
        if not url:
            raise Invalid(N_("set PREINCUB_IMAP_URL (e.g. imaps://USER:PASSWORD@imap.example.org/INBOX) to poll a "
                             "mailbox"), code="no_imap_url")
        self.connect(url)  # reads the URL (a refusal says which part is wrong); the session opens on entering
        self.inbox.may_receive()
        return url

    def state(self) -> PollerRecord | None:
        """The poller's last attempt, last success (and its count) and last error; None before its first poll."""
        with self.ctx.store.read() as s:
            row = inbox_rows.poll_state(s)
            if row is None:
                return None
            return PollerRecord(iso(row.polled_at), iso(row.ok_at), row.handled, row.error)

    def error_text(self, exc: BaseException) -> str:
        """One line (English, as stored and logged), the secrets of the settings redacted."""
        detail = exc.text("en") if isinstance(exc, PreincubError) else f"{type(exc).__name__}: {exc}"
        return " ".join(self.ctx.settings.redact(detail).split())[:ERROR_LENGTH]

    def _record(self, at: Any, *, error: str | None = None, handled: int = 0) -> None:
        with self.ctx.store.write() as s:
            inbox_rows.record_poll(s, at, error=error, handled=handled)

    def _redacted(self, exc: PreincubError) -> PreincubError:
        """``exc``, its string parameters redacted (a server may echo what it was sent)."""
        params = {k: self.ctx.settings.redact(v) if isinstance(v, str) else v for k, v in exc.params.items()}
        if params == exc.params:
            return exc
        try:
            return type(exc)(exc.message, code=exc.code, **params)
        except TypeError:  # an error class of another shape (none reaches here today)
            return Invalid(N_("the mailbox poll failed: {detail}"), code=exc.code, detail=self.error_text(exc))
