"""The programmes' named queries on both stores: names taken, signatures, teams by phase, first acts."""

from __future__ import annotations

from datetime import date

from tests.conftest import ready_team
from tests.workflow.store.conftest import PROG, programme_id
from workflow.store import programmes


def test_names_taken_are_exact(world):
    pid = programme_id(world)
    with world.store.read() as s:
        assert programmes.name_taken(s, PROG)
        assert not programmes.name_taken(s, PROG.upper())
        assert programmes.partner_taken(s, pid, "Pas-de-Calais")
        assert not programmes.partner_taken(s, pid, "Nord")
        assert not programmes.partner_taken(s, pid + 1, "Pas-de-Calais")


def test_signatures_in_order_and_signed_on_a_day(world):
    world.directory.sign_programme(PROG, date(2020, 6, 30))
    pid = programme_id(world)
    with world.store.read() as s:
        assert programmes.signatures(s, pid) == [date(2020, 6, 23), date(2020, 6, 30)]
        assert programmes.signed(s, pid, date(2020, 6, 30))
        assert not programmes.signed(s, pid, date(2020, 6, 24))


def test_teams_by_phase_leaves_out_empty_phases(world):
    ready_team(world, "Dossiers MDPH", 1)
    world.teams.add("Transport", PROG, "Pas-de-Calais")
    with world.store.read() as s:
        assert programmes.teams_by_phase(s, programme_id(world)) == {
            "investigation": 1, "selection": 1, "call_for_projects": 1}


def test_every_programme_by_signature_then_name(world):
    world.directory.add_programme("Zèbre", date(2019, 1, 7))
    world.directory.add_programme("Abeille", date(2021, 3, 1))
    world.directory.add_programme("Aigle", date(2019, 1, 7))
    with world.store.read() as s:
        assert [p.name for p in programmes.every(s)] == ["Aigle", "Zèbre", PROG, "Abeille"]
        assert [p.name for p in programmes.partners(s, programme_id(world))] == ["Pas-de-Calais"]


def test_first_acts_are_none_until_something_is_done(world):
    pid = programme_id(world)
    with world.store.read() as s:
        assert programmes.first_acts(s, pid) == {"expense": None, "payment": None, "notice": None}
    world.funding.add_expense(PROG, "120.50", date(2020, 7, 3), "Salle")
    world.funding.add_expense(PROG, "10", date(2020, 7, 1), "Café")
    with world.store.read() as s:
        assert programmes.first_acts(s, pid) == {"expense": date(2020, 7, 1), "payment": None, "notice": None}
