"""Benchmark ``checkin gaps``: Workflow.checkins.gaps() against one raw SQL query returning the same gaps.

Run it as a script (never a test):

    python benchmarks/checkins.py [--teams 10000] [--weeks 26] [--repeat 5] [--keep] [--json FILE]

It builds a SQLite store of ``--teams`` teams in investigation (``benchmarks/common.py``: real
migrations, then bulk inserts). Each team was selected ``--weeks`` weeks before the clock (Wednesday
2021-01-06 10:00 Europe/Paris: the range crosses 2020-W53). Its coach logged about one check-in a week,
with gaps drawn at random per team and week: ~10 % of the weeks have nothing, ~4 % are recorded as
missed (with a reason), ~6 % have two check-ins; the week in progress has one for ~40 % of the teams.

It checks that ``gaps()`` finds exactly the gaps drawn, that the raw query (:data:`RAW_GAPS`: the
weeks made by a recursive CTE, their ISO labels computed in SQL, an anti-join on the check-ins held,
the team's programme, partner and coach) returns the same, and that ``preincub checkin gaps --json``
prints what the library returns. Then, alternating (A B A B): ``gaps()`` against the raw query on a
``sqlite3`` connection with the store's PRAGMAs (target ≤ 2 ×), and the CLI as a whole process (no
baseline). Targets are reported, not enforced; it exits 0.
"""


from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from sqlmodel import select

from common import (  # benchmarks/common.py, shared with engine.py; it puts the checkout on sys.path
    Comparison,
    Rows,
    SqlTrace,
    add_json_option,
    alternate,
    arg_parser,
    build_store,
    cli_command,
    cli_env,
    clocked,
    emit,
    investigation_timeline,
    run_process,
    scratch,
    sqlite_raw,
    time_cli,
    timed_build,
)

from workflow.api import Workflow  # noqa: E402  (after common: it makes the checkout importable)

from workflow.clock import FixedClock, PARIS
from workflow.rules.coaching import iso_week  # noqa: E402
from workflow.store.models import CheckIn  # noqa: E402
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


# The same gaps in ONE raw query: every Monday from the earliest start to the last full week (ISO week
# labels computed in SQL from each week's Thursday), each team in investigation from the week it
# started, the weeks with no check-in held, and whether one was recorded as missed; with each team's
# programme, partner and coach, as gaps() returns them.
RAW_GAPS = """WITH RECURSIVE mondays(monday) AS (
    SELECT date(min(phase_since), 'weekday 0', '-6 days') FROM team WHERE phase = 'investigation'
    UNION ALL SELECT date(monday, '+7 days') FROM mondays
    WHERE date(monday, '+7 days') <= date(:today, 'weekday 0', '-13 days')),
weeks(monday, week) AS (
    SELECT monday, strftime('%Y', date(monday, '+3 days')) || '-W'
                   || printf('%02d', (strftime('%j', date(monday, '+3 days')) - 1) / 7 + 1) FROM mondays)
SELECT t.name, p.name, pa.name,
       (SELECT min(pe.email) FROM team_member m JOIN person pe ON pe.id = m.person_id
        WHERE m.team_id = t.id AND m.role = 'coach'),
       w.week,
       EXISTS (SELECT 1 FROM checkin k WHERE k.team_id = t.id AND k.week = w.week AND k.missed = 1)
FROM team t JOIN programme p ON p.id = t.programme_id LEFT JOIN partner pa ON pa.id = t.partner_id
JOIN weeks w ON w.monday >= date(t.phase_since, 'weekday 0', '-6 days')
WHERE t.phase = 'investigation'
  AND NOT EXISTS (SELECT 1 FROM checkin k WHERE k.team_id = t.id AND k.week = w.week AND k.missed = 0)
ORDER BY t.id, w.monday"""


def raw_gaps(con, today: date) -> list[tuple]:
    con.execute("BEGIN")
    rows = con.execute(RAW_GAPS, {"today": today.isoformat()}).fetchall()
    con.execute("COMMIT")
    return rows


def as_truth(rows: list[tuple]) -> Truth:
    out: Truth = {}
    for name, _prog, _partner, _coach, week, excused in rows:
        gaps, missed = out.setdefault(name, ([], []))
        gaps.append(week)
        if excused:
            missed.append(week)
    return out


def measure(path: Path, n: int, truth: Truth, rounds: int) -> list[Comparison]:
    wf = open_store(path)
    con = sqlite_raw(path)
    try:
        with SqlTrace(wf.store.engine) as trace:
            rows = wf.checkins.gaps()
        statements = len(trace.statements)
        fast = set_based(wf)
        assert fast == truth, f"gaps() at {n:,} teams differs from the gaps drawn"
        raw = as_truth(raw_gaps(con, CLOCK.date()))
        assert raw == fast, f"the raw query and gaps() disagree at {n:,} teams"
        lib = alternate(clocked(wf.checkins.gaps), clocked(lambda: raw_gaps(con, CLOCK.date())), rounds, warmup=1)
        with wf.store.read() as s:
            checkins = len(s.execute(select(CheckIn.id)).all())
    finally:
        con.close()
        wf.close()
    expected = json.loads(json.dumps(plain(rows), ensure_ascii=False))

    def check(out):  # the CLI prints exactly what the library returns
        assert out == expected, "preincub checkin gaps --json differs from Workflow.checkins.gaps()"

    cmd = ["--db", str(path), "--now", NOW_ARG, "--as", ACTOR, "checkin", "gaps", "--json"]
    time_cli(cmd, ACTOR, 1, check)
    print(f"{n:,} teams, {checkins:,} check-ins, {len(rows):,} teams with gaps, "
          f"{sum(len(x.weeks_missing) for x in rows):,} weeks missing; gaps() issues {statements} SQL statements; "
          "the raw query returns the same gaps")
    cli = alternate(clocked(lambda: run_process([*cli_command(), *cmd], cli_env(ACTOR))), None, rounds)
    return [lib.named(f"check-in gaps, {n:,} teams", target=("<=", 2.0),
                      baseline="one raw SQL query returning the same gaps (store's PRAGMAs)"),
            cli.named(f"checkin gaps --json, {n:,} teams, whole process", note="no baseline")]


def main(argv: list[str] | None = None) -> int:
    ap = arg_parser(__doc__, teams_help="teams in investigation", repeat=5, seed=20210106,
                    seed_help="seed of the random gaps")
    ap.add_argument("--weeks", type=int, default=26, help="weeks of investigation before the clock")
    add_json_option(ap)
    args = ap.parse_args(argv)
    if not 1 <= args.weeks <= 104:
        ap.error("--weeks must be between 1 and 104")
    if args.teams < 1 or args.repeat < 1:
        ap.error("give --teams >= 1 and --repeat >= 1")
    with scratch(args.keep) as workdir:
        path = workdir / f"checkins-{args.teams}.db"
        _, truth = timed_build(path, args.teams, lambda: build(path, args.teams, args.weeks, args.seed))
        emit("checkins", measure(path, args.teams, truth, args.repeat), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
