"""Store fixtures: a store holding one programme and one team in investigation, for the named queries."""

from __future__ import annotations

import pytest

from tests.conftest import paris, ready_team, seed
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.store import people as people_rows

TEAM = "Insertion RSA"
PROG = "Pré-incubation 2020"


@pytest.fixture
def world(wf: Workflow) -> Workflow:
    """The seeded programme with TEAM selected on Monday 6 July 2020 (in investigation, coached by
    coach@example.org, agent0 its intrapreneur), as of that moment."""
    seed(wf)
    ready_team(wf, TEAM)
    w = wf.at(FixedClock(paris(2020, 7, 6, 9, 0)))
    w.transitions.advance(TEAM, "select")
    return w


def team_id(w: Workflow, name: str = TEAM) -> int:
    with w.store.read() as s:
        return people_rows.team_by_name(s, name).id


def person_id(w: Workflow, email: str) -> int:
    with w.store.read() as s:
        return people_rows.person_by_email(s, email).id


def programme_id(w: Workflow, name: str = PROG) -> int:
    with w.store.read() as s:
        return people_rows.programme_by_name(s, name).id
