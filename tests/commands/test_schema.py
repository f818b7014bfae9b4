"""`preincub schema`, and every JSON output checked against its published schema with jsonschema (draft
2020-12, formats checked: a date-time without seconds is refused), on the demo store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest

from tests.cli_helpers import PROG, data, fails, invoke, ok
from tests.commands.test_ds import MAP as DS_MAP
from tests.ds_server import DEMARCHE, DsServer, dossiers_fixture
from workflow.formats import schemas

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a test extra: pip install -e '.[test]'")
Draft202012Validator = jsonschema.Draft202012Validator
# The date-time checker needs rfc3339-validator: without it jsonschema silently accepts any string.
pytest.importorskip("rfc3339_validator", reason="rfc3339-validator checks date-time: pip install -e '.[test]'")

COACH = "sarah.benali@beta.example"
TEAM = "Insertion RSA"


def validator(name: str):
    return Draft202012Validator(schemas.load(name), format_checker=Draft202012Validator.FORMAT_CHECKER)


def conforms(name: str, doc) -> None:
    errors = sorted(validator(name).iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, f"{name}: " + "; ".join(f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:5])


def json_commands() -> set[str]:
    """Every command that has a --json option, as its schema's name ("team show" → "team-show")."""
    import cli

    out: set[str] = set()

    def walk(cmd: click.Command, path: list[str]) -> None:
        if isinstance(cmd, click.Group):
            ctx = click.Context(cmd)
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), [*path, name])
        elif any("--json" in getattr(p, "opts", ()) for p in cmd.params):
            out.add("-".join(path))

    walk(cli.app, [])
    return out


def test_every_schema_is_a_valid_draft_2020_12_schema():
    assert len(schemas.names()) > 20
    for name in schemas.names():
        doc = schemas.load(name)
        Draft202012Validator.check_schema(doc)
        assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema" and doc["title"], name
        # the title is the command line (`preincub schema` lists it in any language): no English prose
        assert re.fullmatch(r"preincub [a-z -]+(--json|-o FILE\.json|--programme P \[--what [a-z|]+\])?", doc["title"]), name


def test_date_time_and_date_formats_are_really_checked():
    """The checker refuses what RFC 3339 refuses: a time without seconds, a date without its day's two digits."""
    assert {"date-time", "date"} <= set(Draft202012Validator.FORMAT_CHECKER.checkers)
    planned = {"at": "2020-11-30T09:00:00+01:00", "kind": "coaching", "reminder": "coaching:1:2020-W49", "to": None,
               "channel": "email", "subject": "Point", "key": "coaching:1:2020-W49:p3:email"}
    v = validator("remind-preview")
    assert v.is_valid([planned])
    assert not v.is_valid([{**planned, "at": "2020-11-30T09:00+01:00"}])  # no seconds
    assert not v.is_valid([{**planned, "at": "2020-11-30T09:00:00"}])  # no offset
    assert not v.is_valid([{**planned, "extra": 1}])  # shape drift: an unknown key
    assert not validator("checkin-gaps").is_valid([{"team": "x", "programme": "p", "partner": None, "coach": None,
                                                    "investigation_since": "2020-7-06", "weeks_expected": 1,
                                                    "weeks_held": 1, "weeks_missing": [], "missed_recorded": [],
                                                    "last_checkin": None}])


def test_every_command_with_a_json_option_has_a_schema():
    missing = json_commands() - set(schemas.names())
    assert not missing, f"add a schema in workflow/formats/schemas/ for: {sorted(missing)}"


def test_schema_lists_and_prints_them():
    listed = ok(invoke("schema", lang="en", now=None)).stdout
    assert "team-show" in listed and "export-all" in listed and "preincub team show --json" in listed
    printed = ok(invoke("schema", "team", "show", now=None)).stdout
    assert printed == schemas.text("team-show") and json.loads(printed)["title"] == "preincub team show --json"
    assert ok(invoke("schema", "team-show", now=None)).stdout == printed
    fails(invoke("schema", "nothing", "here", now=None, lang="en"), 1, "no JSON schema 'nothing-here'")


def test_schemas_ship_in_the_wheel():
    """pyproject.toml's package data carries them (an installed preincub finds them by importlib.resources)."""
    import tomllib

    conf = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    assert "formats/schemas/*.json" in conf["tool"]["setuptools"]["package-data"]["workflow"]


def _csv(path: Path) -> Path:
    path.write_text("équipe;collectivité;problème;intrapreneur;jours par semaine\r\n"
                    "Routes sûres;Nord;Des routes;Zoé Martin <zoe.martin@lenord.example>;1,5\r\n", encoding="utf-8")
    return path


def test_every_json_output_matches_its_schema(demo_db, tmp_path):
    """Each --json command (and the exports that are JSON) run on the demo store, with rows in every list."""
    def run(*args: str):
        return data(invoke(*args, db=demo_db))

    # Rows in the lists the demo leaves empty: funding, an expense, a formal notice, the outbox.
    for args in (("funding", "set", "--programme", PROG, "--partner", "Nord", "--cap", "9000",
                  "--payment", "after-statement"),
                 ("expense", "add", "--programme", PROG, "--amount", "2400", "--on", "2020-07-07",
                  "--label", "Séminaire"),
                 ("notice", "add", "--programme", PROG, "--partner", "Somme", "--on", "2020-10-02",
                  "--breach", "Intrapreneur not freed"),
                 ("remind", "run", "--console")):
        ok(invoke(*args, db=demo_db))
    runs = {
        "demo": ("demo", "--json"),
        "status": ("status", "--json"),
        "team-list": ("team", "list", "--json"),
        "team-show": ("team", "show", TEAM, "--json"),
        "history": ("history", TEAM, "--json"),
        "check": ("check", "Ouvrages d'art", "--json"),
        "programme-list": ("programme", "list", "--json"),
        "programme-show": ("programme", "show", PROG, "--json"),
        "person-list": ("person", "list", "--json"),
        "person-show": ("person", "show", COACH, "--json"),
        "checkin-list": ("checkin", "list", "--json"),
        "checkin-gaps": ("checkin", "gaps", "--programme", PROG, "--json"),
        "remind-preview": ("remind", "preview", "--until", "2020-12-31", "--json"),
        "outbox-list": ("outbox", "list", "--json"),
        "daemon-status": ("daemon", "status", "--json"),
        "inbox-status": ("inbox", "status", "--json"),
        "audit-verify": ("audit", "verify", "--json"),
        "notice-list": ("notice", "list", "--json"),
        "funding-show": ("funding", "show", "--programme", PROG, "--json"),
        "expense-list": ("expense", "list", "--programme", PROG, "--json"),
        "report-committee": ("report", "committee", "--programme", PROG, "--json"),
        "report-programme": ("report", "programme", "--programme", PROG, "--json"),
        "team-import": ("team", "import", str(_csv(tmp_path / "teams.csv")), "--programme", PROG, "--json"),
        "backup": ("backup", str(tmp_path / "copy.db"), "--json"),
        "restore": ("restore", str(tmp_path / "copy.db"), "--json"),
        "purge": ("purge", "--before", "2020-11-01", "--dry-run", "--json"),
        "person-erase": ("person", "erase", "ines.haddad@somme.example", "--reason", "Request", "--json"),
    }
    seen: dict[str, object] = {}
    with DsServer(dossiers_fixture(24)) as ds:  # a local Démarches Simplifiées: the sync reads it over HTTP
        (tmp_path / "ds.toml").write_text(DS_MAP, encoding="utf-8")
        r = invoke("intake", "ds", "sync", "--demarche", str(DEMARCHE), "--programme", PROG, "--map",
                   str(tmp_path / "ds.toml"), "--json", db=demo_db,
                   env={"PREINCUB_DS_URL": ds.url, "PREINCUB_DS_TOKEN": ds.token})
        assert r.exit_code == 0, r.stderr
        seen["intake-ds-sync"] = doc = json.loads(r.stdout)
        conforms("intake-ds-sync", doc)
        assert doc["teams"]
    ran = set(runs) | set(seen) | {"inbox-poll"}  # needs an IMAP server: tests/commands/test_inbox.py checks it
    assert json_commands() <= ran, f"run these here too: {sorted(json_commands() - ran)}"
    for name, args in runs.items():
        r = invoke(*args, db=demo_db)
        # daemon status exits 1 while the daemon has never ticked; it prints its JSON all the same
        assert r.exit_code in ((0, 1) if name == "daemon-status" else (0,)), f"{args}: {r.exit_code} {r.stderr}"
        seen[name] = doc = json.loads(r.stdout)
        conforms(name, doc)
    assert seen["outbox-list"] and seen["notice-list"] and seen["expense-list"] and seen["funding-show"]["partners"]
    assert any(p["at"].endswith(":00+01:00") for p in seen["remind-preview"])
    for what in ("teams", "checkins", "events"):
        rows = run("export", "json", "--programme", PROG, "--what", what)
        assert rows
        conforms("export-json", rows)
    conforms("export-all", run("export", "json"))
    conforms("person-export", run("person", "export", COACH))


def test_one_shape_for_one_thing(demo_ro):
    """An event's data is an object, and a team's agreements a list, in every JSON output; every
    datetime carries its seconds."""
    events = data(invoke("export", "json", "--programme", PROG, "--what", "events", db=demo_ro))
    history = data(invoke("history", TEAM, "--json", db=demo_ro))
    mine = [e for e in events if e["team"] == TEAM]
    assert [e["data"] for e in mine] == [h["data"] for h in history]
    assert all(e["data"] is None or isinstance(e["data"], dict) for e in events)
    teams = {t["team"]: t for t in data(invoke("export", "json", "--programme", PROG, db=demo_ro))}
    shown = data(invoke("team", "show", TEAM, "--json", db=demo_ro))
    assert teams[TEAM]["agreements"] == shown["agreements"] == ["operator", "partner"]
    assert teams["Covoiturage des agents"]["agreements"] == []
    planned = data(invoke("remind", "preview", "--until", "2020-12-01", "--json", db=demo_ro))
    assert planned and all(len(p["at"]) == len("2020-11-30T09:00:00+01:00") for p in planned)
