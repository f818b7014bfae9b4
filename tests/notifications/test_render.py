"""The templates: every kind in both languages, hostile values escaped in the HTML, plural words, dates
written in the reader's language, French for an unknown language."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from notifications.render import Footer, render
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


# ---- the footer: why one receives it, how to stop it -------------------------------------------

HOSTILE = 'R&D <b>"x"</b>'
URL = "https://preincub.example.org/unsubscribe/WzEsMCwiY29hY2hpbmciXQ.X7tsAA.sig"


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("kind", due.REMINDER_KINDS)
def test_every_reminder_ends_with_why_and_the_link_that_stops_it(kind, lang):
    ctx = {**CONTEXTS[kind], "name": "Inès", "email": "ines@example.org", "cli": False}
    _subject, text, html = render(kind, lang, ctx, Footer(kind, "coach", HOSTILE, HOSTILE, url=URL))
    body, sep, footer = text.rpartition("\n-- \n")
    assert sep and body and footer.endswith(f"\n{URL}\n") and footer.count("\n") == 2
    assert HOSTILE in footer
    # HTML: the same line, escaped, the link clickable, after the message
    assert html.index("<hr>") > html.index("<h1") and f'<a href="{URL}">{URL}</a>' in html
    assert "R&amp;D &lt;b&gt;&#34;x&#34;&lt;/b&gt;" in html.split("<hr>")[1] and "<b>" not in html


def test_the_footer_says_why_and_how_to_stop_for_each_reader():
    def footer(f: Footer) -> str:
        return render(f.kind, "en", {**CONTEXTS[f.kind], "name": "N", "cli": True}, f)[1].rpartition("\n-- \n")[2]

    assert footer(Footer("deadline", "coach", "P", "T", url=URL)) == (
        'You receive this message as a coach of the team "T" (programme P). To stop receiving the reminders of the '
        f"programme's deadline, open this link and confirm:\n{URL}\n")
    # no web links: a coordinator is given the command, anyone else whom to ask
    assert footer(Footer("deadline", "partner", "P", "T")) == (
        'You receive this message as a reader for the partner body of the team "T" (programme P). To stop receiving '
        "the reminders of the programme's deadline, ask a coordinator of the programme P.\n")
    assert footer(Footer("committee_soon", "coordinator", "P", email="c@example.org")) == (
        "You receive this message as a coordinator of the programme P. To stop receiving the reminders of the "
        "strategic committee: preincub person edit c@example.org --mute committee_soon\n")
    assert footer(Footer("deadline", "coordinator", "P", mutable=False, email="c@example.org")) == (
        "You receive this message as a coordinator of the programme P. It cannot be stopped: a programme's "
        "coordinators are always told of its deadline and of its unanswered formal notices.\n")
    # a message without a footer given has none (the sign-in message has its own)
    assert "\n-- \n" not in render("deadline", "en", {**CONTEXTS["deadline"], "name": "N", "cli": True})[1]
    _s, text, html = render("signin", "en", {"name": "N", "url": "https://preincub.example.org/signin/t"})
    assert text.rpartition("\n-- \n")[2].startswith("You receive this message because a sign-in link was asked")
    assert "<hr>" in html


def test_shell_quote_escapes_exactly_the_four_characters_double_quotes_keep_special():
    from notifications.render import shell_quote

    assert shell_quote('a"b\\c$d`e') == '"a\\"b\\\\c\\$d\\`e"'
    assert shell_quote("L'Équipe d’Essai") == '"L\'Équipe d’Essai"'
    assert shell_quote("") == '""' and shell_quote(12) == '"12"'
    assert shell_quote("Zéro!papier") == "'Zéro!papier'"  # history expansion: single quotes
