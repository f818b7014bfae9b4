"""inbox: the replies to the weekly reminder, taken as check-ins. ``inbox serve`` takes them from the local MTA
(LMTP, or SMTP with --smtp), ``inbox poll`` from an IMAP mailbox, ``inbox status`` says what came of them.

Every mail goes to one library call, ``wf.inbox.receive``; this module only speaks the protocols and presents."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import socket
import threading
from collections.abc import Sequence
from functools import partial
from typing import Any

import click

from notifications.i18n import N_, Np_
from notifications.visible import shown
from workflow.errors import Invalid, PreincubError
from workflow.records import plain

from commands.context import current_ctx
from commands.errors import explain
from commands.output import console, emit_json, say, styled, table, when_cell
from commands.params import DATE, IntegerRange, Parsed, json_option
from commands.sockets import listening
from commands.text import _, labelled, tr

log = logging.getLogger("preincub.inbox")
DATA_LIMIT = 25 * 1024 * 1024  # bytes: a larger mail is refused by the protocol (552), never read whole

# What became of a mail (Received.outcome), as the commands say it; the ids stay in --json.
OUTCOMES = {"logged": N_("logged"), "corrected": N_("corrected"), "refused": N_("refused"), "ignored": N_("ignored"),
            "duplicate": N_("duplicate")}


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8024`` for IPv6), as PREINCUB_INBOX_LISTEN reads it."""
    host, sep, port = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise Invalid(N_("give HOST:PORT, e.g. 127.0.0.1:8024"))
    return host, int(port)


LISTEN = Parsed("HOST:PORT", parse_listen, tuple)


@click.group(short_help="Check-ins by e-mail reply.")
def inbox() -> None:
    """Coaches' replies to the weekly reminder, taken as check-ins: from the local MTA (serve), from an IMAP
    mailbox (poll); what came of them (status)."""


# ---- inbox serve ------------------------------------------------------------------------------------

class ReplyHandler:
    """aiosmtpd's handler: a recipient is taken when it is the reply address (any +KEY); each mail goes to
    ``wf.inbox.receive`` in a worker thread. LMTP answers once per recipient (RFC 2033)."""

    def __init__(self, wf: Any, via: str) -> None:
        self.wf, self.via = wf, via

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if not self.wf.inbox.accepts(address):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        recipients = tuple(envelope.rcpt_tos)
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):  # decode_data is off: bytes; kept safe all the same
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            r = await asyncio.get_running_loop().run_in_executor(
                None, partial(self.wf.inbox.receive, raw, via=self.via, recipients=recipients,
                                    envelope_sender=envelope.mail_from))
        except Exception as exc:  # noqa: BLE001 - the store (or a bug): the MTA keeps the mail and tries again
            log.error("a reply was not taken (the MTA will try again): %s", self._redact(exc))
            line = "451 4.3.0 Temporarily unable to take the reply; try again later"
        else:
            line = f"250 2.0.0 OK: {r.outcome}"
        return "\r\n".join([line] * len(recipients)) if self.via == "lmtp" and recipients else line

    def _redact(self, exc: BaseException) -> str:
        detail = exc.text("en") if isinstance(exc, PreincubError) else f"{type(exc).__name__}: {exc}"
        return " ".join(self.wf.settings.redact(detail).split())[:500]


def bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for ``host``:``port``, bound before saying we listen (non-blocking: asyncio serves them)."""
    sockets = listening(host, port, busy=N_("port {port} is already in use on {host}: stop what uses it, or choose "
                                            "another address with --listen HOST:PORT"),
                        unusable=N_("cannot listen on {host}, port {port} ({why}): choose another address with "
                                    "--listen HOST:PORT"))
    for sock in sockets:
        sock.setblocking(False)
    return sockets


def run_server(wf: Any, sockets: Sequence[socket.socket], *, smtp: bool = False,
               stop: threading.Event | None = None, ready: threading.Event | None = None) -> None:
    """Serve LMTP (``smtp``: SMTP) on ``sockets`` until ``stop`` is set; ``ready`` is set once it accepts.

    Runs its own event loop in the calling thread (the command's main thread, or a test's)."""
    from aiosmtpd.lmtp import LMTP  # aiosmtpd: loaded to serve only
    from aiosmtpd.smtp import SMTP

    handler = ReplyHandler(wf, "smtp" if smtp else "lmtp")
    protocol = SMTP if smtp else LMTP
    stop = stop or threading.Event()
    loop = asyncio.new_event_loop()

    def factory() -> Any:
        return protocol(handler, data_size_limit=DATA_LIMIT, enable_SMTPUTF8=True, decode_data=False,
                        ident="preincub", loop=loop)

    async def main() -> None:
        servers = [await loop.create_server(factory, sock=sock) for sock in sockets]
        if ready is not None:
            ready.set()
        try:
            while not stop.is_set():
                await asyncio.sleep(0.2)
        finally:
            for server in servers:
                server.close()
            for server in servers:  # from Python 3.12 it waits for the sessions still open: an MTA's cached one
                try:
                    await asyncio.wait_for(server.wait_closed(), 5)
                except TimeoutError:
                    pass

    try:
        loop.run_until_complete(main())
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())  # a mail being written is finished first
        loop.close()


def _logging() -> None:
    """Each mail's outcome and each failure on stderr, one line each (names made visible)."""
    class _LogFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return shown(super().format(record))

    handler = logging.StreamHandler()
    handler.setFormatter(_LogFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's every connection and command


def _stopped_on_signals(stop: threading.Event) -> dict:
    """SIGTERM and Ctrl-C set ``stop``; returns the handlers to put back."""
    def _stop(signum: int, _frame: object) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()

    return {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}


@inbox.command(name="serve", short_help="Take replies from the local MTA (LMTP).")
@click.option("--listen", type=LISTEN, metavar="HOST:PORT",
              help="Address to listen on [env PREINCUB_INBOX_LISTEN; default: 127.0.0.1:8024].")
@click.option("--smtp", is_flag=True, help="Speak SMTP instead of LMTP, for a relay that cannot do LMTP.")
def inbox_serve(listen, smtp) -> None:
    """Take the replies to the reminders from the local MTA over LMTP (Postfix: lmtp:inet:127.0.0.1:8024), as
    an instance administrator; PREINCUB_REPLY_ADDRESS is the address they are sent to. Stops on SIGTERM or
    Ctrl+C, after the mail being written."""
    wf = current_ctx().wf()
    wf.inbox.may_receive()
    host, port = listen or wf.settings.inbox.listen
    sockets = bind(host, port)
    stop = threading.Event()
    previous = _stopped_on_signals(stop)
    try:
        _logging()
        say(tr("taking replies to {address} by {protocol} on {host}:{port} (Ctrl+C stops)",
               address=wf.settings.inbox.reply_address, protocol="SMTP" if smtp else "LMTP", host=host, port=port))
        run_server(wf, sockets, smtp=smtp, stop=stop)
    finally:
        for sock in sockets:
            sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# ---- inbox poll -------------------------------------------------------------------------------------

def poll_line(r: Any) -> str:
    """One poll, as one line: how many mails, and what came of them."""
    parts = [tr("{n!n} {what}", n=getattr(r, k), what=_(OUTCOMES[k])) for k in OUTCOMES if getattr(r, k)]
    head = tr(Np_("{n!n} mail in the mailbox", "{n!n} mails in the mailbox"), n=r.found)
    return labelled(head, ", ".join(parts)) if parts else head


@inbox.command(name="poll", short_help="Take replies from an IMAP mailbox.")
@click.option("--every", type=IntegerRange(5, 86400), metavar="SECONDS",
              help="Poll again every SECONDS, until SIGTERM or Ctrl+C [default: once].")
@json_option
def inbox_poll(every, as_json) -> None:
    """Read the mailbox of PREINCUB_IMAP_URL (imaps://USER:PASSWORD@HOST/FOLDER) once, as an instance
    administrator: each reply becomes a check-in, then is moved to PREINCUB_IMAP_DONE_FOLDER (or
    PREINCUB_IMAP_REFUSED_FOLDER). With --every, one line per poll; a poll that fails is said and the next
    one goes on."""
    wf = current_ctx().wf()
    if every is None:
        r = wf.poller.poll()
        return emit_json(r) if as_json else say(poll_line(r))
    wf.poller.check()  # what would fail every poll is said once, before any
    stop = threading.Event()
    previous = _stopped_on_signals(stop)
    try:
        while not stop.is_set():
            try:
                r = wf.poller.poll(stop)
            except Exception as exc:  # noqa: BLE001 - said in one line (recorded by the poller); the loop goes on
                known = explain(exc)
                line, hint = (known[0], known[2]) if known else (wf.poller.error_text(exc), "")
                click.echo(f"preincub: {shown(line)}{hint}", err=True)
            else:
                if as_json:  # one compact object per line (JSON Lines), even on a terminal
                    click.echo(json.dumps(plain(r)), nl=True)
                else:
                    say(labelled(when_cell(wf.clock.now().isoformat(timespec="seconds")), poll_line(r)))
            stop.wait(every)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# ---- inbox status -----------------------------------------------------------------------------------

@inbox.command(name="status", short_help="What came of the replies received.")
@click.option("--since", type=DATE, help="From this day [default: 7 days before --until].")
@click.option("--until", type=DATE, help="Up to this day, included [default: today].")
@json_option
def inbox_status(since, until, as_json) -> None:
    """The replies received over a period: how many were logged, corrected, refused (and why) or ignored,
    the latest of them, and how the mailbox poller fares. Coordinators see their programmes' teams."""
    wf = current_ctx().wf()
    st = wf.inbox.status(since, until)
    if as_json:
        return emit_json(st)
    say(labelled(tr("Replies received from {since} to {until}", since=st.since, until=st.until),
                 tr("{n!n} ({logged!n} logged, {corrected!n} corrected, {refused!n} refused, {ignored!n} ignored)",
                    n=st.received, logged=st.logged, corrected=st.corrected, refused=st.refused,
                    ignored=st.ignored)))
    if st.counts:
        t = table(_("Outcome"), _("Reason"), _("Mails"))
        for c in st.counts:
            t.add_row(_(OUTCOMES.get(c.outcome, c.outcome)) if c.outcome in OUTCOMES else c.outcome,
                      c.reason or "—", str(c.count))
        console().print(t)
    if st.entries:
        t = table(_("Received"), _("Via"), _("Outcome"), _("Reason"), _("Team"), _("Week"), _("Person"))
        for e in st.entries:
            outcome = _(OUTCOMES[e.outcome]) if e.outcome in OUTCOMES else e.outcome
            t.add_row(when_cell(e.received_at), e.via, styled((outcome, "red" if e.outcome == "refused" else "")),
                      e.reason or "", e.team or "—", e.week or "—", e.person or "—")
        console().print(t)
    if st.poller:
        say(poller_line(st.poller))


def poller_line(p: Any) -> str:
    """The mailbox poller's health in one line (``inbox status``, ``daemon status``)."""
    if p.ok_at:
        line = tr("last poll {at}; last success {ok}, {n!n} mails handled", at=when_cell(p.polled_at),
                  ok=when_cell(p.ok_at), n=p.handled)
    else:
        line = tr("last poll {at}; never succeeded", at=when_cell(p.polled_at))
    if p.error:
        line += tr("; failed: {error}", error=p.error)
    return labelled(_("Mailbox poller"), line)

