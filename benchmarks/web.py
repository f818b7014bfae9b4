"""Benchmark the web service: concurrent check-in submissions against a real ``preincub serve``.

Run it as a script (never a test):

    python benchmarks/web.py [--clients 20] [--seconds 30] [--rounds 10] [--teams 100] [--pg URL] [--json FILE]

It builds a store (SQLite, then PostgreSQL when ``--pg`` or PREINCUB_TEST_DATABASE_URL names a
server: a fresh schema there) with ``--teams`` teams in investigation, each with its own coach, and
starts ``preincub serve`` on a free loopback port (waitress, 8 threads), the clock pinned to Monday
2020-11-16 (week 2020-W47). ``--clients`` clients each GET their teams' forms once (session cookie and
CSRF token: client k works on teams k, k + clients, …), then ``--rounds`` times, alternating:

* all clients submit check-ins through the form for ``--seconds / --rounds`` seconds, as a browser
  would: POST the form with its token, again and again; a team's first POST logs its check-in and the
  next ones correct it (the same week). In the first round, ``clients // 2`` teams are raced: clients
  2j and 2j + 1 both POST team j's first check-in at the same moment. Only the POSTs are timed (a
  submission, as the issue has it); the 303 is not followed (a browser would then GET the form again:
  a page view, not a submission);
* then the same clients GET ``/healthz`` for as long: the yardstick, measured between the submissions'
  slices rather than after all of them, so a slow minute of the machine or of the database weighs on
  both alike.

It prints, per store: requests per second, p50 and p95 latency (ms) of the POSTs alone and of /healthz
over all rounds, errors (any status but 303 on a POST, 200 on /healthz), the check-ins found in the
store afterwards and whether each team has exactly one for the week; then, round by round, the median,
min and max of each one's p50 and p95 and of the p95 ratio; last, the comparison row of the p95s
(benchmarks/common.py's format, also written by ``--json``). Goal: p95 of a submission ≤ 5 × p95 of
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
import statistics
import time
import urllib.parse
import uuid
from datetime import date, datetime
from pathlib import Path

from common import ROOT, Comparison, add_json_option, emit  # noqa: E402  (benchmarks/common.py: the checkout on sys.path)

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


class Browser:
    """One client: its connection and cookies, its teams' forms (race first), and their CSRF tokens."""

    def __init__(self, base: str, order: list[str]) -> None:
        self.client, self.order, self.tokens, self.n = Client(base), order, {}, 0
        for path in order:
            m = CSRF.search(self.client.call(path)[1])
            if m:
                self.tokens[path] = m.group(1)

    def submit(self, k: int) -> tuple[bool, float]:
        """POST the next of its teams' check-ins (the first logs it, the next ones correct it): a 303."""
        path = self.order[self.n % len(self.order)]
        self.n += 1
        status, _, dt = self.client.call(path, {"csrf_token": self.tokens.get(path, ""),
                                                "notes": f"Point {self.n} du client {k}", "hours": "6", "mood": "4"})
        return status == 303, dt

    def health(self, k: int) -> tuple[bool, float]:
        status, _, dt = self.client.call("/healthz")
        return status == 200, dt


def browsers(base: str, paths: list[str], clients: int) -> list[Browser]:
    """Client k works on teams k, k + clients, …; clients 2j and 2j + 1 first race on team j's check-in."""
    out = []
    for k in range(clients):
        race = paths[(k // 2) :: max(1, clients // 2)][:1] if clients > 1 else []
        out.append(Browser(base, race + paths[k::clients]))
    return out


def drive(clients: list[Browser], what: str, seconds: float) -> dict:
    """Every client sends ``what`` (``submit`` or ``health``) requests back to back for ``seconds``,
    starting together; latencies and failures."""
    lat: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop: list[float] = []
    barrier = threading.Barrier(len(clients), action=lambda: stop.append(time.monotonic() + seconds))

    def worker(k: int, b: Browser) -> None:
        nonlocal errors
        barrier.wait()  # its action sets the common end, once every client is ready
        send = getattr(b, what)
        while time.monotonic() < stop[0]:
            ok, dt = send(k)
            with lock:
                lat.append(dt)
                errors += not ok

    threads = [threading.Thread(target=worker, args=(k, b)) for k, b in enumerate(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"lat": lat, "wall": wall, "p50": pct(lat, .5), "p95": pct(lat, .95), "errors": errors}


def spread(values: list[float]) -> str:
    """Median (min–max) of a round-by-round measure."""
    return f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})"


def bench(label: str, url: str, args) -> tuple[list[str], list[list[str]], Comparison]:
    """Submissions and /healthz in alternating rounds (submissions, then /healthz, then submissions…),
    so both are measured under the same conditions (a PostgreSQL checkpoint, a busy neighbour): the
    summary row over all rounds, and per measure the median, min and max of the rounds."""
    print(f"{label}: building {args.teams} teams…", file=sys.stderr, flush=True)
    teams = build(url, args.teams)
    clock = FixedClock(NOW)
    paths = [checkin_path(sign(KEY, clock, "checkin", pid, 0, tid, WEEK), tid, WEEK) for tid, pid, _ in teams]
    port = free_port()
    server = start_server(url, port)
    base = f"http://127.0.0.1:{port}"
    rounds: list[tuple[dict, dict]] = []
    slice_ = args.seconds / args.rounds
    try:
        clients = browsers(base, paths, args.clients)
        print(f"{label}: {args.clients} clients, {args.rounds} rounds of {slice_:g} s submitting then {slice_:g} s "
              "on /healthz…", file=sys.stderr, flush=True)
        for _ in range(args.rounds):
            rounds.append((drive(clients, "submit", slice_), drive(clients, "health", slice_)))
    finally:
        server.terminate()
        server.wait(timeout=30)
    sub, health = ({"lat": [x for r in rounds for x in r[i]["lat"]], "errors": sum(r[i]["errors"] for r in rounds),
                    "wall": sum(r[i]["wall"] for r in rounds)} for i in (0, 1))
    for what, r in (("submissions", sub), ("healthz", health)):
        print(f"{label}: {what}: {len(r['lat'])} requests, slowest {max(r['lat'], default=0) * 1000:.0f} ms",
              file=sys.stderr)
    wf = Workflow.open(url, clock=clock, actor=COORD, settings=Settings(secret_key=KEY))
    found = wf.checkins(week=WEEK)
    wf.close()
    per_team: dict[str, int] = {}
    for c in found:
        per_team[c.team] = per_team.get(c.team, 0) + 1
    once = all(n == 1 for n in per_team.values())
    sub_p95, health_p95 = pct(sub["lat"], .95), pct(health["lat"], .95)
    ratio = sub_p95 / health_p95 if health_p95 else float("nan")
    row = [label]
    for r, p95 in ((sub, sub_p95), (health, health_p95)):
        row += [f"{len(r['lat']) / r['wall']:.0f}", f"{pct(r['lat'], .5):.1f}", f"{p95:.1f}", str(r["errors"])]
    row += [f"{ratio:.1f}×", f"{len(found)}/{len(per_team)} teams", "yes" if once else "NO"]
    ratios = [s["p95"] / h["p95"] for s, h in rounds if h["p95"]]
    measures = [[label, "submission p50 ms", spread([s["p50"] for s, _ in rounds])],
                [label, "submission p95 ms", spread([s["p95"] for s, _ in rounds])],
                [label, "healthz p50 ms", spread([h["p50"] for _, h in rounds])],
                [label, "healthz p95 ms", spread([h["p95"] for _, h in rounds])],
                [label, "p95 ratio", spread(ratios) if ratios else "—"]]
    cmp = Comparison(tuple(s["p95"] for s, h in rounds if h["p95"]), tuple(h["p95"] for _, h in rounds if h["p95"]),
                     unit="ms").named(f"web check-in submission p95, {args.clients} clients, {label}",
                                      target=("<=", 5.0), baseline="/healthz p95, the same clients, interleaved rounds",
                                      note=f"{sub['errors'] + health['errors']} errors; each check-in stored once: "
                                           f"{'yes' if once else 'NO'}")
    return row, measures, cmp


def table(head: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print(" | ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths)))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30, help="of submissions, and as many of /healthz")
    ap.add_argument("--rounds", type=int, default=10, help="alternating slices those seconds are cut into")
    ap.add_argument("--teams", type=int, default=100)
    ap.add_argument("--pg", default=os.environ.get("PREINCUB_TEST_DATABASE_URL"),
                    help="a PostgreSQL server URL (a fresh schema is made there)")
    add_json_option(ap)
    args = ap.parse_args(argv)
    if args.clients < 1 or args.rounds < 1 or args.seconds <= 0:
        ap.error("--clients and --rounds must be at least 1, --seconds more than 0")
    results = []
    with tempfile.TemporaryDirectory() as d:
        os.environ.setdefault("XDG_DATA_HOME", d)
        results.append(bench("SQLite", str(Path(d) / "bench.db"), args))
    if args.pg:
        import sqlalchemy as sa

        schema = "bench_" + uuid.uuid4().hex[:10]
        admin = sa.create_engine(args.pg.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as c:
            c.exec_driver_sql(f"CREATE SCHEMA {schema}")
        base = admin.url.render_as_string(hide_password=False)
        sep = "&" if "?" in base else "?"
        try:
            results.append(bench("PostgreSQL", f"{base}{sep}options=-csearch_path%3D{schema}", args))
        finally:
            with admin.begin() as c:
                c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            admin.dispose()
    else:
        print("PostgreSQL: skipped (give --pg URL or PREINCUB_TEST_DATABASE_URL)", file=sys.stderr)
    head = ["store", "POST req/s", "p50 ms", "p95 ms", "errors", "healthz req/s", "p50 ms", "p95 ms", "errors",
            "p95 ratio", "check-ins", "once each"]
    table(head, [row for row, _, _ in results])
    print(f"\nRound by round ({args.rounds} rounds, submissions and /healthz alternating): median (min–max)")
    table(["store", "measure", "median (min–max)"], [m for _, measures, _ in results for m in measures])
    print(f"\n{args.clients} clients, {args.seconds:g} s of each; goal: p95 ratio ≤ 5×, no error, once each: yes")
    emit("web", [c for _, _, c in results], args.json)


if __name__ == "__main__":
    main()
