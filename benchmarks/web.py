"""Benchmark the web service: concurrent check-in submissions against a real ``preincub serve``.

Run it as a script (never a test):

    python benchmarks/web.py [--clients 20] [--seconds 30] [--teams 100] [--pg URL]

It builds a store (SQLite, then PostgreSQL when ``--pg`` or PREINCUB_TEST_DATABASE_URL names a
server: a fresh schema there) with ``--teams`` teams in investigation, each with its own coach, and
starts ``preincub serve`` on a free loopback port (waitress, 8 threads), the clock pinned to Monday
2020-11-16 (week 2020-W47). Then, for ``--seconds``:

* ``--clients`` threads each submit check-ins through the form, as a browser would: GET the form
  (session cookie and CSRF token), then POST it. Client k works on teams k, k + clients, …; a team's
  first POST logs its check-in and the next ones correct it (the same week). ``clients // 2`` teams
  are also raced: clients 2j and 2j + 1 both POST team j's first check-in at the same moment. Only the POSTs are timed (a
  submission, as the issue has it): each client GETs its teams' forms once, before the clock starts,
  and then POSTs them again and again with their tokens; the 303 is not followed (a browser would then
  GET the form again: a page view, not a submission);
* then the same clients GET ``/healthz`` for as long: the yardstick.

It prints, per store: requests per second, p50 and p95 latency (ms) of the POSTs alone and of /healthz,
errors (any status but 303 on a POST, 200 on /healthz), the check-ins found in the store afterwards
and whether each team has exactly one for the week. Goal: p95 of a submission ≤ 5 × p95 of
/healthz, no error, every check-in stored exactly once.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from workflow.api import Workflow  # noqa: E402

from workflow.clock import FixedClock
from workflow.clock import PARIS  # noqa: E402
from workflow.services.links import checkin_path, sign  # noqa: E402
from workflow.settings import Settings  # noqa: E402

NOW = datetime(2020, 11, 16, 18, 0, tzinfo=PARIS)
WEEK = "2020-W47"
KEY = "benchmark-secret-key-0123456789abcdef"
COORD = "coord@bench.example"
TIMEOUT = 20  # seconds a client waits for an answer; longer is an error (status 0)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LAUNCH = ("import cli\nfrom commands import directory, web\n"
          "cli.app.commands.setdefault('serve', web.serve)\ncli.main()\n")


def build(url: str, teams: int) -> list[tuple[int, int, str]]:
    """A programme with ``teams`` teams in investigation since July; (team id, coach id, coach e-mail)."""
    prog = "Benchmark"
    early = Workflow.open(url, clock=FixedClock(datetime(2020, 6, 24, 9, 0, tzinfo=PARIS)), actor=COORD,
                          create=True, settings=Settings(secret_key=KEY))
    early.directory.add_programme(prog, date(2020, 6, 23), capacity=teams)
    early.directory.add_partner("Nord", prog)
    out = []
    for i in range(teams):
        coach, agent = f"coach{i}@bench.example", f"agent{i}@bench.example"
        early.directory.add_person(f"Coach {i}", coach, ["coach"])
        early.directory.add_person(f"Agent {i}", agent, ["intrapreneur"])
        name = f"Équipe {i:04d}"
        early.teams.add(name, prog, "Nord", problem="Un problème réel.", intrapreneurs=[agent], coach=coach,
                       days_per_week=1)
        early.transitions.advance(name, "submit")
        early.teams.assess(name, real=True, major=True, actionable=True)
        early.teams.agree(name, "partner")
        early.teams.agree(name, "operator")
        early.transitions.advance(name, "select")
    from sqlmodel import select

    from workflow.store.models import Person, Team, TeamMember

    with early.store.read() as s:
        rows = s.exec(select(Team.id, Person.id, Person.email).join(TeamMember, TeamMember.team_id == Team.id)
                      .join(Person, Person.id == TeamMember.person_id).where(TeamMember.role == "coach")
                      .order_by(Team.id)).all()
        out = [(t, p, e) for t, p, e in rows]
    early.close()
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: str, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREINCUB_")}
    env.update(PREINCUB_DB=db, PREINCUB_NOW=NOW.isoformat(), PREINCUB_BASE_URL=f"http://127.0.0.1:{port}",
               PREINCUB_SECRET_KEY=KEY, PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, "-c", LAUNCH, "serve", "--port", str(port)], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return p
        if p.poll() is not None:
            raise SystemExit(f"serve exited: {p.stderr.read() if p.stderr else ''}")
        time.sleep(0.1)
    raise SystemExit("serve did not listen")


class Client:
    """One browser: one kept-alive connection and its cookies; GET a form, POST it back with the token."""

    def __init__(self, base: str) -> None:
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        self.cookies: dict[str, str] = {}

    def call(self, path: str, data: dict | None = None) -> tuple[int, str, float]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        t0 = time.perf_counter()
        for attempt in (1, 2):
            try:
                self.conn.request("POST" if data is not None else "GET", path, body=body, headers=headers)
                r = self.conn.getresponse()
                text = r.read().decode(errors="replace")
                break
            except TimeoutError:
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
                return 0, "", time.perf_counter() - t0  # counted as an error (status 0)
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()  # the server closed a kept-alive connection: open another, once
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
                if attempt == 2:
                    raise
        dt = time.perf_counter() - t0
        for value in r.headers.get_all("Set-Cookie") or ():
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return r.status, text, dt


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] * 1000


def run_load(base: str, paths: list[str], clients: int, seconds: float) -> dict:
    """Submissions: each client loops over its teams; every team raced once by two clients at the start."""
    lat: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)
    stop = time.monotonic() + seconds

    def worker(k: int) -> None:
        c = Client(base)
        mine = paths[k::clients]
        race = paths[(k // 2) :: max(1, clients // 2)][:1] if clients > 1 else []  # pairs race on one team
        n = 0
        tokens: dict[str, str] = {}
        for path in race + mine:
            status, page, _ = c.call(path)
            m = CSRF.search(page)
            if m:
                tokens[path] = m.group(1)
        barrier.wait()
        order = race + mine
        while time.monotonic() < stop:
            path = order[n % len(order)]
            n += 1
            status, _, dt = c.call(path, {"csrf_token": tokens.get(path, ""), "notes": f"Point {n} du client {k}",
                                          "hours": "6", "mood": "4"})
            with lock:
                lat.append(dt)
                if status != 303:
                    errors.append(status)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"n": len(lat), "rps": len(lat) / wall, "p50": pct(lat, .5), "p95": pct(lat, .95), "errors": errors,
            "max": max(lat, default=0) * 1000, "wall": wall}


def run_health(base: str, clients: int, seconds: float) -> dict:
    lat: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        c = Client(base)
        while time.monotonic() < stop:
            status, _, dt = c.call("/healthz")
            with lock:
                lat.append(dt)
                if status != 200:
                    errors.append(status)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"n": len(lat), "rps": len(lat) / wall, "p50": pct(lat, .5), "p95": pct(lat, .95), "errors": errors,
            "max": max(lat, default=0) * 1000, "wall": wall}


def bench(label: str, url: str, args) -> list[str]:
    print(f"{label}: building {args.teams} teams…", file=sys.stderr, flush=True)
    teams = build(url, args.teams)
    clock = FixedClock(NOW)
    paths = [checkin_path(sign(KEY, clock, "checkin", pid, 0, tid, WEEK), tid, WEEK) for tid, pid, _ in teams]
    port = free_port()
    server = start_server(url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        print(f"{label}: {args.clients} clients submitting for {args.seconds} s…", file=sys.stderr, flush=True)
        sub = run_load(base, paths, args.clients, args.seconds)
        print(f"{label}: {args.clients} clients on /healthz for {args.seconds} s…", file=sys.stderr, flush=True)
        health = run_health(base, args.clients, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    for what, r in (("submissions", sub), ("healthz", health)):
        print(f"{label}: {what}: {r['n']} requests in {r['wall']:.1f} s, slowest {r['max']:.0f} ms", file=sys.stderr)
    wf = Workflow.open(url, clock=clock, actor=COORD, settings=Settings(secret_key=KEY))
    found = wf.checkins(week=WEEK)
    wf.close()
    per_team: dict[str, int] = {}
    for c in found:
        per_team[c.team] = per_team.get(c.team, 0) + 1
    once = all(n == 1 for n in per_team.values())
    ratio = sub["p95"] / health["p95"] if health["p95"] else float("nan")
    return [label, f"{sub['rps']:.0f}", f"{sub['p50']:.1f}", f"{sub['p95']:.1f}", str(len(sub["errors"])),
            f"{health['rps']:.0f}", f"{health['p50']:.1f}", f"{health['p95']:.1f}", str(len(health["errors"])),
            f"{ratio:.1f}×", f"{len(found)}/{len(per_team)} teams", "yes" if once else "NO"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--teams", type=int, default=100)
    ap.add_argument("--pg", default=os.environ.get("PREINCUB_TEST_DATABASE_URL"),
                    help="a PostgreSQL server URL (a fresh schema is made there)")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        os.environ.setdefault("XDG_DATA_HOME", d)
        rows.append(bench("SQLite", str(Path(d) / "bench.db"), args))
    if args.pg:
        import sqlalchemy as sa

        schema = "bench_" + uuid.uuid4().hex[:10]
        admin = sa.create_engine(args.pg.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as c:
            c.exec_driver_sql(f"CREATE SCHEMA {schema}")
        base = admin.url.render_as_string(hide_password=False)
        sep = "&" if "?" in base else "?"
        try:
            rows.append(bench("PostgreSQL", f"{base}{sep}options=-csearch_path%3D{schema}", args))
        finally:
            with admin.begin() as c:
                c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            admin.dispose()
    else:
        print("PostgreSQL: skipped (give --pg URL or PREINCUB_TEST_DATABASE_URL)", file=sys.stderr)
    head = ["store", "POST req/s", "p50 ms", "p95 ms", "errors", "healthz req/s", "p50 ms", "p95 ms", "errors",
            "p95 ratio", "check-ins", "once each"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print(" | ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths)))
    print(f"\n{args.clients} clients, {args.seconds:g} s each; goal: p95 ratio ≤ 5×, no error, once each: yes")


if __name__ == "__main__":
    main()
