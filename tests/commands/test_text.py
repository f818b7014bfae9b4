"""The CLI's words: the invocation's language, numbers and days as its readers write them, the colon
of "label: value", a command's one line in the list, and every help text for the catalog."""

from __future__ import annotations

from datetime import date

import click
import pytest

from commands import text


@pytest.fixture
def lang():
    """Restores the invocation's language after a test sets it."""
    before = text.current_lang()
    yield text.set_lang
    text.set_lang(before)


def test_sentences_numbers_and_days_in_the_chosen_language(lang):
    lang("en")
    assert (text.number(1000), text.day(date(2020, 6, 23)), text.labelled("Partners", "Nord")) == (
        "1,000", "June 23, 2020", "Partners: Nord")
    assert text._("Show this message and exit.") == "Show this message and exit."
    lang("fr")
    assert text.number(1000) == "1\u202f000" and text.day(date(2020, 6, 23)) == "23 juin 2020"
    assert text.colon() == "\u00a0: " and text.semicolon() == "\u00a0; "
    assert text._("Show this message and exit.") == "Afficher ce message et quitter."


def test_short_help_is_the_first_sentence_cut_as_click_cuts_it():
    assert text.short_help("Create the store. Then more.\n\nDetails.") == "Create the store."
    assert text.short_help("Show e.g. a team.") == "Show e.g. a team."
    long = text.short_help("Un texte bien trop long pour tenir sur une seule ligne\u00a0: vraiment", limit=45)
    assert len(long) <= 45 and long.endswith("...")
    assert "\u00a0" in text.short_help("Équipes\u00a0: la liste", limit=45)


def test_help_texts_walk_the_whole_tree():
    @click.group(help="Root help.")
    def root():
        pass

    @root.command(help="Leaf help.", epilog="Leaf epilog.")
    @click.option("--x", help="Option help.")
    def leaf(x):
        pass

    assert set(text.help_texts(root)) >= {"Root help.", "Leaf help.", "Leaf epilog.", "Option help."}
