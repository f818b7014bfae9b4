"""The one SMTP server of the tests: aiosmtpd on 127.0.0.1, recording every message it accepted.

It records each envelope (parsed with the ``email`` package), the client connection of each
EHLO/HELO, every RCPT TO tried; it can refuse an address, cut the connection in the middle of a
message, require AUTH, or wait before accepting each message (``delay``).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- SMTP --------------------------------------------------------------------------------------

@dataclass
class Received:
    peer: tuple
    mail_from: str
    rcpt_tos: list[str]
    mail_options: list[str]
    raw: bytes
    msg: EmailMessage


@dataclass
class SmtpServer:
    port: int
    received: list[Received] = field(default_factory=list)
    ehlo_peers: list[tuple] = field(default_factory=list)  # one per SMTP session (EHLO or HELO)
    rcpt_tried: list[str] = field(default_factory=list)  # every RCPT TO, accepted or not
    refuse: dict[str, str] = field(default_factory=dict)  # address -> SMTP reply, e.g. "550 ..."
    cut_once: set[str] = field(default_factory=set)  # addresses whose first DATA gets the connection reset
    password: str | None = None  # AUTH accepts only this password, when set
    delay: float = 0.0  # seconds to wait before accepting each message (to slow delivery down)
    auth_seen: list[tuple[str, bytes, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, addr: str) -> list[Received]:
        return [r for r in self.received if r.rcpt_tos == [addr]]

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [r.msg for r in self.received]

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def wait_for(self, n: int, timeout: float) -> int:
        """Wait until at least ``n`` messages arrived (or the timeout); return how many did."""
        end = time.monotonic() + timeout
        while self.count() < n and time.monotonic() < end:
            time.sleep(0.02)
        return self.count()


class _Handler:
    def __init__(self, box: SmtpServer) -> None:
        self.box = box

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self.box.lock:
            self.box.ehlo_peers.append(session.peer)
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        with self.box.lock:
            self.box.ehlo_peers.append(session.peer)
        return f"250 {server.hostname}"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.box.lock:
            self.box.rcpt_tried.append(address)
        if address in self.box.refuse:
            return self.box.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.box.delay:
            await asyncio.sleep(self.box.delay)
        if envelope.rcpt_tos and envelope.rcpt_tos[0] in self.box.cut_once:
            self.box.cut_once.discard(envelope.rcpt_tos[0])
            server.transport.abort()  # a connection reset in the middle of the message
            return "250 never seen by the client"
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        with self.box.lock:
            self.box.received.append(Received(session.peer, envelope.mail_from, list(envelope.rcpt_tos),
                                              list(envelope.mail_options), raw, msg))
        return "250 OK queued"


def start_smtp(box: SmtpServer, **kwargs) -> Controller:
    def authenticator(server, session, envelope, mechanism, auth_data):
        box.auth_seen.append((mechanism, auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == (box.password or "").encode(), handled=False)

    auth = {"authenticator": authenticator, "auth_require_tls": False} if box.password is not None else {}
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=box.port, **auth, **kwargs)
    controller.start()
    return controller


@contextmanager
def smtp_server(delay: float = 0.0) -> Iterator[tuple[str, SmtpServer]]:
    """``(PREINCUB_SMTP_URL, server)`` of an SMTP server listening on 127.0.0.1 for the block."""
    box = SmtpServer(free_port(), delay=delay)
    controller = start_smtp(box, ready_timeout=10)
    try:
        yield box.url, box
    finally:
        controller.stop()
