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


def test_value_words_go_through_the_catalog_decorated_as_click_does(lang, monkeypatch):
    """translate_command gives each option's and argument's value word (click's type names, or the
    metavar written in the code) in the invocation's language, and help_texts hands them to the catalog."""
    from commands.params import NUMBER, FilePath, IntegerRange

    @click.command()
    @click.argument("name", required=False)
    @click.option("--note")
    @click.option("--hours", type=NUMBER)
    @click.option("--mood", type=IntegerRange(1, 5))
    @click.option("-o", "--output", type=FilePath())
    @click.option("--as", "actor", metavar="EMAIL")
    @click.option("--format", type=click.Choice(["md", "pdf"]))
    @click.option("--force", is_flag=True)
    def cmd(**kw):
        pass

    words = {"TEXT": "TEXTE", "NUMBER": "NOMBRE", "INTEGER": "ENTIER", "FILE": "FICHIER", "EMAIL": "COURRIEL",
             "NAME": "NOM", "[OPTIONS]": "[OPTIONS]"}

    class Catalog:
        @staticmethod
        def gettext(message: str) -> str:
            return words.get(message, message)

    lang("fr")
    monkeypatch.setattr(text.i18n, "translations", lambda _lang: Catalog)
    text.translate_command(cmd)
    help_text = cmd.get_help(click.Context(cmd))
    for shown in ("[OPTIONS] [NOM]", "--note TEXTE", "--hours NOMBRE", "--mood ENTIER", "-o, --output FICHIER",
                  "--as COURRIEL", "--format [md|pdf]"):
        assert shown in help_text, shown
    assert {"TEXT", "NUMBER", "INTEGER", "FILE", "EMAIL", "NAME", "[OPTIONS]"} <= set(text.help_texts(cmd))
    monkeypatch.undo()
    lang("en")
    text.translate_command(cmd)
    assert "--note TEXT" in cmd.get_help(click.Context(cmd)) and "[NAME]" in cmd.get_help(click.Context(cmd))


def test_an_options_notes_take_the_languages_semicolon(lang):
    """click joins "[default: 8080; 1<=x<=65535]" with a plain "; "; French puts a no-break space before."""
    from tests.cli_helpers import invoke, ok

    out = ok(invoke("serve", "--help", now=None, lang="fr", env={"COLUMNS": "120"})).stdout
    assert "[par défaut\u00a0: 8080\u00a0; 1<=x<=65535]" in out
    out = ok(invoke("serve", "--help", now=None, lang="en", env={"COLUMNS": "120"})).stdout
    assert "[default: 8080; 1<=x<=65535]" in out
