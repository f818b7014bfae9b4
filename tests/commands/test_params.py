"""The command line's value types: the library's parsers as click types (a refusal is click's usage
error, exit 2, in the invocation's language), a default of the right kind kept, files that are not
directories."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import click
from click.testing import CliRunner

from commands.params import AMOUNT, DATE, ID, PERCENT, WEEK, FilePath
from tests.cli_helpers import invoke


def run(*args: str, lang: str | None = None):
    @click.command()
    @click.option("--on", type=DATE, default=date(2020, 7, 1))
    @click.option("--week", type=WEEK)
    @click.option("--amount", type=AMOUNT)
    @click.option("--share", type=PERCENT)
    @click.option("--id", "id_", type=ID)
    @click.option("--file", type=FilePath(exists=True))
    def cmd(on, week, amount, share, id_, file):
        click.echo(repr((on, week, amount, share, id_, file)))

    return CliRunner().invoke(cmd, list(args))


def test_values_parsed_by_the_library_and_a_default_kept():
    r = run("--amount", "9 000,50", "--share", "50 %", "--week", "2020-W53", "--id", "3")
    assert r.exit_code == 0, r.output
    assert r.output.strip() == repr((date(2020, 7, 1), "2020-W53", Decimal("9000.50"), Decimal("50.00"), 3, None))
    assert run("--on", "2020-12-31").output.startswith("(datetime.date(2020, 12, 31)")


def test_a_refused_value_is_a_usage_error():
    for args in (["--on", "31/12/2020"], ["--amount", "-5"], ["--share", "101"], ["--week", "2020-W54"],
                 ["--id", "0"]):
        r = run(*args)
        assert r.exit_code == 2 and "Invalid value" in r.output, (args, r.output)


def test_a_directory_is_not_a_file(tmp_path):
    r = run("--file", str(tmp_path))
    assert r.exit_code == 2 and "is a directory" in r.output
    f = tmp_path / "x.csv"
    f.write_text("a\n")
    assert run("--file", str(f)).exit_code == 0


def test_the_kind_of_file_is_said_in_each_invocation_s_language(tmp_path):
    """One process, both languages, in either order: the commands' modules load once, and the word
    click puts in the message follows the invocation, and so does the help's metavar (FICHIER, FILE)."""
    for first, second in (("fr", "en"), ("en", "fr")):
        for lang in (first, second):
            r = invoke("report", "programme", "Pré-incubation 2020", "-o", str(tmp_path), lang=lang,
                       db=tmp_path / "none.db")
            assert r.exit_code == 2, r.output
            assert ("Fichier" if lang == "fr" else "File '") in r.output, (lang, r.output)
            help_ = invoke("report", "programme", "--help", lang=lang).output
            assert ("--output FICHIER" if lang == "fr" else "--output FILE") in help_, (lang, help_)


def test_numbers_as_people_type_them():
    """A decimal in French or English; a whole number in ASCII digits; a default of the right kind kept."""
    from commands.params import INTEGER, NUMBER, IntegerRange

    @click.command()
    @click.option("--days", type=NUMBER, default=1.0)
    @click.option("--weeks", type=INTEGER)
    @click.option("--port", type=IntegerRange(1, 65535), default=8080)
    def cmd(days, weeks, port):
        click.echo(repr((days, weeks, port)))

    def out(*args):
        return CliRunner().invoke(cmd, list(args))

    assert out("--days", "2,5", "--weeks", "12").output.strip() == "(2.5, 12, 8080)"
    assert out("--days", " 2.5 ", "--weeks", "-3", "--port", "12").output.strip() == "(2.5, -3, 12)"
    assert out().output.strip() == "(1.0, None, 8080)"
    for args in (["--days", "2,5,1"], ["--days", "nan"], ["--days", "1e400"], ["--days", "1" * 16],
                 ["--weeks", "１２"], ["--weeks", "1_000"], ["--weeks", "1.0"], ["--port", "１２"], ["--port", "0"]):
        r = out(*args)
        assert r.exit_code == 2 and "Invalid value" in r.output, (args, r.output)
