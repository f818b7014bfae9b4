"""Real servers for the channel, delivery and secrets tests, started and stopped by each test on 127.0.0.1
(a plugin of tests/conftest.py: every folder of tests gets these fixtures).

- ``smtpd``: the aiosmtpd server of ``tests/smtp.py``, which records every envelope (parsed with the ``email`` package), the
  client connection of each EHLO/HELO and of each message, every RCPT TO tried, and can refuse an
  address with a 550 or cut the connection in the middle of a message.
- ``webhook``: a ThreadingHTTPServer that records every POST and answers 200, or what ``status`` says.
- ``reset_server``: a raw TCP server that greets like SMTP then resets the connection.
- ``closed_port``: a port nobody listens on.
- ``wall``: a clock moved by hand (business and wall time together: retry delays, staleness).
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import Result
from sqlmodel import select

from tests.cli_helpers import invoke
from tests.conftest import COORD, paris
from tests.smtp import SmtpServer, free_port, start_smtp
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.clock import PARIS, Clock
from workflow.store.models import Person, Team
from workflow.records import OutboxMessage

PROG = "Pré-incubation 2020"
PARTNER = "Pas-de-Calais"
SELECTED = paris(2020, 7, 6, 9, 0)  # a Monday: the teams enter investigation
TICK = paris(2020, 7, 13, 10, 0)  # the next Monday: the weekly coaching reminder of 2020-W29 is due
WEEK = "2020-W29"


@pytest.fixture
def smtpd():
    box = SmtpServer(free_port())
    controller = start_smtp(box)
    box.ehlo_peers.clear()  # the controller's own start-up probe is no client session
    yield box
    controller.stop()


@pytest.fixture
def smtpd_auth():
    """An SMTP server that requires AUTH (LOGIN/PLAIN, no TLS: local test only) with ``box.password``."""
    box = SmtpServer(free_port(), password="the-right-one")
    controller = start_smtp(box)
    yield box
    controller.stop()


@pytest.fixture
def closed_port() -> int:
    return free_port()


@contextmanager
def raw_tcp_server(serve: Callable[[socket.socket], None]) -> Iterator[int]:
    """A bare TCP server on 127.0.0.1 that hands each connection to ``serve``; yields its port."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.2)
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(2)
                try:
                    serve(conn)
                except OSError:
                    pass

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        yield srv.getsockname()[1]
    finally:
        stop.set()
        t.join(2)
        srv.close()


@pytest.fixture
def reset_server():
    """Greets like an SMTP server, reads the client's first command, then resets the connection (RST)."""
    accepted: list[int] = []

    def serve(conn: socket.socket) -> None:
        accepted.append(1)
        conn.sendall(b"220 flaky.example ESMTP\r\n")
        try:
            conn.recv(1024)
        finally:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    with raw_tcp_server(serve) as port:
        yield port, accepted


# ---- HTTP webhook ------------------------------------------------------------------------------

@dataclass
class Hook:
    port: int
    requests: list[dict] = field(default_factory=list)
    status: dict[str, int] = field(default_factory=dict)  # substring of the body -> HTTP status (default 200)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/preincub"


@pytest.fixture
def webhook():
    hook = Hook(0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hook.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body,
                                  "json": json.loads(body)})
            code = next((c for needle, c in hook.status.items() if needle.encode() in body), 200)
            payload = b"ok" if code == 200 else b"internal error"
            self.send_response(code)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.port = server.server_address[1]
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield hook
    server.shutdown()
    server.server_close()
    t.join(2)


# ---- a clock moved by hand ---------------------------------------------------------------------

class Wall(Clock):
    """Business and wall time at ``at``, moved by the test (``wf.at(wall)`` follows it)."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at.astimezone(PARIS)

    def wall(self) -> datetime:
        return self.at.astimezone(timezone.utc)

    def __call__(self) -> datetime:
        return self.wall()

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def wall() -> Wall:
    """A clock at TICK (2020-07-13 08:00 UTC), moved by hand: retry delays pass as the test says."""
    return Wall(TICK)


# ---- stores ------------------------------------------------------------------------------------

def investigation(wf: Workflow, teams: list[tuple[str, str]], *,
                  programme: str = PROG) -> tuple[Workflow, dict[str, int]]:
    """Teams (name, coach e-mail; the coaches must exist) selected on Monday 2020-07-06: at Monday
    2020-07-13 10:00, one weekly coaching reminder (2020-W29) is due per team, to its coach.
    Returns the facade at that time, and the team ids by name."""
    wf.directory.add_programme(programme, date(2020, 6, 23))
    wf.directory.add_partner(PARTNER, programme)
    for i, (name, coach) in enumerate(teams):
        wf.directory.add_person(f"Agent {i}", f"agent{i}@example.org", ["intrapreneur"])
        wf.teams.add(name, programme, PARTNER, problem="Un problème réel.", intrapreneurs=[f"agent{i}@example.org"],
                    coach=coach, days_per_week=1)
        wf.transitions.advance(name, "submit")
        wf.teams.assess(name, real=True, major=True, actionable=True)
        wf.teams.agree(name, "partner")
        wf.teams.agree(name, "operator")
    selected = wf.at(FixedClock(SELECTED))
    for name, _ in teams:
        selected.transitions.advance(name, "select")
    with wf.store.read() as s:
        return wf.at(FixedClock(TICK)), {n: i for i, n in s.execute(select(Team.id, Team.name))}


def person_id(wf: Workflow, addr: str) -> int:
    with wf.store.read() as s:
        return s.exec(select(Person.id).where(Person.email == addr)).one()


def coaching_key(wf: Workflow, team_id: int, addr: str, channel: str) -> str:
    return f"coaching:{team_id}:{WEEK}:p{person_id(wf, addr)}:{channel}"


def configure(wf: Workflow, **values) -> Workflow:
    """The facade with these settings changed."""
    return wf.with_settings(wf.settings.replace(**values))


def row(wf: Workflow, key: str) -> OutboxMessage:
    (r,) = [r for r in wf.outbox() if r.key == key]
    return r


def run_cli(*args: str, db, now: str = "2020-07-13 10:00", env: dict | None = None) -> Result:
    """``preincub --db DB --now NOW --as coord@example.org ARGS...`` in-process, with exactly ``env``'s settings."""
    return invoke(*args, db=db, now=now, env=env, actor=COORD)
