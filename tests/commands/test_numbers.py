"""Numbers on the command line, driven through the real commands on a real SQLite store: a decimal
option takes the French form ("2,5") as the import and the amounts do, and every number option takes
ASCII digits only (click's FLOAT and INT take what float() and int() take: "1e400", "nan", "１２", "1_000")."""

from __future__ import annotations

import click
import pytest
from tests.cli_helpers import PROG, data, dump_hash, fails, invoke, ok

import cli
from commands.params import _Typed

RSA = "Insertion RSA"
COACH = "julien.moreau@beta.example"


def test_a_decimal_option_takes_a_comma_or_a_dot(demo_db):
    ok(invoke("team", "add", "Essai numérique", "--programme", PROG, "--partner", "Nord",
              "--intrapreneur", "aurelie.dupont@lenord.example", "--days-per-week", "2,5", db=demo_db))
    t = data(invoke("team", "show", "Essai numérique", "--json", db=demo_db))
    assert t["intrapreneurs"][0]["days_per_week"] == 2.5
    ok(invoke("team", "edit", "Essai numérique", "--days-per-week", "1.5", db=demo_db))
    assert data(invoke("team", "show", "Essai numérique", "--json", db=demo_db))["intrapreneurs"][0][
        "days_per_week"] == 1.5
    ok(invoke("programme", "add", "Essai 2021", "--signed-on", "2020-11-02", "--min-days-per-week", "1,5",
              db=demo_db))
    ok(invoke("checkin", "log", RSA, "--notes", "Entretiens", "--hours", "7,5", db=demo_db, actor=COACH))
    hours = [c["hours"] for c in data(invoke("checkin", "list", "--team", RSA, "--json", db=demo_db))]
    assert hours[-1] == 7.5


@pytest.mark.parametrize("value, says", [
    ("2,5,1", "is not a number (write 2,5 or 2.5)"), ("2.5.1", "is not a number"), ("1e400", "is not a number"),
    ("1e2", "is not a number"), ("nan", "is not a number"), ("inf", "is not a number"), ("-inf", "is not a number"),
    ("1_0", "is not a number"), ("２,５", "is not a number"), ("2, 5", "is not a number"), (",", "is not a number"),
    ("", "is not a number"), ("1" + "0" * 40, "is too large a number"), ("9" * 100_000, "is too large a number"),
])
def test_a_decimal_that_is_not_one_is_refused_in_one_line(demo_db, value, says):
    before = dump_hash(demo_db)
    line = fails(invoke("team", "edit", RSA, "--days-per-week", value, db=demo_db, lang="en"), 2,
                 "--days-per-week", says)
    assert len(line) <= 300
    assert dump_hash(demo_db) == before


@pytest.mark.parametrize("args", [
    ("serve", "--port", "１２"), ("serve", "--port", "1_000"), ("serve", "--port", "٣"), ("serve", "--threads", "²"),
    ("checkin", "gaps", "--weeks", "３"), ("checkin", "edit", "9_5", "--hours", "1"),
    ("programme", "add", "P", "--signed-on", "2020-01-01", "--capacity", "1_0"),
    ("programme", "add", "P", "--signed-on", "2020-01-01", "--months", "６"),
])
def test_a_whole_number_takes_ascii_digits_only(demo_db, args, monkeypatch):
    """`serve --port １２` served on port 12 and `--port 1_000` on port 1000: int() takes both."""
    import waitress

    def never(*args, **kwargs):
        raise AssertionError("serve got past its options")

    monkeypatch.setattr(waitress, "serve", never)
    monkeypatch.setattr(waitress, "create_server", never)
    before = dump_hash(demo_db)
    fails(invoke(*args, db=demo_db, lang="en"), 2, "is not a whole number (write it with the digits 0 to 9)")
    assert dump_hash(demo_db) == before


def test_a_whole_number_keeps_click_s_range_check(demo_db):
    fails(invoke("serve", "--port", "65536", db=demo_db, lang="en"), 2, "--port", "65536 is not in the range")
    fails(invoke("notice", "answer", "1" + "0" * 30, "--on", "2020-11-10", "--note", "x", db=demo_db, lang="en"), 2,
          "ID", "is too large a number")


def _params(cmd: click.Command):
    yield from ((cmd, p) for p in cmd.params)
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            yield from _params(cmd.get_command(ctx, name))


def test_every_number_option_of_the_cli_reads_ascii_digits():
    """One rule for every number option: none is left with click's own FLOAT, INT or ranges."""
    numbers = [(cmd.name, p.name) for cmd, p in _params(cli.app)
               if isinstance(p.type, (click.types.FloatParamType, click.types.IntParamType))]
    assert ("serve", "port") in numbers and ("add", "days_per_week") in numbers
    loose = [(cmd.name, p.name, p.type) for cmd, p in _params(cli.app)
             if isinstance(p.type, (click.types.FloatParamType, click.types.IntParamType))
             and not isinstance(p.type, _Typed)]
    assert loose == []
