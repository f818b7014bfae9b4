"""Hostile text in the store and on the command line: shown as typed, never interpreted, never a crash."""

from __future__ import annotations

import json
import shutil
import sqlite3
import unicodedata
from pathlib import Path

import pytest
from tests.cli_helpers import PROG, dump_hash, fails, invoke, ok
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications.visible import shown

RSA = "Insertion RSA"
WIDE = {"COLUMNS": "100000"}  # no wrapping: a cell is one line of the output

# What an attacker or an unlucky paste would store: rich markup, emoji codes, backslashes,
# ANSI escapes (ESC, CSI), bidi overrides, bells and carriage returns, HTML.
PIECES = st.one_of(
    st.sampled_from(list("[]/\\:#=ab é<>&\"'") + ["\x1b", "\x9b", "\u202e", "\u2066", "\u200f", "\x07", "\r",
                                                 "[/]", "[bold red]", "[link=https://evil.example]", ":smile:",
                                                 "\x1b[31m", "\x1b]8;;https://evil.example\x1b\\"]),
    st.characters(exclude_categories=("Cs",), exclude_characters="\n\t"),
)
HOSTILE = st.lists(PIECES, min_size=1, max_size=12).map("".join).filter(
    lambda s: s == s.strip() and s == unicodedata.normalize("NFC", s) and s.strip())


@pytest.fixture(scope="module")
def hostile_db(demo_template, tmp_path_factory) -> Path:
    return Path(shutil.copy(demo_template, tmp_path_factory.mktemp("hostile") / "demo.db"))


def _store(db: Path, text: str) -> dict[str, str]:
    """Put ``text`` in every field a read command shows: names, problem, notes, reasons, actor."""
    con = sqlite3.connect(db)
    with con:
        team_id, prog_id, partner_id = con.execute(
            "SELECT id, programme_id, partner_id FROM team WHERE id = (SELECT team_id FROM phase_period "
            "GROUP BY team_id ORDER BY team_id LIMIT 1)").fetchone()
        con.execute("UPDATE team SET name = ?, problem = ? WHERE id = ?", (text, text, team_id))
        con.execute("UPDATE programme SET name = ? WHERE id = ?", (text, prog_id))
        con.execute("UPDATE partner SET name = ? WHERE id = ?", (text, partner_id))
        con.execute("UPDATE person SET name = ? WHERE id = (SELECT person_id FROM team_member "
                    "WHERE team_id = ? AND role = 'intrapreneur' LIMIT 1)", (text, team_id))
        con.execute("UPDATE checkin SET notes = ?, blockers = ? WHERE team_id = ? AND NOT missed", (text, text, team_id))
        con.execute("UPDATE checkin SET reason = ? WHERE team_id = ? AND missed", (text, team_id))
        con.execute("INSERT INTO event (at, actor, team_id, action, reason, forced) "
                    "VALUES ('2020-11-16 09:00:00.000000', ?, ?, 'note', ?, 0)", (text, team_id, text))
    con.close()
    return {"team": text, "programme": text}


def _values(data) -> list:
    if isinstance(data, dict):
        return [v for x in data.values() for v in _values(x)]
    if isinstance(data, list):
        return [v for x in data for v in _values(x)]
    return [data]


def _read_commands(text: str) -> list[tuple[str, ...]]:
    return [("status",), ("team", "list", "--programme", text), ("team", "show", text), ("check", text),
            ("history", text), ("checkin", "list", "--team", text), ("checkin", "gaps"), ("person", "list"),
            ("programme", "list"), ("programme", "show", text)]


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=HOSTILE)
def test_every_read_command_shows_stored_text_as_typed(hostile_db, text):
    _store(hostile_db, text)
    for args in _read_commands(text):
        r = ok(invoke(*args, db=hostile_db, env=WIDE))
        assert shown(text) in r.stdout, (args, text, r.stdout)
        assert "\x1b" not in r.stdout and "\u202e" not in r.stdout and "\x9b" not in r.stdout
        if args[0] in ("check",):
            continue
        j = invoke(*args, "--json", db=hostile_db, env=WIDE)
        assert text in _values(json.loads(ok(j).stdout)), (args, text)
        assert "\x1b" not in j.stdout and "\u202e" not in j.stdout and "\x9b" not in j.stdout


def test_the_issue_example_a_coach_note_cannot_break_the_list(demo_db):
    ok(invoke("checkin", "log", RSA, "--notes", "[/]", actor="julien.moreau@beta.example", db=demo_db))
    r = ok(invoke("checkin", "list", "--team", RSA, db=demo_db, env=WIDE))
    assert "│ [/]" in r.stdout


def test_markup_in_a_name_is_neither_styled_nor_a_hidden_link_even_on_a_colour_terminal(demo_db):
    name = "[bold red]Bobby[/bold red] [link=https://evil.example]clic[/link] :smile:"
    ok(invoke("person", "add", name, "--email", "bobby@evil.example", "--role", "coach", db=demo_db))
    ok(invoke("team", "edit", RSA, "--coach", "bobby@evil.example", db=demo_db))
    for args in (("person", "list"), ("team", "show", RSA)):
        r = ok(invoke(*args, db=demo_db, env={**WIDE, "FORCE_COLOR": "1", "TTY_COMPATIBLE": "1"}))
        assert name in r.stdout
        assert "\x1b]8;" not in r.stdout  # no OSC 8 hyperlink
        assert "😄" not in r.stdout


def test_multiline_notes_keep_their_lines_and_lose_their_escapes(demo_db):
    con = sqlite3.connect(demo_db)
    with con:
        con.execute("UPDATE checkin SET notes = ? WHERE id = (SELECT max(id) FROM checkin)",
                    ("ligne 1\n\x1b[2Jligne 2",))
    con.close()
    r = ok(invoke("checkin", "list", "--team", RSA, db=demo_db, env=WIDE))
    assert "ligne 1" in r.stdout and "\\x1b[2Jligne 2" in r.stdout and "\x1b" not in r.stdout


# ---- bad input: one line, exit 1 or 2, nothing written ------------------------------------------

def test_arguments_that_are_not_utf8(demo_db):
    before = dump_hash(demo_db)
    line = fails(invoke("team", "list", "--programme", "\udcff\udcfe", db=demo_db), 2, "n'est pas en UTF-8 valide",
                 "\\xff\\xfe")
    assert "\udcff" not in line
    fails(invoke("team", "show", "T\udcff", db=demo_db, lang="en"), 2, "not valid UTF-8")
    fails(invoke("status", db=demo_db, actor="a\udcff@x.example"), 2, "n'est pas en UTF-8 valide")
    fails(invoke("status", db=demo_db, env={"PREINCUB_USER": "a\udcff@x.example"}), 2,
          "la variable d'environnement PREINCUB_USER n'est pas en UTF-8 valide")
    fails(invoke("status", db=demo_db, lang="en", env={"PREINCUB_USER": "a\udcff@x.example"}), 2,
          "the environment variable PREINCUB_USER is not valid UTF-8")
    assert dump_hash(demo_db) == before


def test_stdin_that_is_not_utf8(demo_db):
    before = dump_hash(demo_db)
    r = invoke("checkin", "log", RSA, "--notes", "-", db=demo_db, actor="julien.moreau@beta.example",
               input=b"\xff\xfe notes")
    fails(r, 1, "--notes -", "UTF-8")
    assert dump_hash(demo_db) == before


@pytest.mark.parametrize("args", [
    ("checkin", "edit", "9223372036854775808", "--hours", "1"),
    ("checkin", "edit", "-1", "--hours", "1"),
    ("checkin", "gaps", "--weeks", "99999999999999999999999"),
    ("programme", "add", "P", "--signed-on", "2020-01-01", "--capacity", "99999999999999999999999"),
    ("programme", "add", "P", "--signed-on", "2020-01-01", "--min-days-per-week", "1e400"),
    ("team", "edit", RSA, "--days-per-week", "nan"),
])
def test_numbers_out_of_range(demo_db, args):
    before = dump_hash(demo_db)
    r = invoke(*args, db=demo_db)
    assert r.exit_code in (1, 2)
    fails(r, r.exit_code)
    assert dump_hash(demo_db) == before


def test_a_huge_value_is_quoted_short(demo_db):
    huge = "x" * 100_000
    for args, kw in ((("status",), {"actor": huge}), (("team", "show", huge), {}), (("history", huge), {}),
                     (("advance", RSA, huge), {}), (("team", "list", "--phase", huge), {}),
                     ((huge,), {}), (("status", "--" + huge), {})):
        line = fails(invoke(*args, db=demo_db, **kw), invoke(*args, db=demo_db, **kw).exit_code)
        assert len(line) <= 300, (args[:1], len(line))
        assert "x" * 81 not in line


def test_library_errors_quote_at_most_80_characters():
    from workflow.errors import Invalid
    from workflow.rules import validate

    with pytest.raises(Invalid) as e:
        validate.email("y" * 5000)
    for lang in ("en", "fr"):
        assert len(e.value.text(lang)) < 200 and "y" * 80 + "…" in e.value.text(lang)


# ---- small things ------------------------------------------------------------------------------

def test_an_expired_programme_says_so(demo_ro):
    r = ok(invoke("programme", "list", db=demo_ro, now="2021-07-11", env=WIDE))
    assert "-200 (échue)" in r.stdout
    r = ok(invoke("programme", "list", db=demo_ro, now="2021-07-11", lang="en", env=WIDE))
    assert "-200 (expired)" in r.stdout
    # The administrator (who ran the demo) lists both programmes: seed 2's ended in April 2020.
    fast, p = json.loads(ok(invoke("programme", "list", "--json", db=demo_ro, now="2021-07-11")).stdout)
    assert (p["days_left"], p["expired"], fast["expired"]) == (-200, True, True)
    fast, p = json.loads(ok(invoke("programme", "list", "--json", db=demo_ro)).stdout)
    assert (p["days_left"], p["expired"], fast["expired"]) == (37, False, True)


def test_checkin_edit_help_says_what_edit_does(demo_ro):
    text = ok(invoke("checkin", "edit", "--help", db=demo_ro, lang="en")).stdout
    assert "keep its day" in text and "default: today" not in text
    assert "a missed check-in only" in text and "with --missed" not in text
    log = ok(invoke("checkin", "log", "--help", db=demo_ro, lang="en")).stdout
    assert "default: today" in log
    text = ok(invoke("checkin", "edit", "--help", db=demo_ro)).stdout  # French by default
    assert "garde son jour" in text and "un point manqué seulement" in text and "aujourd'hui" not in text


def test_editing_the_reason_of_a_held_check_in_says_why_not(demo_db):
    r = ok(invoke("checkin", "log", RSA, "--notes", "Point", actor="julien.moreau@beta.example", db=demo_db,
                  lang="en"))
    cid = r.stdout.split("#")[1].split()[0]
    fails(invoke("checkin", "edit", cid, "--reason", "x", actor="julien.moreau@beta.example", db=demo_db, lang="en"),
          1, "a reason is only for a missed check-in")


@pytest.mark.parametrize("who", ["camille.lefebvre@beta.example", "julien.moreau@beta.example",
                                 "aurelie.dupont@lenord.example", "someone.else@example.org"])
def test_the_demo_works_whoever_runs_it(tmp_path, who):
    db = tmp_path / "demo.db"
    r = ok(invoke("demo", db=db, now=None, env={"PREINCUB_USER": who}))
    assert "Insertion RSA" in r.stdout
    people = {p["email"]: p for p in json.loads(ok(invoke("person", "list", "--json", db=db, actor=who)).stdout)}
    assert "coordinator" in people[who]["roles"]
    assert "coordinator" in people["camille.lefebvre@beta.example"]["roles"]
    assert "coach" in people["julien.moreau@beta.example"]["roles"]
    assert ok(invoke("demo", db=db, now=None, env={"PREINCUB_USER": who})).stdout.count(PROG) >= 1


def test_shell_completion_reads_names_from_the_store(demo_ro, monkeypatch):
    import cli

    def complete(words: str, env: dict[str, str] | None = None) -> list[str]:
        from click.testing import CliRunner

        parts = words.split(" ")
        r = CliRunner().invoke(cli.app, [], env={"_PREINCUB_COMPLETE": "bash_complete", "COMP_WORDS": words,
                                                 "COMP_CWORD": str(len(parts) - 1), **(env or {})},
                               prog_name="preincub")
        return [line.split(",", 1)[1] for line in r.stdout.splitlines() if line]

    base = f"preincub --db {demo_ro}"
    assert complete(f"{base} team show I") == ["Informations préoccupantes", "Insertion RSA"]
    assert complete(f"{base} advance Ou") == ["Ouvrages d'art"]
    assert complete(f"{base} team list --programme Pr") == [PROG]
    assert complete(f"{base} checkin list --coach julien") == ["julien.moreau@beta.example"]
    # A coach completes only the teams they may read; an unknown store completes nothing.
    coach = complete(f"{base} --as sarah.benali@beta.example history ''")
    assert "Dossiers MDPH" in coach and "Insertion RSA" not in coach
    assert complete(f"preincub --db {demo_ro.parent / 'nope.db'} team show I") == []
