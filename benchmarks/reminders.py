"""Benchmark one reminders tick: enqueue ~10,000 weekly coaching reminders, re-tick, deliver them over SMTP.

Run it as a script (never a test):

    python benchmarks/reminders.py [--teams 10000] [--repeat 5] [--done 0.02] [--big] [--pg URL]
                                   [--profile] [--keep] [--json FILE] [--only deliver]

It builds a SQLite store of ``--teams`` teams, every one in investigation since Monday 2020-07-06
09:00 Europe/Paris, each with its own coach (so one message per team), with the store-building code
of ``benchmarks/common.py`` (real migrations, then bulk inserts). Each coach logged about one
check-in a week (~10 % of the weeks skipped at random, never the last full week, so no "missed
coaching" alert is due); ``--done`` of the teams already logged this week's on the clock's day.
The clock is Monday 2020-10-05 10:00 Paris (2020-W41): the weekly coaching reminder is due for every
other team, and nothing else is. A local SMTP server (aiosmtpd on 127.0.0.1, in a child process so
that it does not share the benchmark's GIL) records each message's ``X-Preincub-Key``.

Each of ``--repeat`` rounds runs each pair back to back (A B), and prints median, min and max of each
side and of the per-round ratio:

* ``Workflow.reminders.enqueue()`` on an empty outbox (checked: one e-mail per team not done) against
  its fair raw version on a ``sqlite3`` connection with the store's PRAGMAs: reading the same inputs
  (the teams, their coach and last check-in) plus one ``executemany`` of the SAME outbox rows, text
  included (the rows the library produced); target ≤ 5 ×;
* the idle re-tick (everything queued: must enqueue 0) against one indexed "is anything due?" query
  (``ix_outbox_due``); target ≤ 2 ×;
* ``Workflow.delivery.deliver()`` of those rows (checked: each key arrived once, every row 'sent')
  against raw ``smtplib`` sending the same messages over ONE connection, as rates; target ≥ 0.8 ×.

``--big`` also builds 10 × ``--teams`` and compares enqueue (≤ 11 ×) and the idle re-tick (≤ 1.5 ×) at
the two sizes, alternated; ``--pg URL`` does the same on PostgreSQL (``--teams`` / 10 and ``--teams``,
and with ``--big`` ``--teams`` and 10 × too), in databases it makes and drops; a database error
there is reported (``failures`` in the JSON) and the rest goes on. It also prints enqueue's
parts (snapshot, due_now, the outbox rows), and with ``--profile`` where enqueue's and deliver's time
goes (cProfile). Targets are reported, not enforced; it exits 0.
"""


from __future__ import annotations

import cProfile
import gc
import multiprocessing
import pstats
import random
import re
import smtplib
import socket
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

# benchmarks/common.py, shared with engine.py and checkins.py; it puts the checkout on sys.path
from common import Comparison, Rows, add_json_option, alternate, arg_parser, build_store, emit, fmt_s
from common import investigation_timeline, pg_database, scratch, sqlite_raw, timed_build

from notifications import Message  # noqa: E402  (after common: it makes the checkout importable)
from notifications.channels import build_email  # noqa: E402
from workflow.api import Workflow  # noqa: E402
from workflow.clock import FixedClock, PARIS
from workflow.rules import due  # noqa: E402
from workflow.store import reminders as reminder_rows  # noqa: E402
from workflow.rules.coaching import iso_week  # noqa: E402
from workflow.store.models import CheckIn, Outbox, ReminderPlan  # noqa: E402

CLOCK = datetime(2020, 10, 5, 10, 0, tzinfo=PARIS)  # a Monday, 2020-W41; the weekly reminder is due at 09:00
SELECTED = datetime(2020, 7, 6, 9, 0, tzinfo=PARIS)  # every team entered investigation then (13 weeks before)
ACTOR = "coord@example.org"  # the store's first coordinator: may manage the outbox
HOLDER = "benchmark"
SKIP = 0.10  # chance a coach logged nothing in a past week (never the last full one)
KEY = re.compile(rb"^X-Preincub-Key: *(\S+)\r?$", re.MULTILINE)


# ---- the store -------------------------------------------------------------------------------

def checkin_rows(done_share: float, seed: int, done: set[int]) -> Callable:
    """The ``extra`` of build_store: the coaches' past check-ins; the teams done this week go in ``done``."""
    this_monday = CLOCK.date()
    rng = random.Random(seed)

    def row(team_id: int, author: int, day: date) -> dict[str, Any]:
        at = datetime.combine(day, clock_time(9, 30), tzinfo=PARIS)
        return dict(team_id=team_id, author_id=author, on=day, week=iso_week(day), missed=False, hours=7.0,
                    notes="Entretiens usagers, prototype, prochaines étapes.", created_at=at, updated_at=at)

    def extra(teams: Rows, coach_of: Callable[[int], int]):
        rows: Rows = []
        for t in teams:
            author, monday = coach_of(t["id"]), SELECTED.date()
            while monday < this_monday:
                if monday + timedelta(days=7) == this_monday or rng.random() >= SKIP:
                    rows.append(row(t["id"], author, monday + timedelta(days=rng.randint(0, 4))))
                monday += timedelta(days=7)
            if rng.random() < done_share:  # held this morning: nothing due for this team
                rows.append(row(t["id"], author, this_monday))
                done.add(t["id"])
        return [(CheckIn, rows)]

    return extra


def build(path: Path, n: int, done_share: float, seed: int) -> set[int]:
    done: set[int] = set()
    build_store(path, n, now=CLOCK, actor=ACTOR, phase_of=lambda i: "investigation",
                timeline=investigation_timeline(SELECTED), extra=checkin_rows(done_share, seed, done),
                teams_per_coach=1)
    return done


# ---- the SMTP server --------------------------------------------------------------------------

class Recorder:
    """The aiosmtpd handler: keeps each message's X-Preincub-Key and answers 250."""

    def __init__(self) -> None:
        self.keys: list[str | None] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        m = KEY.search(envelope.content)
        self.keys.append(m.group(1).decode() if m else None)
        return "250 OK"

    def take(self) -> list[str | None]:
        keys, self.keys = self.keys, []
        return keys


def start_controller(handler: Recorder):
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port (aiosmtpd's Controller needs a real one)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def serve_smtp(conn) -> None:
    """In the child process: send the port, then on each request the keys received since the last."""
    handler = Recorder()
    controller = start_controller(handler)
    try:
        conn.send(controller.port)
        while conn.recv() != "stop":
            conn.send(handler.take())
    finally:
        controller.stop()


class SmtpServer:
    """aiosmtpd on 127.0.0.1: in a child process (its own GIL and core), or a thread of this process."""

    def __init__(self, where: str) -> None:
        self.where = where

    def __enter__(self) -> SmtpServer:
        if self.where == "thread":
            self.handler = Recorder()
            self.controller = start_controller(self.handler)
            self.port = self.controller.port
            return self
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=serve_smtp, args=(child,), daemon=True)
        self.proc.start()
        self.port = self.conn.recv()
        return self

    def take(self) -> list[str | None]:
        """The keys of the messages received since the last call."""
        if self.where == "thread":
            return self.handler.take()
        self.conn.send("take")
        return self.conn.recv()

    def __exit__(self, *exc) -> None:
        if self.where == "thread":
            self.controller.stop()
            return
        self.conn.send("stop")
        self.proc.join(10)


# ---- measuring -------------------------------------------------------------------------------

def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def clear_outbox(wf: Workflow) -> None:
    """An empty outbox, and no plan: the next enqueue takes the full look (the library's own changes move
    the audit chain's head; this raw delete does not)."""
    with wf.store.write() as s:
        s.execute(sa.delete(Outbox))
        s.execute(sa.delete(ReminderPlan))


def outbox_rows(wf: Workflow) -> list[Outbox]:
    with wf.store.read() as s:
        return list(s.exec(select(Outbox).order_by(Outbox.id)))


def statuses(wf: Workflow) -> Counter:
    with wf.store.read() as s:
        return Counter(dict(s.execute(select(Outbox.status, sa.func.count()).group_by(Outbox.status)).all()))


def enqueue_parts(wf: Workflow) -> dict[str, float]:
    """reminders.enqueue()'s steps before it writes, timed one by one on an EMPTY outbox (as the timed
    reminders.enqueue() finds it), in one read transaction; the outbox is left empty. The insert and the
    commit are what the timed reminders.enqueue() takes beyond these (by difference, in the table)."""
    clear_outbox(wf)
    now = wf.clock.now()
    with wf.store.read() as s:
        t_snap, snap = timed(lambda: wf.reminders._snapshot(s, now))
        t_due, dues = timed(lambda: due.due_now(snap, now, wf.settings))
        t_people, _ = timed(lambda: reminder_rows.people(s, {pid for d in dues for pid in d.recipients}))
        t_messages, rows = timed(lambda: wf.reminders._messages(s, snap, dues))
    assert len(rows) == len(dues), "the outbox was not empty: the parts would not be enqueue's"
    return {"snapshot": t_snap, "due_now": t_due, "messages": t_messages, "people": t_people}


def raw_send(port: int, mails: list) -> float:
    """Send every message over one smtplib connection (connect and QUIT included, as deliver() does)."""
    t0 = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for mail in mails:
            smtp.send_message(mail)
    return time.perf_counter() - t0


def as_message(r: Outbox) -> Message:
    return Message(r.key, r.recipient, r.recipient_name, r.subject, r.body_text, r.body_html, r.lang)


Profiled = tuple[float, dict[str, float], list[str]]


def profile(fn: Callable[[], Any], parts: dict[str, str | None], top: int = 12) -> Profiled:
    """Run ``fn`` under cProfile: total, the cumulative time of each function named in ``parts``
    (label -> "path-suffix:function", several joined by "|"), and the ``top`` functions by own time."""
    prof = cProfile.Profile()
    gc.collect()
    prof.enable()
    fn()
    prof.disable()
    st = pstats.Stats(prof).stats  # (file, line, function) -> (calls, primitive calls, own, cumulative, callers)
    total = max(ct for _, _, _, ct, _ in st.values())
    found = {}
    for label, where in parts.items():
        if where is None:
            found[label] = total - sum(t for k, t in found.items() if not k.startswith(" "))
            continue
        wanted = [w.split(":", 1) for w in where.split("|")]
        found[label] = sum(v[3] for (f, _, name), v in st.items()
                           if any(name == func and f.endswith(suffix) for suffix, func in wanted))
    own = sorted(st.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    lines = [f"{v[2]:7.3f} s own {v[3]:7.3f} s cum {v[1]:>8,} calls  {Path(f).name}:{line} {name}"
             for (f, line, name), v in own]
    return total, found, lines


# label -> where (an indented label is part of the one above it; None: what the top-level ones leave)
ENQUEUE_PARTS = {"snapshot (set-based queries)": "workflow/store/reminders.py:snapshot",
                 "due_now (pure)": "workflow/rules/due.py:due_now",
                 "_messages (the outbox rows)": "workflow/services/reminders.py:_messages",
                 "  render_compiled (a shape compiled once, then filled)": "notifications/compiled.py:render_compiled",
                 "  people (recipients' rows)": "workflow/store/reminders.py:people",
                 "_queued (keys already queued)": "workflow/services/reminders.py:_queued",
                 "rest: insert, commit, ...": None}
DELIVER_PARTS = {"email_bytes (the message written out)": "notifications/channels.py:email_bytes",
                 "smtplib sendmail (the SMTP exchange)": "smtplib.py:sendmail",
                 "  send + getreply": "smtplib.py:send|smtplib.py:getreply",
                 "_claim (batches of 50)": "workflow/services/delivery.py:_claim",
                 "_settle (outcomes, a transaction per 20 ms)": "workflow/services/delivery.py:_settle",
                 "  sqlite3 execute + commit (all)": "~:<method 'execute' of 'sqlite3.Cursor' objects>"
                                                     "|~:<method 'commit' of 'sqlite3.Connection' objects>",
                 "rest: Message objects, the loop, ...": None}


def print_profile(title: str, result: Profiled) -> None:
    total, found, lines = result
    print(f"\nprofile of {title} (cProfile, {total:.2f} s with its overhead):")
    for label, t in found.items():
        print(f"  {label:<44} {t:7.3f} s  {100 * t / total:5.1f} %")
    print("  top functions by own time:")
    for line in lines:
        print(f"    {line}")


def outbox_columns(con) -> list[str]:
    return [r[1] for r in con.execute("PRAGMA table_info(outbox)") if r[1] != "id"]


class RawEnqueue:
    """The fair raw version of an enqueue, on a raw ``sqlite3`` connection with the store's PRAGMAs: read
    the same inputs (the teams in investigation, their coach and last check-in, one joined query), then
    one ``executemany`` of the SAME outbox rows (every column, text included: the rows the library
    produced, taken from the outbox after its enqueue), in one ``BEGIN IMMEDIATE`` transaction."""

    INPUTS = ("SELECT t.id, t.name, t.programme_id, t.phase, t.phase_since, c.id, c.name, c.email, c.lang, "
              "(SELECT max(k.\"on\") FROM checkin k WHERE k.team_id = t.id AND k.missed = 0) "
              "FROM team t JOIN team_member m ON m.team_id = t.id AND m.role = 'coach' "
              "JOIN person c ON c.id = m.person_id WHERE t.phase = 'investigation' ORDER BY t.id")

    def __init__(self, path: Path) -> None:
        self.con = sqlite_raw(path)
        self.columns = outbox_columns(self.con)
        self.rows: list[tuple] = []
        self.due_at: str | None = None

    def take(self) -> None:
        """The rows the library just enqueued (every column but the id)."""
        cols = ", ".join(f'"{c}"' for c in self.columns)
        self.rows = self.con.execute(f"SELECT {cols} FROM outbox ORDER BY id").fetchall()
        self.due_at = self.con.execute("SELECT max(due_at) FROM outbox").fetchone()[0]

    def enqueue(self) -> float:
        cols = ", ".join(f'"{c}"' for c in self.columns)
        marks = ", ".join("?" for _ in self.columns)
        t0 = time.perf_counter()
        self.con.execute("BEGIN IMMEDIATE")
        inputs = self.con.execute(self.INPUTS).fetchall()
        self.con.executemany(f"INSERT INTO outbox ({cols}) VALUES ({marks})", self.rows)
        self.con.execute("COMMIT")
        took = time.perf_counter() - t0
        assert len(inputs) >= len(self.rows)
        return took

    def anything_due(self) -> float:
        """One indexed query (``ix_outbox_due``): is this period's reminder already queued?"""
        t0 = time.perf_counter()
        self.con.execute("BEGIN")
        queued = self.con.execute("SELECT 1 FROM outbox WHERE due_at = ? LIMIT 1", (self.due_at,)).fetchone()
        self.con.execute("COMMIT")
        took = time.perf_counter() - t0
        assert queued is not None
        return took

    def close(self) -> None:
        self.con.close()


def measure(path: Path, n: int, done: set[int], rounds: int, force_profile: bool, server_in: str,
            only: str | None = None) -> dict:
    """Each round, each pair side by side: enqueue / its raw version; the idle re-tick / the "is anything due?"
    query; deliver() / raw smtplib (rates)."""
    expected = n - len(done)
    r: dict[str, Any] = {"expected": expected, "enqueue": [], "raw_enqueue": [], "again": [], "due": [],
                       "deliver": [], "raw": [], "parts": []}
    wf = Workflow.open(str(path), clock=FixedClock(CLOCK), actor=ACTOR)
    raw = RawEnqueue(path)
    try:
        with wf.store.read() as s:
            r["checkins"] = s.execute(select(sa.func.count()).select_from(CheckIn)).scalar_one()
        with SmtpServer(server_in) as server:
            wf = wf.with_settings(wf.settings.replace(smtp_url=f"smtp://127.0.0.1:{server.port}"))
            mails = keys = None
            if only != "deliver":
                enqueue_parts(wf)  # a warm-up, not kept: templates compiled, holidays loaded, as in a daemon
            for k in range(rounds):
                if only != "deliver":
                    r["parts"].append(enqueue_parts(wf))  # leaves the outbox empty
                else:
                    clear_outbox(wf)
                t, got = timed(wf.reminders.enqueue)
                r["enqueue"].append(t)
                assert got == expected, f"reminders.enqueue() enqueued {got:,} rows, expected {expected:,}"
                if mails is None:
                    rows = outbox_rows(wf)
                    kinds = Counter((x.kind, x.channel) for x in rows)
                    assert kinds == {("coaching", "email"): expected}, kinds
                    assert {x.team_id for x in rows}.isdisjoint(done) and len({x.team_id for x in rows}) == expected
                    keys = sorted(x.key for x in rows)
                    raw.take()
                    msgs = [as_message(x) for x in rows]  # the same messages for raw smtplib, built once
                    mails = [build_email(m, wf.settings.delivery.smtp_from) for m in msgs]
                    gc.freeze()  # kept for every round: out of the collector's way
                clear_outbox(wf)
                gc.collect()
                r["raw_enqueue"].append(raw.enqueue())  # the same rows again, as pending
                # The tick after them looks once (the raw rows wrote no plan) and finds nothing new; the next
                # one, the idle re-tick measured, is a daemon's tick when nothing changed.
                if only != "deliver":
                    assert wf.reminders.enqueue() == 0
                    t, again = timed(wf.reminders.enqueue)
                    r["again"].append(t)
                    assert again == 0, f"the idle re-tick enqueued {again:,} rows"
                    r["due"].append(raw.anything_due())

                server.take()
                t, counts = timed(lambda: wf.delivery.deliver(HOLDER))
                r["deliver"].append(expected / t)
                assert counts == {"sent": expected, "retry": 0, "failed": 0, "waiting": 0}, counts
                assert sorted(server.take()) == keys, "the server did not receive each outbox key exactly once"
                assert statuses(wf) == {"sent": expected}
                r["raw"].append(expected / raw_send(server.port, mails))
                assert sorted(server.take()) == keys, "raw smtplib: not every message arrived once"
                print(f"round {k + 1}/{rounds}: enqueue {fmt_s(r['enqueue'][-1])} / raw {fmt_s(r['raw_enqueue'][-1])}"
                      f", deliver {r['deliver'][-1]:,.0f} msg/s / raw {r['raw'][-1]:,.0f} msg/s", file=sys.stderr)
            if force_profile:
                clear_outbox(wf)
                r["profile_enqueue"] = profile(wf.reminders.enqueue, ENQUEUE_PARTS)
                with wf.store.write() as s:  # the same rows, pending again
                    s.execute(sa.update(Outbox).values(status="pending", attempts=0, sent_at=None))
                server.take()
                r["profile_deliver"] = profile(lambda: wf.delivery.deliver(HOLDER), DELIVER_PARTS)
                assert len(server.take()) == expected
    finally:
        raw.close()
        wf.close()
    return r


def scaling(paths: dict[int, Path | str], rounds: int, label: str = "") -> tuple[Comparison, Comparison]:
    """Enqueue and the idle re-tick on the big store against the small one, alternated."""
    wfs = {n: Workflow.open(str(p), clock=FixedClock(CLOCK), actor=ACTOR) for n, p in paths.items()}
    big, small = max(wfs), min(wfs)
    try:
        def enqueue(n: int) -> Callable[[], float]:
            def run() -> float:
                clear_outbox(wfs[n])
                t, got = timed(wfs[n].reminders.enqueue)
                assert got > 0
                return t
            return run

        def again(n: int) -> Callable[[], float]:
            def run() -> float:
                t, got = timed(wfs[n].reminders.enqueue)
                assert got == 0
                return t
            return run

        enq = alternate(enqueue(big), enqueue(small), rounds, warmup=1)
        idle = alternate(again(big), again(small), rounds, warmup=1)
    finally:
        for wf in wfs.values():
            wf.close()
    return (enq.named(f"{label}enqueue, {big:,} vs {small:,} teams", baseline=f"enqueue at {small:,} teams",
                      target=("<=", 11.0)),
            idle.named(f"{label}idle re-tick, {big:,} vs {small:,} teams", baseline=f"idle re-tick at {small:,} teams",
                       target=("<=", 1.5)))


# ---- the table -----------------------------------------------------------------------------

def comparisons(n: int, r: dict) -> list[Comparison]:
    exp = r["expected"]
    if not r["again"]:  # --only deliver
        return [Comparison(tuple(r["deliver"]), tuple(r["raw"]), unit="msg/s").named(
            f"SMTP delivery, {exp:,} e-mails, rate", target=(">=", 0.8),
            baseline="raw smtplib, one connection, the same messages")]
    return [
        Comparison(tuple(r["enqueue"]), tuple(r["raw_enqueue"])).named(
            f"enqueue, {n:,} teams ({exp:,} e-mails)", target=("<=", 5.0),
            baseline="raw sqlite3: read teams, coach, last check-in + executemany of the same outbox rows"),
        Comparison(tuple(r["again"]), tuple(r["due"])).named(
            f"idle re-tick, {n:,} teams", target=("<=", 2.0),
            baseline="one indexed 'is anything due?' query (ix_outbox_due)"),
        Comparison(tuple(r["deliver"]), tuple(r["raw"]), unit="msg/s").named(
            f"SMTP delivery, {exp:,} e-mails, rate", target=(">=", 0.8),
            baseline="raw smtplib, one connection, the same messages"),
    ]


def report_parts(r: dict) -> None:
    if r["parts"]:  # not with --only deliver
        parts = {k: statistics.median(p[k] for p in r["parts"]) for k in r["parts"][0]}
        rest = statistics.median(r["enqueue"]) - parts["snapshot"] - parts["due_now"] - parts["messages"]
        print("enqueue's parts (empty outbox, medians): " + ", ".join(f"{k} {fmt_s(v)}" for k, v in parts.items())
              + f", insert + commit (by difference) {fmt_s(rest)}; check-in rows {r['checkins']:,}")
    for key, title in (("profile_enqueue", "reminders.enqueue()"), ("profile_deliver", "deliver()")):
        if key in r:
            print_profile(title, r[key])


def main(argv: list[str] | None = None) -> int:
    ap = arg_parser(__doc__, teams_help="teams in investigation, one coach each", repeat=5, seed=20201005,
                    seed_help="seed of the check-ins")
    ap.add_argument("--done", type=float, default=0.02, help="share of teams with this week's check-in already")
    ap.add_argument("--profile", action="store_true", help="profile enqueue and deliver")
    ap.add_argument("--big", action="store_true", help="also build 10 × --teams and compare the two sizes (minutes)")
    ap.add_argument("--server", choices=("process", "thread"), default="process",
                    help="run the SMTP server in a child process (default) or in a thread of this one")
    ap.add_argument("--pg", metavar="URL", help="also compare enqueue at two sizes on PostgreSQL (--teams / 10 and "
                    "--teams; with --big, --teams and 10 ×), in databases of their own made and dropped there")
    ap.add_argument("--only", choices=("deliver",), help="measure only this part (deliver: SMTP delivery against "
                    "raw smtplib; enqueue still fills the outbox each round, its comparisons left out)")
    add_json_option(ap)
    args = ap.parse_args(argv)
    if args.teams < 1 or args.repeat < 1 or not 0 <= args.done < 1:
        ap.error("give --teams >= 1, --repeat >= 1 and 0 <= --done < 1")

    with scratch(args.keep) as workdir:
        path = workdir / f"reminders-{args.teams}.db"
        _, done = timed_build(path, args.teams, lambda: build(path, args.teams, args.done, args.seed))
        r = measure(path, args.teams, done, args.repeat, args.profile, args.server, args.only)
        out = comparisons(args.teams, r)
        if args.big:
            n = args.teams * 10
            bigger = workdir / f"reminders-{n}.db"
            timed_build(bigger, n, lambda: build(bigger, n, args.done, args.seed))
            out += scaling({n: bigger, args.teams: path}, args.repeat)
        failures: list[str] = []
        if args.pg:
            pairs = [(max(1, args.teams // 10), args.teams)] + ([(args.teams, args.teams * 10)] if args.big else [])
            for sizes in pairs:
                try:
                    with pg_database(args.pg) as small_db, pg_database(args.pg) as big_db:
                        for n, db in zip(sizes, (small_db, big_db)):
                            timed_build(db, n, lambda: build(db, n, args.done, args.seed))
                        out += scaling({sizes[1]: big_db, sizes[0]: small_db}, args.repeat, "PostgreSQL: ")
                except sa.exc.DBAPIError as exc:  # a finding, not the benchmark's failure: said, and the rest goes on
                    failures.append(f"PostgreSQL, enqueue at {sizes[1]:,} teams: "
                                    f"{str(exc.orig or exc).splitlines()[0]}")
                    print(f"FAILED: {failures[-1]}", file=sys.stderr)
        report_parts(r)
        emit("reminders", out, args.json, failures=failures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
