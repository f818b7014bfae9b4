"""The check-in form on both stores (SQLite and, with PREINCUB_TEST_DATABASE_URL, PostgreSQL), and two
submissions racing on the same week: one check-in, never two."""

from __future__ import annotations

import threading
from datetime import datetime

from tests.conftest import ready_team, seed
from tests.web.helpers import CSRF, KEY, settings
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.clock import PARIS
from workflow.services.links import checkin_path, sign

COORD = "coord@example.org"
COACH = "coach@example.org"


def world(db_url: str) -> tuple[Workflow, str]:
    early = Workflow.open(db_url, clock=FixedClock(datetime(2020, 7, 1, 10, 0, tzinfo=PARIS)), actor=COORD,
                          create=True, settings=settings())
    seed(early)
    ready_team(early, "Équipe A")
    early.transitions.advance("Équipe A", "select")
    wf = early.at(FixedClock(datetime(2020, 7, 9, 18, 0, tzinfo=PARIS)))  # Thursday of 2020-W28
    with wf.store.read() as s:
        from sqlmodel import select

        from workflow.store.models import Person, Team

        pid = s.exec(select(Person.id).where(Person.email == COACH)).one()
        tid = s.exec(select(Team.id).where(Team.name == "Équipe A")).one()
    return wf, checkin_path(sign(KEY, wf.clock, "checkin", pid, 0, tid, "2020-W28"), tid, "2020-W28")


def test_submit_and_race_on_each_store(db_url):
    from web import create_app

    wf, url = world(db_url)
    try:
        app = create_app(wf, testing=True)
        clients = [app.test_client() for _ in range(6)]
        tokens = [CSRF.search(c.get(url).text).group(1) for c in clients]
        barrier = threading.Barrier(len(clients))
        statuses: list[int] = []

        def submit(i: int) -> None:
            barrier.wait()
            r = clients[i].post(url, data={"csrf_token": tokens[i], "notes": f"Point {i}", "hours": "5"})
            statuses.append(r.status_code)

        threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(clients))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert set(statuses) == {303}, statuses
        rows = wf.checkins(team="Équipe A", week="2020-W28")
        assert len(rows) == 1 and rows[0].author == COACH
    finally:
        wf.close()
