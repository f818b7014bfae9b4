"""Finding and replacing a person in free text: their e-mail and full name as typed or escaped, any case
and spacing, as whole words only; event data scrubbed but for the names it holds; what identifies them."""

from __future__ import annotations

import json

import pytest

from workflow.rules.scrub import Scrubber, identifies, pseudonym, scrubber

INES = {"id": 7, "name": "Inès Haddad", "email": "ines.haddad@example.org"}


@pytest.fixture
def sc() -> Scrubber:
    return scrubber(INES)


def test_the_pseudonym_keeps_only_the_id():
    assert pseudonym(7) == ("erased-7", "erased-7@erased.invalid")


@pytest.mark.parametrize("text", ["Vu avec Inès Haddad.", "vu avec INÈS   HADDAD", "Inès\nHaddad a dit",
                                  "écrire à ines.haddad@example.org.", "Ines.Haddad@Example.org",
                                  "<p>In&egrave;s</p> Inès Haddad", '{"who": "Inès Haddad"}'])
def test_found_as_typed_in_any_case_and_spacing(sc, text):
    assert sc.finds(text)


@pytest.mark.parametrize("text", ["Inès", "Haddad", "Inès Haddadi", "xines.haddad@example.org",
                                  "ines.haddad@example.org.fr", "Marie-Inès Haddad", None, ""])
def test_not_found_inside_something_longer_nor_by_one_name(sc, text):
    assert not sc.finds(text)


def test_text_replaces_name_and_email_and_leaves_the_rest(sc):
    assert sc.text("Inès Haddad (ines.haddad@example.org) absente.") == (
        "erased-7 (erased-7@erased.invalid) absente.")
    assert sc.text("Rien à voir.") == "Rien à voir."
    assert sc.text(None) is None


def test_a_one_word_name_is_found_only_through_the_email():
    one = Scrubber.of(3, "Cher", "cher@example.org")
    assert one.name is None and not one.finds("Cher ami") and one.finds("cher@example.org")


def test_event_data_keeps_the_names_of_programmes_partners_and_teams(sc):
    data = json.dumps({"team": "Inès Haddad", "note": "par Inès Haddad", "list": ["ines.haddad@example.org", 3]})
    assert json.loads(sc.json(data)) == {"team": "Inès Haddad", "note": "par erased-7",
                                         "list": ["erased-7@erased.invalid", 3]}
    untouched = '{"a": 1}'
    assert sc.json(untouched) is untouched
    assert sc.json("not json, Inès Haddad") == "not json, erased-7"
    assert sc.json(None) is None
    assert json.loads(sc.json(json.dumps({"note": "x"}), drop=lambda v: {**v, "note": "Inès Haddad"})) == {
        "note": "erased-7"}


def test_the_needles_match_any_case_through_like_on_both_databases(sc):
    assert "%ines.haddad@example.org%" in sc.needles
    assert "%In_s%Haddad%" in sc.needles  # a non-ASCII letter is any one character


def test_identifies_by_a_word_of_the_name_or_the_local_part():
    assert identifies(INES, "Haddad était là")
    assert identifies(INES, "signé ines.haddad")
    assert not identifies(INES, "Al était là")  # words under three letters are too common
    assert not identifies(INES, "Personne")
