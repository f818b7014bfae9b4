"""Benchmark one reminders tick: enqueue ~10,000 weekly coaching reminders, deliver them over SMTP.

Run it as a script (never a test):

    python benchmarks/reminders.py [--teams 10000] [--repeat 3] [--done 0.02] [--profile] [--keep]

It builds a SQLite store of ``--teams`` teams, every one in investigation since Monday 2020-07-06
09:00 Europe/Paris, each with its own coach (so one message per team), with the store-building code
of ``benchmarks/common.py`` (real migrations, then bulk inserts). Each coach logged about one
check-in a week (~10 % of the weeks skipped at random, never the last full week, so no "missed
coaching" alert is due); ``--done`` of the teams already logged this week's on the clock's day.
The clock is Monday 2020-10-05 10:00 Paris (2020-W41, weeks before the programmes' first deadline
reminder): the weekly coaching reminder is due for every other team, and nothing else is.

A local SMTP server (aiosmtpd ``Controller`` on 127.0.0.1, a free port, in a child process so that
it does not share the benchmark's GIL; its handler records each message's ``X-Preincub-Key`` and
answers "250 OK") receives everything. Each of ``--repeat`` rounds (medians are reported):

* empties the outbox, then times ``Workflow.reminders.enqueue()`` (target: under 2 s), checks it enqueued
  exactly one e-mail per team without this week's check-in, and times it again (must enqueue 0);
* times ``Workflow.delivery.deliver()`` of those rows to the server and checks every key arrived exactly
  once and every outbox row is 'sent';
* times raw ``smtplib`` sending the same messages (EmailMessage objects built beforehand from the
  outbox rows with ``notifications.channels.build_email``) over ONE connection to the same server,
  and checks they all arrived; target: deliver's rate at least half the raw rate.

It also splits enqueue into its parts, timed on an empty outbox before each round's enqueue, after one
untimed warm-up (snapshot, due_now, the outbox rows: people and rendering; the insert and commit by
difference), and deliver per message into building the MIME message, the SMTP exchange and the rest
(claims and settles in the store). With ``--profile``, or when a target is missed, it runs each operation once more under
cProfile and prints where the time goes. It prints one table and exits 0 (targets reported, not
enforced).
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
from common import Rows, arg_parser, build_store, fmt_s, investigation_timeline, print_footer, print_table
from common import scratch, timed_build

from notifications import Message  # noqa: E402  (after common: it makes the checkout importable)
from notifications.channels import build_email  # noqa: E402
from workflow.api import Workflow  # noqa: E402
from workflow.clock import FixedClock, PARIS
from workflow.rules import due  # noqa: E402
from workflow.store import reminders as reminder_rows  # noqa: E402
from workflow.rules.coaching import iso_week  # noqa: E402
from workflow.store.models import CheckIn, Outbox  # noqa: E402

CLOCK = datetime(2020, 10, 5, 10, 0, tzinfo=PARIS)  # a Monday, 2020-W41; the weekly reminder is due at 09:00
SELECTED = datetime(2020, 7, 6, 9, 0, tzinfo=PARIS)  # every team entered investigation then (13 weeks before)
ACTOR = "coord@example.org"  # the store's first coordinator: may manage the outbox
HOLDER = "benchmark"
SKIP = 0.10  # chance a coach logged nothing in a past week (never the last full one)
ENQUEUE_TARGET_S = 2.0
RATIO_TARGET = 0.5
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
    with wf.store.write() as s:
        s.execute(sa.delete(Outbox))


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


def settle_each(wf: Workflow, rows: list[Outbox]) -> float:
    """Claim every row again, then time deliver()'s per-message step alone: _settle() marking each sent."""
    with wf.store.write() as s:
        s.execute(sa.update(Outbox).values(status="sending", claimed_by=HOLDER))
    gc.collect()
    t0 = time.perf_counter()
    for row in rows:
        wf.delivery._settle(row, HOLDER, None)
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
                 "  render (jinja: subject, text, HTML)": "notifications/render.py:render",
                 "  people (recipients' rows)": "workflow/store/reminders.py:people",
                 "_queued (keys already queued)": "workflow/services/reminders.py:_queued",
                 "rest: insert, commit, ...": None}
DELIVER_PARTS = {"build_email (EmailMessage, policy.default)": "notifications/channels.py:build_email",
                 "  HeaderRegistry.__getitem__ (new class)": "email/headerregistry.py:__getitem__",
                 "smtplib send_message (flatten + SMTP)": "smtplib.py:send_message",
                 "  its SMTP exchange (send + getreply)": "smtplib.py:send|smtplib.py:getreply",
                 "_claim (batches of 200)": "workflow/services/delivery.py:_claim",
                 "_settle (one transaction per message)": "workflow/services/delivery.py:_settle",
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


def measure(path: Path, n: int, done: set[int], repeat: int, force_profile: bool, server_in: str) -> dict:
    expected = n - len(done)
    r: dict[str, Any] = {"expected": expected, "enqueue": [], "again": [], "deliver": [], "raw": [], "parts": [],
                       "build_email": [], "settle": []}
    wf = Workflow.open(str(path), clock=FixedClock(CLOCK), actor=ACTOR)
    try:
        with wf.store.read() as s:
            r["checkins"] = s.execute(select(sa.func.count()).select_from(CheckIn)).scalar_one()
        with SmtpServer(server_in) as server:
            wf = wf.with_settings(wf.settings.replace(smtp_url=f"smtp://127.0.0.1:{server.port}"))
            mails = None
            enqueue_parts(wf)  # a warm-up, not kept: templates compiled, holidays loaded, as in a daemon
            for k in range(repeat):
                r["parts"].append(enqueue_parts(wf))  # leaves the outbox empty
                clear_outbox(wf)
                t, got = timed(wf.reminders.enqueue)
                r["enqueue"].append(t)
                assert got == expected, f"reminders.enqueue() enqueued {got:,} rows, expected {expected:,}"
                t, again = timed(wf.reminders.enqueue)
                r["again"].append(t)
                assert again == 0, f"the second reminders.enqueue() enqueued {again:,} rows"
                rows = outbox_rows(wf)
                kinds = Counter((x.kind, x.channel) for x in rows)
                assert kinds == {("coaching", "email"): expected}, kinds
                assert {x.team_id for x in rows}.isdisjoint(done) and len({x.team_id for x in rows}) == expected
                keys = sorted(x.key for x in rows)

                if mails is None:  # the same messages for raw smtplib, built once from the outbox rows
                    msgs = [as_message(x) for x in rows]
                    mails = [build_email(m, wf.settings.delivery.smtp_from) for m in msgs]
                    gc.freeze()  # kept for every round: out of the collector's way
                r["build_email"].append(timed(lambda: [build_email(m, wf.settings.delivery.smtp_from) and None
                                                       for m in msgs])[0])
                server.take()
                t, counts = timed(lambda: wf.delivery.deliver(HOLDER))
                r["deliver"].append(t)
                assert counts == {"sent": expected, "retry": 0, "failed": 0, "waiting": 0}, counts
                arrived = server.take()
                assert sorted(arrived) == keys, "the server did not receive each outbox key exactly once"
                st = statuses(wf)
                assert st == {"sent": expected}, st
                r["sent"], r["arrived"], r["rows_sent"] = counts["sent"], len(arrived), st["sent"]
                r["settle"].append(settle_each(wf, rows))
                assert statuses(wf) == {"sent": expected}

                t = raw_send(server.port, mails)
                r["raw"].append(t)
                raw_arrived = server.take()
                assert sorted(raw_arrived) == keys, "raw smtplib: not every message arrived once"
                r["raw_arrived"] = len(raw_arrived)
                print(f"round {k + 1}/{repeat}: enqueue {fmt_s(r['enqueue'][-1])}, deliver "
                      f"{fmt_s(r['deliver'][-1])}, raw {fmt_s(t)}", file=sys.stderr)

            med = {key: statistics.median(r[key]) for key in ("enqueue", "again", "deliver", "raw", "build_email",
                                                               "settle")}
            r["med"] = med
            r["enqueue_ok"] = med["enqueue"] < ENQUEUE_TARGET_S
            r["ratio"] = med["raw"] / med["deliver"]  # (n / deliver) / (n / raw)
            r["ratio_ok"] = r["ratio"] >= RATIO_TARGET
            if force_profile or not r["enqueue_ok"]:
                clear_outbox(wf)
                r["profile_enqueue"] = profile(wf.reminders.enqueue, ENQUEUE_PARTS)
            if force_profile or not r["ratio_ok"]:
                with wf.store.write() as s:  # the same rows, pending again
                    s.execute(sa.update(Outbox).values(status="pending", attempts=0, sent_at=None))
                server.take()
                r["profile_deliver"] = profile(lambda: wf.delivery.deliver(HOLDER), DELIVER_PARTS)
                assert len(server.take()) == expected
    finally:
        wf.close()
    return r


# ---- the table -----------------------------------------------------------------------------

def report(n: int, built: float, r: dict, repeat: int, server_in: str, total_runtime: float) -> None:
    med, exp = r["med"], r["expected"]
    rows: list[list[str]] = []

    def row(label: str, value: str, target: str = "", met: str = "") -> None:
        rows.append([label, value, target, met])

    def yes(ok: bool) -> str:
        return "yes" if ok else "NO"

    parts = {k: statistics.median(p[k] for p in r["parts"]) for k in r["parts"][0]}
    rest = med["enqueue"] - parts["snapshot"] - parts["due_now"] - parts["messages"]
    per = {k: med[k] / exp * 1e6 for k in ("deliver", "raw", "build_email", "settle")}
    row("build store (migrations + bulk insert)", fmt_s(built))
    row("  teams in investigation / coaches / check-ins", f"{n:,} / {n:,} / {r['checkins']:,}")
    row(f"reminders.enqueue(), median of {repeat}", fmt_s(med["enqueue"]), f"< {ENQUEUE_TARGET_S:g} s",
        yes(r["enqueue_ok"]))
    row("  rows enqueued (coaching e-mails)", f"{exp:,}", "one per team not done", "yes")
    row("  snapshot (set-based queries)", fmt_s(parts["snapshot"]))
    row("  due_now (pure)", fmt_s(parts["due_now"]))
    row("  outbox rows: people, render (text + HTML)", fmt_s(parts["messages"]))
    row("    of which people (recipients' rows)", fmt_s(parts["people"]))
    row("  rest: insert + commit (by difference)", fmt_s(rest))
    row("reminders.enqueue() again: rows / time", f"0 / {fmt_s(med['again'])}", "0 rows", "yes")
    row(f"deliver() to SMTP, median of {repeat}", fmt_s(med["deliver"]))
    row("  messages/s", f"{exp / med['deliver']:,.0f}")
    row("  sent / arrived / outbox rows 'sent'", f"{r['sent']:,} / {r['arrived']:,} / {r['rows_sent']:,}",
        "all, each key once", "yes")
    row(f"raw smtplib, one connection, median of {repeat}", fmt_s(med["raw"]))
    row("  messages/s", f"{exp / med['raw']:,.0f}")
    row("  arrived", f"{r['raw_arrived']:,}", "all, each key once", "yes")
    row("per message: deliver()", f"{per['deliver']:.0f} µs")
    row("  raw smtplib send_message (flatten + SMTP)", f"{per['raw']:.0f} µs")
    row("  build_email, alone (not in the raw figure)", f"{per['build_email']:.0f} µs")
    row("  _settle, alone (one write transaction)", f"{per['settle']:.0f} µs")
    rest = per["deliver"] - per["raw"] - per["build_email"] - per["settle"]
    row("  rest, by difference (claims, colder caches)", f"{rest:.0f} µs")
    row("ratio preincub / raw (messages/s)", f"{r['ratio']:.2f}", f">= {RATIO_TARGET:g}", yes(r["ratio_ok"]))
    print_table(["measure", f"{n:,} teams", "target", "met"], rows)
    print_footer({}, CLOCK, total_runtime, f"in investigation since {SELECTED.isoformat()}; SMTP server: "
                 f"aiosmtpd in a {'thread of this' if server_in == 'thread' else 'child'} process; ",
                 teams_per_coach=1)
    for key, title in (("profile_enqueue", "reminders.enqueue()"), ("profile_deliver", "deliver()")):
        if key in r:
            print_profile(title, r[key])


def main(argv: list[str] | None = None) -> int:
    ap = arg_parser(__doc__, teams_help="teams in investigation, one coach each", repeat=3, seed=20201005,
                    seed_help="seed of the check-ins")
    ap.add_argument("--done", type=float, default=0.02, help="share of teams with this week's check-in already")
    ap.add_argument("--profile", action="store_true", help="profile enqueue and deliver even if targets are met")
    ap.add_argument("--server", choices=("process", "thread"), default="process",
                    help="run the SMTP server in a child process (default) or in a thread of this one")
    args = ap.parse_args(argv)
    if args.teams < 1 or args.repeat < 1 or not 0 <= args.done < 1:
        ap.error("give --teams >= 1, --repeat >= 1 and 0 <= --done < 1")

    started = time.perf_counter()
    with scratch(args.keep) as workdir:
        path = workdir / f"reminders-{args.teams}.db"
        built, done = timed_build(path, args.teams, lambda: build(path, args.teams, args.done, args.seed))
        r = measure(path, args.teams, done, args.repeat, args.profile, args.server)
        report(args.teams, built, r, args.repeat, args.server, time.perf_counter() - started)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
