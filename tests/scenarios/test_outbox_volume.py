"""At 10,000 teams, one deadline tick writes outbox bytes in proportion to its recipients: each message
names only the teams its reader may read (step 11), so no message grows with the number of teams
(before, every intrapreneur's alert listed every team: ~3.2 GB of outbox at 10,000 teams)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from workflow.api import Workflow
from workflow.clock import PARIS, FixedClock
from workflow.store.models import Outbox

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))  # its store builder, as `common`
import common  # noqa: E402

TEAMS = 10_000
ACTOR = "coord@example.org"
# Seven days before the deadline of every programme (signed 23 June 2020: 23 December), at 10:00.
J_MINUS_7 = datetime(2020, 12, 16, 10, 0, tzinfo=PARIS)
PER_MESSAGE = 16 * 1024  # subject, text and HTML of one message, at most (its reader's teams: 100 at most here)


def test_a_deadline_tick_at_10000_teams_writes_bytes_in_proportion_to_its_recipients(tmp_path):
    db = tmp_path / "big.db"
    common.build_store(db, TEAMS, now=J_MINUS_7, actor=ACTOR, phase_of=lambda i: "selection")  # all undecided
    wf = Workflow.open(str(db), clock=FixedClock(J_MINUS_7), actor=ACTOR)
    try:
        assert wf.reminders.enqueue() > TEAMS  # an intrapreneur each, the coaches, the coordinator
        size = sa.func.length(Outbox.subject) + sa.func.length(Outbox.body_text) + sa.func.length(Outbox.body_html)
        with wf.store.read() as s:
            rows, recipients, total, largest = s.execute(
                sa.select(sa.func.count(), sa.func.count(sa.distinct(Outbox.recipient)), sa.func.sum(size),
                          sa.func.max(size)).where(Outbox.kind == "deadline")).one()
            intrapreneur = s.execute(sa.select(sa.func.max(size)).where(
                Outbox.kind == "deadline", Outbox.recipient.like("intra%"))).scalar_one()
    finally:
        wf.close()
    assert recipients > TEAMS and rows >= recipients
    assert largest <= PER_MESSAGE and total <= PER_MESSAGE * rows
    # Their own team only: ~1.3 KB (listing their programme's 100 teams, as before step 11, was ~4.5 KB).
    assert intrapreneur <= 2 * 1024
