"""The labelled lines of a reply to the reminder (workflow/rules/replies.py): French and English labels
however typed; the rest is the notes; the result is exactly a CheckInText."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from workflow.rules.replies import LABELS, SHOWN, fields, fold
from workflow.services.links import CheckInText

NONE = {"on": None, "notes": None, "blockers": None, "next_steps": None, "hours": None, "mood": None,
        "missed": False, "reason": None}


def got(text: str, **expected):
    return fields(text) == {**NONE, **expected}


def test_the_fields_are_a_checkin_texts():
    assert set(fields("")) == {f.name for f in dataclasses.fields(CheckInText)}
    CheckInText(**fields("Heures : 6\nHumeur : 4\nNon tenu : malade\n\nnotes"))


def test_hours_then_a_paragraph():
    assert got("Heures : 6\n\nNous avons rencontré la DGFiP : tout va bien.", hours="6",
               notes="Nous avons rencontré la DGFiP : tout va bien.")


@pytest.mark.parametrize("line", [
    "Heures : 6", "heures: 6", "HEURES:6", "Heures\u00a0: 6", "Heures\u202f:\u00a06", "Temps : 6", "Hours: 6",
    "Time : 6", "- Heures : 6", "* Heures : 6", "• Heures : 6", "**Heures** : 6", "**Heures :** 6",
    "**Heures : 6**", "__Hours__: 6", "  - **Hours**: 6", "Heures : 6h", "Heures : 6 h", "Heures : 6 heures",
    "Hours: 6 hours", "Heures : 6 heure", "Hours : 6hrs",
])
def test_hours_however_typed(line):
    assert got(line, hours="6")


@pytest.mark.parametrize(("typed", "hours"), [
    ("6,5", "6,5"), ("6.5", "6.5"), ("6,5 hours", "6,5"), ("6.5h", "6.5"), ("0", "0"),
    ("six", "six"), ("6h30", "6h30"), ("6 à 7", "6 à 7"), ("", None), ("…", None),
])
def test_hours_keep_the_number_as_typed(typed, hours):
    assert fields(f"Heures : {typed}")["hours"] == hours


@pytest.mark.parametrize(("typed", "mood"), [
    ("4", "4"), ("4/5", "4"), ("4 / 5", "4"), ("4 (de 1 à 5)", "4"), ("4 (1 to 5)", "4"), ("bien", "bien"),
    ("4/10", "4/10"),
])
def test_mood(typed, mood):
    assert fields(f"Humeur : {typed}")["mood"] == mood
    assert fields(f"Mood: {typed}")["mood"] == mood


@pytest.mark.parametrize(("typed", "on"), [
    ("2020-11-26", "2020-11-26"), ("26/11/2020", "2020-11-26"), ("6/1/2021", "2021-01-06"),
    ("jeudi", "jeudi"), ("26.11.2020", "26.11.2020"),
])
def test_the_day(typed, on):
    assert fields(f"Date : {typed}")["on"] == on
    assert fields(f"Jour : {typed}")["on"] == fields(f"Day: {typed}")["on"] == on


def test_accents_are_optional_and_every_label_reads():
    assert got("prochaines etapes : démo\nETAPES SUIVANTES : test", next_steps="démo\ntest")
    assert got("Annule : grève", missed=True, reason="grève")
    for field, labels in LABELS.items():
        for label in labels:
            value = "2020-11-26" if field == "on" else "4"
            result = fields(f"{fold(label).upper()} : {value}")
            key = "reason" if field == "missed" else field
            assert result[key] == value, label


def test_shown_labels_are_accepted_labels():
    for language in ("fr", "en"):
        assert set(SHOWN[language]) == set(LABELS)
        for field, label in SHOWN[language].items():
            assert label in LABELS[field]
    assert SHOWN["fr"]["hours"] == "Heures" and SHOWN["en"]["next_steps"] == "Next steps"


def test_text_fields_go_on_until_a_blank_line_or_a_label():
    text = ("Blocages : l'accès aux données\n  fiscales tarde\nProchaines étapes : démo\nHeures : 3\n"
            "Notes : une réunion\nutile\n\nUn paragraphe.\nSur deux lignes.\n\nUn autre.")
    assert got(text, blockers="l'accès aux données\nfiscales tarde", next_steps="démo", hours="3",
               notes="une réunion\nutile\n\nUn paragraphe.\nSur deux lignes.\n\nUn autre.")


def test_single_line_fields_do_not_go_on():
    assert got("Heures : 6\nNous avons avancé.", hours="6", notes="Nous avons avancé.")
    assert got("Humeur : 4\n6 heures de travail", mood="4", notes="6 heures de travail")


def test_a_label_twice():
    assert got("Heures : 6\nHeures : 7", hours="7")
    assert got("Heures : 6\nHeures :", hours="6")  # an empty one changes nothing
    assert got("Blocages : a\nBlocages : b\n\nNotes : x\n\nNotes : y", blockers="a\nb", notes="x\ny")


def test_unknown_labels_are_notes():
    assert got("Objet : la démo\nRemarque : bla\nHeure du point : 10h", notes="Objet : la démo\nRemarque : bla\n"
                                                                          "Heure du point : 10h")
    assert got("Nous avons parlé des heures : 6 au total.", notes="Nous avons parlé des heures : 6 au total.")


def test_missed_week():
    assert got("Non tenu : l'équipe était en congés\ntoute la semaine", missed=True,
               reason="l'équipe était en congés\ntoute la semaine")
    assert got("Not held:", missed=True)
    assert got("Missed: sick", missed=True, reason="sick")


def test_the_reminders_lines_copied_unfilled_are_empty():
    text = "Heures : 6\nBlocages : …\nProchaines étapes : ...\nHumeur : 4 (de 1 à 5)\n\nLe point."
    assert got(text, hours="6", mood="4", notes="Le point.")


def test_blank_lines_and_line_ends():
    assert got("\r\n\r\n  \r\nHeures : 6\r\n\r\n\r\n\r\nUn.\r\n\r\n\r\nDeux.\r\n\r\n", hours="6", notes="Un.\n\nDeux.")
    assert got("", )
    assert got("\n \n\t\n")
    assert got("Para.\n\nHeures : 6\n\nSuite.", hours="6", notes="Para.\n\nSuite.")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_fields_never_raise(text):
    result = fields(text)
    assert set(result) == set(NONE) and isinstance(result["missed"], bool)
    for key, value in result.items():
        if key != "missed":
            assert value is None or (isinstance(value, str) and value == value.strip() and value)
    CheckInText(**result)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted({label for labels in LABELS.values() for label in labels})),
       st.sampled_from(["", " ", "\u00a0", "\u202f"]), st.sampled_from(["", "- ", "* ", "• "]),
       st.booleans(), st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30))
def test_any_label_however_spaced(label, space, bullet, bold, value):
    value = value.strip()
    assume(not value.startswith("*"))  # "**Heures :** 6": a "**" after the colon closes the label's bold
    shown = f"**{label}**" if bold else label
    line = f"{bullet}{shown}{space}: {value}"
    result = fields(line)
    field = next(f for f, labels in LABELS.items() if label in labels)
    key = {"missed": "reason"}.get(field, field)
    assert all(v is None for k, v in result.items() if k not in (key, "missed"))  # never notes
    assert result["missed"] == (field == "missed")
    if value.strip(".… \u00a0\u202f\u2007\t"):
        assert result[key] is not None
        if field in ("blockers", "next_steps", "notes", "missed"):
            assert result[key] == value.strip(" \t\u00a0\u202f\u2007")
