"""The templates: every kind in both languages, hostile values escaped in the HTML, plural words, dates
written in the reader's language, French for an unknown language."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from notifications.render import render
from workflow.rules import due

CONTEXTS = {
    "coaching": {"team": 'É "q" !x', "programme": "P<b>", "last_checkin": "2020-10-01", "days_left": 1,
                 "week": "2020-W41", "checkin_url": "https://x.example/checkin/1"},
    "missed_coaching": {"team": "T & U", "programme": "P", "last_checkin": None, "days_left": 2, "week": "2020-W41",
                        "weeks": ["2020-W39", "2020-W40"]},
    "deadline": {"programme": "P", "deadline": "2020-12-23", "days_left": 7, "undecided": ["A", "B <c>"]},
    "deadline_passed": {"programme": "P", "deadline": "2020-12-23", "days_late": 8, "undecided": ["A"]},
    "committee_soon": {"team": "T", "programme": "P", "committee_on": "2020-12-10", "days_left": 1,
                       "committee_url": "https://x.example/c/1"},
    "notice_terminable": {"id": 3, "programme": "P", "partner": "Somme", "on": "2020-11-02",
                          "terminable_on": "2020-12-02", "breach": "Rien <reçu>."},
}


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("kind", due.REMINDER_KINDS)
def test_every_kind_renders_with_the_values_escaped_in_html(kind, lang):
    ctx = {**CONTEXTS[kind], "name": "Inès <Haddad>", "email": "ines@example.org", "cli": True}
    subject, text, html = render(kind, lang, ctx)
    assert subject and "\n" not in subject and text.endswith("\n")
    assert "Inès <Haddad>" in text and "Inès &lt;Haddad&gt;" in html and "<Haddad>" not in html
    assert html.startswith("<!DOCTYPE html>") and f'<html lang="{lang}">' in html


def test_render_still_refuses_a_missing_value():
    with pytest.raises(UndefinedError):
        render("coaching", "fr", {"team": "T"})


def test_html_part_escapes_names_and_text_part_keeps_them():
    ctx = {"team": "R&D <script>alert(1)</script>", "programme": "P", "committee_on": "2020-12-01", "days_left": 7,
           "name": "Inès", "cli": True}
    subject, text, body_html = render("committee_soon", "en", ctx)
    assert subject == "Strategic committee in 7 days: R&D <script>alert(1)</script>"
    assert 'The team "R&D <script>alert(1)</script>" (programme P)' in text
    assert "<script>" not in body_html
    assert "R&amp;D &lt;script&gt;alert(1)&lt;/script&gt;" in body_html


def test_an_unknown_language_falls_back_to_french():
    ctx = {"team": "T", "programme": "P", "committee_on": "2020-12-01", "days_left": 1, "name": "N", "cli": True}
    assert render("committee_soon", "de", ctx) == render("committee_soon", "fr", ctx)
    assert render("committee_soon", "fr", ctx)[0] == "Comité stratégique dans 1 jour\u00a0: T"


def test_messages_say_day_or_days_and_write_dates_in_the_reader_s_language():
    ctx = {"team": "T", "programme": "P", "committee_on": "2020-12-10", "name": "N", "cli": True}
    assert render("committee_soon", "en", {**ctx, "days_left": 1})[0] == "Strategic committee in 1 day: T"
    assert render("committee_soon", "en", {**ctx, "days_left": 2})[0] == "Strategic committee in 2 days: T"
    assert render("committee_soon", "fr", {**ctx, "days_left": 2})[0] == "Comité stratégique dans 2 jours\u00a0: T"
    assert "on December 10, 2020." in render("committee_soon", "en", {**ctx, "days_left": 1})[1]
    assert "le 10 décembre 2020." in render("committee_soon", "fr", {**ctx, "days_left": 1})[1]
    coaching = {"team": "T", "programme": "P", "week": "2020-W31", "name": "N", "days_left": 3, "last_checkin": None}
    assert "Dernier point\u00a0: aucun." in render("coaching", "fr", coaching)[1]
    assert "Last check-in: none." in render("coaching", "en", coaching)[1]
    assert "Dernier point\u00a0: 16 juillet 2020." in render("coaching", "fr", {**coaching, "last_checkin": "2020-07-16"})[1]


@pytest.mark.parametrize("kind", ["deadline", "committee_soon", "missed_coaching", "deadline_passed", "notice_terminable"])
def test_a_reader_without_the_cli_gets_no_command_and_the_board_when_there_is_one(kind):
    ctx = {**CONTEXTS[kind], "name": "Inès", "email": "ines@example.org", "cli": False}
    for lang in ("fr", "en"):
        _subject, text, html = render(kind, lang, ctx)
        assert "preincub" not in text and "preincub" not in html
        _subject, text, html = render(kind, lang, {**ctx, "board_url": "https://preincub.example.org/"})
        assert "preincub " not in text
        if kind in ("deadline", "committee_soon"):  # the ones sent to people who have no CLI
            assert "https://preincub.example.org/" in text and 'href="https://preincub.example.org/"' in html
