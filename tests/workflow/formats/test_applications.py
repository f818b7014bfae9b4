"""Rows of a sheet read into frozen applications: the columns found by their headers, people and days
as typed, every bad row reported."""

from __future__ import annotations

import dataclasses

import pytest

from tests.workflow.formats.conftest import sheet
from workflow.errors import Invalid
from workflow.formats.applications import Application, applications, columns
from workflow.formats.sheets import key


def test_rows_become_frozen_records():
    sh = sheet(["Équipe", "Nord", "Un problème\r\nsur deux lignes", "Anne Roy <ANNE@x.example>, b@x.example",
                "2,5", "Coach Un <coach@example.org>", ""])
    apps, problems = applications(sh, columns(sh))
    assert problems == []
    (a,) = apps
    assert isinstance(a, Application) and a.line == 2 and a.problem == "Un problème\nsur deux lignes"
    assert [(p.name, p.email) for p in a.intrapreneurs] == [("Anne Roy", "anne@x.example"), (None, "b@x.example")]
    assert a.days_per_week == 2.5 and a.coach.email == "coach@example.org" and a.sponsor is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.team = "x"


def test_headers_compared_without_accents_case_or_punctuation():
    assert key("  Collectivité ") == key("collectivite") == key("COLLECTIVITÉ")
    assert key("E-mail") == key("email")
    sh = sheet(header=("Equipe", "PARTNER", "Jours/semaine"))
    assert columns(sh) == {"team": 0, "partner": 1, "days_per_week": 2}


def test_each_bad_cell_is_one_problem_naming_its_line_and_header():
    sh = sheet(["Alpha", "Nord", "", "Anne <pas un e-mail>", "douze", "", ""],
               ["Beta", "Nord", "", "b@x.example", "9", "", ""],
               ["Gamma", "Nord", "", "c@x.example", "1", "", ""])
    apps, problems = applications(sh, columns(sh))
    assert [a.team for a in apps] == ["Gamma"]
    assert [(p.line, p.column, p.code) for p in problems] == [
        (2, "intrapreneur", "invalid"), (2, "jours par semaine", "not_a_number"), (3, "jours par semaine", "invalid")]
    assert problems[1].text("en").startswith("line 2, column ")


def test_columns_missing_duplicated_or_mapped_to_nothing_are_refused():
    with pytest.raises(Invalid) as e:
        columns(sheet(header=("problème",)))
    assert e.value.code == "missing_columns"
    with pytest.raises(Invalid) as e:
        columns(sheet(header=("équipe", "team", "collectivité")))
    assert e.value.code == "duplicate_column"
    with pytest.raises(Invalid) as e:
        columns(sheet(header=("Nom", "Territoire")), {"Nom": "couleur"})
    assert e.value.code == "unknown_column"
    assert columns(sheet(header=("Nom", "Territoire")), {"Nom": "team", "Territoire": "partner"}) == {
        "team": 0, "partner": 1}
