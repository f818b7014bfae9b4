"""Benchmark ``checkin gaps``: the set-based Workflow.checkins.gaps() against a naive per-team loop.

Run it as a script (never a test):

    python benchmarks/checkins.py [--teams 10000] [--weeks 26] [--small 1000] [--repeat 5] [--keep]

It builds two SQLite stores (``--small`` and ``--teams`` teams, every one in investigation) with the
store-building code of ``benchmarks/common.py`` (shared with ``benchmarks/engine.py``: real
migrations, then bulk inserts). Each team was selected ``--weeks`` weeks before the clock (Monday
2020-07-06 09:00 Europe/Paris for 26 weeks; the clock is Wednesday 2021-01-06 10:00, so the range
crosses 2020-W53), with an open 'investigation' phase period from then and ``phase_since`` equal to
it. Its coach logged about one check-in a week, with gaps drawn at random per team and week: ~10 %
of the weeks have nothing, ~4 % are recorded as missed (``missed`` with a reason), ~6 % have two
check-ins; the week in progress has one for ~40 % of the teams. It then measures, at both sizes:

* ``Workflow.checkins.gaps()`` over all teams, acting as the coordinator: the median of ``--repeat`` runs on
  an open Workflow (target: under 1 s at ``--teams``), the first call on a freshly opened one, and
  the SQL statements that first call issues (``before_cursor_execute`` on ``wf.store.engine``:
  the same count at both sizes, i.e. not one query per team), with the full-table scans of their
  plans;
* the real CLI ``preincub --db FILE --now 2021-01-06T10:00 --as coord@example.org checkin gaps
  --json`` as a subprocess (wall time, start-up included; its output is checked to be exactly
  the library's);
* a naive loop: the teams in investigation, then one query per team for its check-in weeks, then
  the same pure ``workflow.rules.coaching.coaching()``; its result is checked to equal the set-based one
  (same teams, same missing weeks, same weeks recorded as missed), and both against the gaps the
  generator drew. It prints the ratio naive / set-based.

It prints one table and exits 0 (the target is reported, not enforced).
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlmodel import select

from common import (  # benchmarks/common.py, shared with engine.py; it puts the checkout on sys.path
    Rows,
    SqlTrace,
    arg_parser,
    build_store,
    fmt_s,
    investigation_timeline,
    print_footer,
    print_table,
    scratch,
    time_cli,
    timed_build,
)

from workflow.api import Workflow  # noqa: E402  (after common: it makes the checkout importable)

from workflow.clock import FixedClock, PARIS
from workflow.clock import paris  # noqa: E402
from workflow.rules.coaching import coaching, iso_week  # noqa: E402
from workflow.store.models import CheckIn, Team  # noqa: E402
from workflow.records import plain  # noqa: E402

CLOCK = datetime(2021, 1, 6, 10, 0, tzinfo=PARIS)  # a Wednesday, in 2021-W01
NOW_ARG = "2021-01-06T10:00"
ACTOR = "coord@example.org"  # the stores' first coordinator: reads every team
TARGET_S = 1.0
SKIP, MISSED, DOUBLE, THIS_WEEK = 0.10, 0.04, 0.06, 0.40  # chances per team and week (see the docstring)
REASONS = ("Coach en congés.", "Intrapreneur en arrêt maladie.", "Séminaire de direction.", "Jour férié.")

# What the generator drew: team name -> (weeks with nothing held, weeks recorded as missed), in order.
Truth = dict[str, tuple[list[str], list[str]]]


def selected_at(weeks: int) -> datetime:
    """Monday 09:00, ``weeks`` weeks before the Monday of the clock's week."""
    monday = CLOCK.date() - timedelta(days=CLOCK.weekday(), weeks=weeks)
    return datetime.combine(monday, clock_time(9, 0), tzinfo=PARIS)


def checkin_rows(weeks: int, seed: int, truth: Truth) -> Callable:
    """The ``extra`` of build_store: every team's check-ins, drawn at random; fills ``truth``."""
    start = selected_at(weeks)
    today = CLOCK.date()

    def at(day: date) -> datetime:
        return datetime.combine(day, clock_time(17, 30), tzinfo=PARIS)

    def extra(teams: Rows, coach_of: Callable[[int], int]):
        rng = random.Random(seed)
        rows: Rows = []
        for t in teams:
            assert t["phase"] == "investigation" and t["phase_since"] == start
            author = coach_of(t["id"])
            gaps, missed = [], []

            def held(day: date, k: int) -> None:
                rows.append(dict(team_id=t["id"], author_id=author, on=day, week=iso_week(day),
                                 notes=f"Point n°{k}: entretiens usagers, prototype, prochaines étapes.",
                                 blockers="Accès aux données." if rng.random() < 0.2 else None,
                                 next_steps="Tester avec cinq agents.", hours=rng.choice((2, 3.5, 4, 6, 7, 8)),
                                 mood=rng.randint(2, 5), missed=False, reason=None,
                                 created_at=at(day), updated_at=at(day)))

            monday, k = start.date(), 0
            while monday <= today:
                week, k = iso_week(monday), k + 1
                if monday + timedelta(days=7) > today:  # the week in progress: not missed yet
                    if rng.random() < THIS_WEEK:
                        held(monday + timedelta(days=rng.randint(0, max(0, (today - monday).days - 1))), k)
                else:
                    r = rng.random()
                    if r < SKIP:
                        gaps.append(week)
                    elif r < SKIP + MISSED:
                        day = monday + timedelta(days=rng.randint(0, 4))
                        rows.append(dict(team_id=t["id"], author_id=author, on=day, week=week, notes=None,
                                         blockers=None, next_steps=None, hours=None, mood=None, missed=True,
                                         reason=rng.choice(REASONS), created_at=at(day), updated_at=at(day)))
                        gaps.append(week)
                        missed.append(week)
                    else:
                        days = rng.sample(range(5), 2 if rng.random() < DOUBLE else 1)
                        for d in sorted(days):
                            held(monday + timedelta(days=d), k)
                monday += timedelta(days=7)
            if gaps:
                truth[t["name"]] = (gaps, missed)
        return [(CheckIn, rows)]

    return extra


def build(path: Path, n: int, weeks: int, seed: int) -> Truth:
    truth: Truth = {}
    build_store(path, n, now=CLOCK, actor=ACTOR, phase_of=lambda i: "investigation",
                timeline=investigation_timeline(selected_at(weeks)), extra=checkin_rows(weeks, seed, truth))
    return truth


# ---- the two ways ----------------------------------------------------------------------------

def open_store(path: Path) -> Workflow:
    return Workflow.open(str(path), clock=FixedClock(CLOCK), actor=ACTOR)


def set_based(wf: Workflow) -> Truth:
    return {r.team: (list(r.weeks_missing), list(r.missed_recorded)) for r in wf.checkins.gaps()}


def naive(wf: Workflow) -> Truth:
    """One query for the teams, then one query per team for its check-in weeks; the same coaching()."""
    today = wf.clock.today()
    out: Truth = {}
    with wf.store.read() as s:
        teams = s.execute(select(Team.id, Team.name, Team.phase_since).where(Team.phase == "investigation")).all()
        for tid, name, since in teams:
            weeks = s.execute(select(CheckIn.week, CheckIn.missed).where(CheckIn.team_id == tid)).all()
            c = coaching(paris(since).date(), None, today, {w for w, m in weeks if not m})
            if c.missing:
                excused = {w for w, m in weeks if m}
                out[name] = (c.missing, [w for w in c.missing if w in excused])
    return out


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        result = None  # the previous run's result is not kept alive during this one
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def measure(path: Path, n: int, truth: Truth, repeat: int) -> dict:
    r: dict = {}
    wf = open_store(path)  # fresh: the first call also looks up who is acting
    try:
        with SqlTrace(wf.store.engine) as trace:
            t0 = time.perf_counter()
            rows = wf.checkins.gaps()
            r["first"] = time.perf_counter() - t0
        r["statements"], r["scans"] = len(trace.statements), trace.scans()
        r["gaps"], fast = median_time(lambda: set_based(wf), repeat)
        assert fast == truth, f"gaps() at {n:,} teams differs from the gaps drawn"
        r["naive"], slow = median_time(lambda: naive(wf), repeat)
        with SqlTrace(wf.store.engine) as trace:
            naive(wf)
        r["naive_statements"] = len(trace.statements)
        r["equal"] = slow == fast
        assert r["equal"], f"the naive loop and gaps() disagree at {n:,} teams"
        with wf.store.read() as s:
            r["checkins"] = len(s.execute(select(CheckIn.id)).all())
    finally:
        wf.close()
    r["teams_with_gaps"] = len(rows)
    r["missing_weeks"] = sum(len(x.weeks_missing) for x in rows)
    expected = json.loads(json.dumps(plain(rows), ensure_ascii=False))

    def check(out):  # the CLI prints exactly what the library returns
        assert out == expected, "preincub checkin gaps --json differs from Workflow.checkins.gaps()"

    r["cli"] = time_cli(["--db", str(path), "--now", NOW_ARG, "--as", ACTOR, "checkin", "gaps", "--json"],
                        ACTOR, repeat, check)
    return r


# ---- the table -----------------------------------------------------------------------------

def report(sizes: list[int], r: dict, weeks: int, total_runtime: float) -> None:
    big = sizes[-1]
    head = ["measure"] + [f"{n:,} teams" for n in sizes] + ["target", "met"]
    rows: list[list[str]] = []

    def row(label, values, target="", met=""):
        rows.append([label] + values + [target, met])

    row("build store (migrations + bulk insert)", [fmt_s(r[n]["build"]) for n in sizes])
    row("  check-in rows", [f"{r[n]['checkins']:,}" for n in sizes])
    row("  teams with gaps / weeks missing", [f"{r[n]['teams_with_gaps']:,} / {r[n]['missing_weeks']:,}"
                                               for n in sizes])
    row(f"gaps(), library, median of {r['repeat']}", [fmt_s(r[n]["gaps"]) for n in sizes],
        f"< {TARGET_S:g} s at {big:,}", "yes" if r[big]["gaps"] < TARGET_S else "NO")
    row("  first call, freshly opened Workflow", [fmt_s(r[n]["first"]) for n in sizes])
    row("  SQL statements (first call)", [str(r[n]["statements"]) for n in sizes], "same at every size",
        "yes" if len({r[n]["statements"] for n in sizes}) == 1 else "NO")
    row("  full-table scans in their plans", [str(len(r[n]["scans"])) for n in sizes])
    row("checkin gaps --json, CLI subprocess (wall)", [fmt_s(r[n]["cli"]) for n in sizes])
    row("  CLI start-up alone (preincub --help)", [fmt_s(r["startup"])] * len(sizes))
    row(f"naive per-team loop, median of {r['repeat']}", [fmt_s(r[n]["naive"]) for n in sizes])
    row("  SQL statements", [f"{r[n]['naive_statements']:,}" for n in sizes])
    row("  same result as gaps()", ["yes" if r[n]["equal"] else "NO" for n in sizes], "yes",
        "yes" if all(r[n]["equal"] for n in sizes) else "NO")
    row("naive / gaps()", [f"x{r[n]['naive'] / r[n]['gaps']:.1f}" for n in sizes])
    print_table(head, rows)
    print_footer({n: r[n]["scans"] for n in sizes}, CLOCK, total_runtime,
                 f"every team selected {selected_at(weeks).isoformat()} ({weeks} weeks before); ")


def main(argv: list[str] | None = None) -> int:
    ap = arg_parser(__doc__, teams_help="teams in investigation in the big store", repeat=5, seed=20210106,
                    seed_help="seed of the random gaps")
    ap.add_argument("--weeks", type=int, default=26, help="weeks of investigation before the clock")
    ap.add_argument("--small", type=int, default=1000, help="teams in the small store (statement count)")
    args = ap.parse_args(argv)
    if not 1 <= args.weeks <= 104:
        ap.error("--weeks must be between 1 and 104")
    if args.small < 1 or args.teams <= args.small:
        ap.error("give --teams larger than --small (the statement count compares them)")
    sizes = [args.small, args.teams]

    started = time.perf_counter()
    r: dict = {"repeat": args.repeat, "startup": time_cli(["--help"], ACTOR, args.repeat)}
    with scratch(args.keep) as workdir:
        for n in sizes:
            path = workdir / f"checkins-{n}.db"
            built, truth = timed_build(path, n, lambda: build(path, n, args.weeks, args.seed))
            r[n] = measure(path, n, truth, args.repeat) | {"build": built}
            print(f"measured at {n:,}", file=sys.stderr)
        report(sizes, r, args.weeks, time.perf_counter() - started)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
