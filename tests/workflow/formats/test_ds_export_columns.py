"""A Démarches Simplifiées export's columns (issue 22, "Also"): picked by position (a number from 1 or a
spreadsheet letter) as well as by header; a repeated header ignored unless needed; a département cell
read as a partner without taking a code beside another name for a département."""

from __future__ import annotations

import pytest

from tests.workflow.formats.conftest import sheet
from workflow.errors import Invalid
from workflow.formats.applications import columns, position
from workflow.formats.intake import _partner_of

HEADER = ("ID", "Nom", "Prénom", "Email", "État du dossier", "Nom du projet", "Nom", "Département", "Problème")


def test_positions_by_number_or_letter():
    assert [position(v) for v in (1, "7", "G", "Z", "AA", "AZ", "XFD")] == [0, 6, 6, 25, 26, 51, 16383]
    assert position("Nom") is None and position("g") is None  # a header label, not a letter
    with pytest.raises(Invalid) as e:
        position(0)
    assert e.value.code == "bad_map"


def test_a_repeated_header_is_picked_by_position_or_ignored():
    sh = sheet(header=HEADER)
    cols = columns(sh, {"team": "F", "partner": 8, "intrapreneur_name": "B"})
    assert cols == {"team": 5, "partner": 7, "intrapreneur_name": 1, "intrapreneur_first_name": 2,
                    "intrapreneur_email": 3, "state": 4, "problem": 8}
    with pytest.raises(Invalid) as e:  # needed and not picked: which "Nom" is for the map to say
        columns(sh, {"team": "F", "partner": 8})
    assert e.value.code == "ambiguous_column" and e.value.params["letters"] == "B, G"
    # a repeated header nothing needs is no problem
    assert columns(sheet(header=("équipe", "collectivité", "Remarque", "Remarque")))["partner"] == 1


def test_the_map_s_header_form_is_unchanged():
    sh = sheet(header=("Nom du projet", "Territoire", "Problème"))
    assert columns(sh, {"Nom du projet": "team", "Territoire": "collectivité"}) == {"team": 0, "partner": 1,
                                                                                    "problem": 2}
    with pytest.raises(Invalid) as e:
        columns(sh, {"Nom du projet": "couleur"})
    assert e.value.code == "unknown_column"


@pytest.mark.parametrize(("cell", "found"), [
    ("80 - Somme", ("Somme", None)), ("Somme (80)", ("Somme", None)), ("somme", ("Somme", None)),
    ("80", ("Somme", None)), ("Département de la Somme", ("Département de la Somme", None)),
    ("62 - Pas-de-Calais", ("Pas-de-Calais", "62")), ("pas de calais", ("Pas-de-Calais", "62")),
    ("2A - Corse du Sud", ("Corse-du-Sud", "2A")),
    ("13 Habitat", ("13 Habitat", None)),  # a code beside another name: not the Bouches-du-Rhône
    ("Ville de Lille", ("Ville de Lille", None)), ("ville-de-lille", ("Ville de Lille", None)),
])
def test_a_partner_cell_matches_by_insee_code_or_name(cell, found):
    known = [("Somme", None), ("Bouches-du-Rhône", "13"), ("Ville de Lille", None)]
    assert _partner_of(cell, known) == found
