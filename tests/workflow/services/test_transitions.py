"""Firing triggers on stored teams: one transaction, compare-and-swap, guards from the database."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

import pytest
import sqlalchemy as sa

from tests.conftest import COORD, paris, ready_team, seed
from workflow.clock import FixedClock
from tests.workflow.services import scopes
from tests.workflow.services.scopes import A, A2, B, B1
from workflow.errors import ChangedMeanwhile, Forbidden, Invalid, NotFound, Refused
from workflow.api import Workflow
from workflow.context import Context
from workflow.services.transitions import Transitions
from workflow.store.models import Event, PhasePeriod, Team


def rows(w: Workflow, sql: str) -> list[tuple]:
    with w.store.read() as s:
        return [tuple(r) for r in s.execute(sa.text(sql))]


def snapshot(w: Workflow) -> dict:
    return {t: rows(w, f"SELECT * FROM {t} ORDER BY 1") for t in
            ("team", "phase_period", "event", "team_member", "assessment", "agreement", "programme", "person")}


def test_a_transition_writes_phase_history_and_event(wf):
    seed(wf)
    ready_team(wf, "Insertion RSA")
    wf = wf.at(FixedClock(paris(2020, 7, 6, 9, 0)))
    ev = wf.transitions.advance("Insertion RSA", "select")
    assert (ev.trigger, ev.from_, ev.to, ev.actor, ev.forced) == \
        ("select", "selection", "investigation", COORD, False)
    assert ev.at == "2020-07-06T09:00:00+02:00"
    t = wf.teams.show("Insertion RSA")
    assert (t.phase, t.phase_since) == ("investigation", "2020-07-06T09:00:00+02:00")
    assert [(p.phase, p.start, p.end) for p in t.phases] == [
        ("call_for_projects", "2020-07-01T10:00:00+02:00", "2020-07-01T10:00:00+02:00"),
        ("selection", "2020-07-01T10:00:00+02:00", "2020-07-06T09:00:00+02:00"),
        ("investigation", "2020-07-06T09:00:00+02:00", None),
    ]
    moves = [(h.trigger, h.from_, h.to) for h in wf.transitions.history("Insertion RSA") if h.action == "advance"]
    assert moves == [("submit", "call_for_projects", "selection"), ("select", "selection", "investigation")]


def test_the_whole_way_to_incubation(wf):
    seed(wf)
    ready_team(wf, "T")
    wf.transitions.advance("T", "select")
    with pytest.raises(Refused) as exc:
        wf.transitions.advance("T", "present")
    assert [u.code for u in exc.value.reasons] == ["poc", "committee_date"]
    wf.teams.poc("T", "Un prototype testé.", "https://example.org/poc")
    wf.teams.committee("T", on=date(2020, 12, 24))
    with pytest.raises(Refused, match="after the deadline December 23, 2020"):
        wf.transitions.advance("T", "present")
    wf.teams.committee("T", on=date(2020, 12, 10))
    wf.transitions.advance("T", "present")
    with pytest.raises(Refused, match="opinion"):
        wf.transitions.advance("T", "hear")
    wf.teams.committee("T", opinion="Impact prometteur.")
    wf.transitions.advance("T", "hear")
    with pytest.raises(Refused, match="reason"):
        wf.transitions.advance("T", "incubate")
    wf.transitions.advance("T", "incubate", reason="Convention signée.")
    t = wf.teams.show("T")
    assert t.phase == "incubated" and t.days_left is None
    with pytest.raises(Invalid, match="final"):
        wf.transitions.advance("T", "abandon", reason="x")
    with pytest.raises(Invalid, match="cannot edit"):
        wf.teams.edit("T", problem="autre")


def test_refusal_names_every_unmet_condition_and_writes_nothing(wf):
    seed(wf)
    wf.teams.add("T", "Pré-incubation 2020", "Pas-de-Calais", problem="p", intrapreneurs=["agent0@example.org"])
    wf.transitions.advance("T", "submit")
    before = snapshot(wf)
    with pytest.raises(Refused) as exc:
        wf.transitions.advance("T", "select")
    assert [u.code for u in exc.value.reasons] == [
        "criterion_real", "criterion_major", "criterion_actionable", "agreement_partner", "agreement_operator",
        "coach", "time"]
    assert snapshot(wf) == before


def test_force_needs_a_reason_and_is_recorded(wf):
    seed(wf)
    wf.teams.add("T", "Pré-incubation 2020", "Pas-de-Calais", problem="p", intrapreneurs=["agent0@example.org"])
    wf.transitions.advance("T", "submit")
    with pytest.raises(Invalid, match="forcing a move needs a reason"):
        wf.transitions.advance("T", "select", force=True)
    ev = wf.transitions.advance("T", "select", force=True, reason="Accord oral des deux parties.")
    assert ev.forced is True and ev.reason == "Accord oral des deux parties."
    assert "no coach" in ev.data["overridden"]  # the audit names no command: the CLI adds hints
    # Forcing never makes a move outside the table.
    with pytest.raises(Invalid, match="possible: present, abandon"):
        wf.transitions.advance("T", "incubate", force=True, reason="x")
    # A --force whose guards were all met is not an override.
    wf.teams.poc("T", "s")
    wf.teams.committee("T", on=date(2020, 12, 1))
    assert wf.transitions.advance("T", "present", force=True, reason="r").forced is False


def test_capacity_counts_selected_teams_not_dropped_ones(wf):
    seed(wf, capacity=2)
    for i, name in enumerate(("A", "B", "C")):
        ready_team(wf, name, i)
    wf.transitions.advance("A", "select")
    wf.transitions.advance("B", "select")
    with pytest.raises(Refused, match="programme full: 2 of 2"):
        wf.transitions.advance("C", "select")
    wf.transitions.advance("B", "abandon", reason="Mutation.")
    wf.transitions.advance("C", "select")
    assert wf.directory.programme("Pré-incubation 2020").places_taken == 2


def test_deadline_and_time_commitment_come_from_the_programme(wf):
    seed(wf, kind="fast")
    ready_team(wf, "Trait d'union", days=2)
    with pytest.raises(Refused) as exc:
        wf.transitions.advance("Trait d'union", "select")
    assert [u.code for u in exc.value.reasons] == ["sponsor", "time"]
    wf.teams.edit("Trait d'union", sponsor="sponsor@example.org", days_per_week=2.5)
    wf = wf.at(FixedClock(paris(2020, 12, 24, 9, 0)))
    with pytest.raises(Refused, match="past its deadline"):
        wf.transitions.advance("Trait d'union", "select")
    wf = wf.at(FixedClock(paris(2020, 12, 23, 23, 59)))
    assert wf.transitions.advance("Trait d'union", "select").to == "investigation"


def test_a_failure_midway_leaves_nothing_half_done(wf, monkeypatch):
    seed(wf)
    ready_team(wf, "T")
    before = snapshot(wf)

    def crash(*a, **k):
        raise RuntimeError("power cut")

    monkeypatch.setattr(Context, "log", crash)  # the event: after the phase update and the periods, before commit
    with pytest.raises(RuntimeError):
        wf.transitions.advance("T", "select")
    monkeypatch.undo()
    assert snapshot(wf) == before
    assert wf.transitions.advance("T", "select").to == "investigation"


def test_compare_and_swap_refuses_a_stale_version(wf, monkeypatch):
    seed(wf)
    ready_team(wf, "T")
    real_read = Transitions.read  # advance's read, before its writes (on PostgreSQL in their transaction)

    def read_then_someone_else(self, *args, **kwargs):
        # Another coordinator edits the team between our read and our write.
        monkeypatch.setattr(Transitions, "read", real_read)
        got = real_read(self, *args, **kwargs)
        other = Workflow(wf.store, wf.clock, COORD)
        other.teams.edit("T", problem="Énoncé corrigé.")
        return got

    monkeypatch.setattr(Transitions, "read", read_then_someone_else)
    before_version = wf.teams.show("T").version
    with pytest.raises(ChangedMeanwhile, match="changed meanwhile, retry"):
        wf.transitions.advance("T", "select")
    t = wf.teams.show("T")
    assert t.phase == "selection" and t.version == before_version + 1
    assert wf.transitions.advance("T", "select").to == "investigation"


def test_every_change_is_audited_with_its_actor(wf):
    seed(wf)
    ready_team(wf, "T")
    actions = [(h.action, h.actor) for h in wf.transitions.history("T")]
    assert actions == [("team.add", COORD), ("advance", COORD), ("assess", COORD), ("agree", COORD),
                       ("agree", COORD)]
    with pytest.raises(Invalid, match="already agreed"):
        wf.teams.agree("T", "partner")


def test_lookups_and_duplicates(wf):
    seed(wf)
    wf.teams.add("Équipe à l'essai", "Pré-incubation 2020", "Pas-de-Calais")
    with pytest.raises(NotFound, match="unknown team"):
        wf.teams.show("Nope")
    with pytest.raises(NotFound, match="unknown programme"):
        wf.teams.add("X", "Nope", "Pas-de-Calais")
    with pytest.raises(NotFound, match="unknown partner"):
        wf.teams.add("X", "Pré-incubation 2020", "Nord")
    with pytest.raises(NotFound, match="unknown person"):
        wf.teams.add("X", "Pré-incubation 2020", "Pas-de-Calais", coach="who@example.org")
    with pytest.raises(Invalid, match="does not have the role coach"):
        wf.teams.add("X", "Pré-incubation 2020", "Pas-de-Calais", coach="agent1@example.org")
    with pytest.raises(Invalid, match="already exists"):
        wf.teams.add(" Équipe à l'essai ", "Pré-incubation 2020", "Pas-de-Calais")
    with pytest.raises(Invalid, match="already exists"):
        wf.directory.add_person("Autre", "AGENT1@example.org", ["coach"])
    with pytest.raises(Invalid, match="the capacity must be between 1 and 1,000"):
        wf.directory.add_programme("Q", date(2021, 1, 1), capacity=0)
    with pytest.raises(Invalid, match="between 0.5 and 5"):
        wf.teams.add("X", "Pré-incubation 2020", "Pas-de-Calais", intrapreneurs=["agent1@example.org"],
                    days_per_week=7)
    assert [t.name for t in wf.teams.status()] == ["Équipe à l'essai"]


def test_status_is_one_row_per_team_with_deadline(wf):
    seed(wf)
    ready_team(wf, "B")
    wf.teams.add("A", "Pré-incubation 2020", "Pas-de-Calais")
    wf = wf.at(FixedClock(paris(2020, 11, 16, 12, 0)))
    assert [asdict(r) for r in wf.teams.status()] == [
        {"name": "A", "programme": "Pré-incubation 2020", "partner": "Pas-de-Calais", "phase": "call_for_projects",
         "phase_since": "2020-07-01T10:00:00+02:00", "coach": None, "deadline": "2020-12-23", "days_left": 37,
         "last_checkin": None, "weeks_missing": None, "drifting": False},
        {"name": "B", "programme": "Pré-incubation 2020", "partner": "Pas-de-Calais", "phase": "selection",
         "phase_since": "2020-07-01T10:00:00+02:00", "coach": "coach@example.org", "deadline": "2020-12-23",
         "days_left": 37, "last_checkin": None, "weeks_missing": None, "drifting": False},
    ]
    assert [t.name for t in wf.teams.status(phase="selection")] == ["B"]


def test_the_stored_times_are_utc(wf):
    seed(wf)
    wf.teams.add("T", "Pré-incubation 2020", "Pas-de-Calais")
    with wf.store.read() as s:
        since = s.get(Team, 1).phase_since
        ev = s.execute(sa.select(Event.at)).scalars().first()
        start = s.execute(sa.select(PhasePeriod.start)).scalar()
    assert since.utcoffset().total_seconds() == 0 and since.hour == 8  # 10:00 in Paris in summer
    assert ev.hour == 8 and start.hour == 8


# ---- who moves and reads what: two programmes ---------------------------------------------------------


@pytest.fixture
def world(wf):
    return scopes.two_programmes(wf)


def test_a_coordinator_of_a_neither_moves_nor_reads_a_team_of_b(world):
    a = world.acting_as(scopes.COORD_A)
    b = world.acting_as(scopes.COORD_B)
    history = b.transitions.history(B1)
    for call in (lambda: a.transitions.advance(B1, "abandon", reason="pas à moi"),
                 lambda: a.transitions.advance(B1, "abandon", reason="forcé", force=True),
                 lambda: a.transitions.check(B1), lambda: a.transitions.history(B1)):
        with pytest.raises(Forbidden) as e:
            call()
        assert (e.value.code, e.value.params["programme"], e.value.params["team"]) == ("grant_needed", B, B1)
    assert b.teams.show(B1).phase == "investigation"
    assert b.transitions.history(B1) == history  # nothing written
    assert b.transitions.check(B1).team == B1
    assert a.transitions.advance(A2, "submit").to == "selection"


@pytest.mark.parametrize("who", [scopes.COMMITTEE_A, scopes.PARTNER_X])
def test_readers_of_a_read_the_history_but_move_nothing(world, who):
    w = world.acting_as(who)
    assert [e.action for e in w.transitions.history(A2)] == ["team.add"]
    with pytest.raises(Forbidden) as e:
        w.transitions.advance(A2, "submit")
    assert (e.value.code, e.value.params["programme"]) == ("grant_needed", A)
    assert world.teams.show(A2).phase == "call_for_projects"


def test_a_partner_reader_reads_no_other_partners_history(world):
    with pytest.raises(Forbidden) as e:
        world.acting_as(scopes.PARTNER_X).transitions.history("Equipe A1")
    # They read part of A (their body's teams): this team is not one of theirs.
    assert (e.value.code, e.value.params["team"]) == ("not_your_team", "Equipe A1")


def test_an_intrapreneur_reads_their_teams_history_only(world):
    w = world.acting_as(scopes.AGENT_B)
    assert w.transitions.history(B1)[-1].to == "investigation"
    with pytest.raises(Forbidden) as e:
        w.transitions.history(A2)
    assert e.value.code == "not_your_team"
    with pytest.raises(Forbidden):
        w.transitions.advance(B1, "abandon", reason="non")
