"""Which partner a form's département names: by INSEE code or by name, accents and case aside."""

from __future__ import annotations

import pytest

from workflow.rules.partners import (
    DEPARTEMENTS,
    insee,
    match_partner,
    split_departement,
)

PARTNERS = [("Somme", None), ("Pas-de-Calais", "62"), ("Collectivité de Corse", "2A"), ("Guadeloupe", "971"),
            ("Région Hauts-de-France", None)]


@pytest.mark.parametrize("value", ["80 - Somme", "Somme (80)", "somme", "SOMME", "80", "  80 – Somme ", "Somme [80]"])
def test_the_ways_a_form_writes_a_departement_all_name_it(value):
    assert match_partner(value, PARTNERS) == "Somme"


@pytest.mark.parametrize(("value", "partner"), [
    ("62", "Pas-de-Calais"), ("pas de calais", "Pas-de-Calais"), ("Pas-de-Calais (62)", "Pas-de-Calais"),
    ("2A", "Collectivité de Corse"), ("2a - Corse-du-Sud", "Collectivité de Corse"),  # the code wins over the name
    ("corse du sud", "Collectivité de Corse"), ("971 - Guadeloupe", "Guadeloupe"),
    ("région hauts de france", "Région Hauts-de-France"),
])
def test_by_code_or_by_name(value, partner):
    assert match_partner(value, PARTNERS) == partner


@pytest.mark.parametrize("value", ["", "  ", "59 - Nord", "Nord", "Bretagne", "2C", "9999"])
def test_none_matches(value):
    assert match_partner(value, PARTNERS) is None


def test_split_names_a_new_partner_as_the_insee_does():
    assert split_departement("2b - haute-corse") == ("2B", "Haute-Corse")
    assert split_departement("Bouches-du-Rhone (13)") == ("13", "Bouches-du-Rhône")
    assert split_departement("971") == ("971", "Guadeloupe")
    assert split_departement("Métropole de Lyon") == (None, "Métropole de Lyon")
    assert split_departement("Nord") == ("59", "Nord")
    assert insee("1") == "01" and insee(" 2a ") == "2A" and insee("") is None
    assert len(DEPARTEMENTS) == 101 and DEPARTEMENTS["976"] == "Mayotte"
