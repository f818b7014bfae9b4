"""A real SMTP server for tests (aiosmtpd on 127.0.0.1), recording every message it accepted."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class Recorder:
    """An aiosmtpd handler: waits ``delay`` seconds per message (to slow delivery down), then keeps it."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(msg)
        return "250 Message accepted for delivery"

    def received(self) -> list[EmailMessage]:
        with self._lock:
            return self.messages[:]

    def ids(self) -> list[str]:
        with self._lock:
            return [m["Message-ID"] for m in self.messages]

    def count(self) -> int:
        with self._lock:
            return len(self.messages)

    def id_counts(self) -> Counter:
        return Counter(self.ids())

    def wait_for(self, n: int, timeout: float) -> int:
        """Wait until at least ``n`` messages arrived (or the timeout); return how many did."""
        end = time.monotonic() + timeout
        while self.count() < n and time.monotonic() < end:
            time.sleep(0.02)
        return self.count()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_server(delay: float = 0.0) -> Iterator[tuple[str, Recorder]]:
    """``(PREINCUB_SMTP_URL, recorder)`` of an SMTP server listening on 127.0.0.1 for the block."""
    handler = Recorder(delay)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), ready_timeout=10)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{controller.port}", handler
    finally:
        controller.stop()
