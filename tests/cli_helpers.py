"""Helpers for the CLI tests: drive the real click app on real SQLite files, compare stores before/after."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner, Result

import cli

NOW = "2020-11-16"  # the demo's own day: deadline 2020-12-23 is 37 days away
PROG = "Pré-incubation 2020"
DEMO_TEAMS = {
    "Insertion RSA": "investigation",
    "Dossiers MDPH": "investigation",
    "Transport scolaire adapté": "poc_committee",
    "Assistants familiaux": "incubation_decision",
    "Informations préoccupantes": "incubated",
    "Signalements voirie": "not_incubated",
    "Cantines des collèges": "abandoned",
    "Archives en ligne": "not_selected",
    "Ouvrages d'art": "selection",
    "Covoiturage des agents": "call_for_projects",
}
TERMINAL = {"incubated", "not_incubated", "abandoned", "not_selected"}
TEAM_KEYS = {"name", "programme", "partner", "phase", "phase_since", "deadline", "days_left"}  # a team in JSON


def invoke(*args: str, db: str | Path | None = None, now: str | None = NOW, env: dict | None = None,
           lang: str | None = None, actor: str | None = None, input: str | bytes | None = None) -> Result:
    """Run ``preincub [--db DB] [--now NOW] [--lang L] [--as A] ARGS...`` in-process (``input``: stdin).

    The one in-process runner of the tests (the delivery and channel tests use it too)."""
    head: list[str] = []
    if db is not None:
        head += ["--db", str(db)]
    if now is not None:
        head += ["--now", now]
    if lang is not None:
        head += ["--lang", lang]
    if actor is not None:
        head += ["--as", actor]
    # No inherited PREINCUB_* settings leak into a test unless it passes them.
    base = {"PREINCUB_DB": None, "PREINCUB_NOW": None, "PREINCUB_USER": None, "PREINCUB_LANG": None}
    return CliRunner().invoke(cli.app, head + list(args), input=input, env={**base, **(env or {})})


def _no_crash(r: Result) -> None:
    assert r.exception is None or isinstance(r.exception, SystemExit), (
        f"crashed: {r.exception!r}\nstdout={r.stdout}\nstderr={r.stderr}")
    assert "Traceback" not in r.stdout + r.stderr


def ok(r: Result) -> Result:
    _no_crash(r)
    assert r.exit_code == 0, f"exit {r.exit_code}\nstdout={r.stdout}\nstderr={r.stderr}"
    return r


def data(r: Result):
    """The JSON a successful ``--json`` command printed."""
    return json.loads(ok(r).stdout)


def fails(r: Result, code: int, *fragments: str) -> str:
    """Assert a clean error: exit ``code``, exactly one line on stderr, nothing on stdout; return that line."""
    _no_crash(r)
    assert r.exit_code == code, f"exit {r.exit_code}, wanted {code}\nstdout={r.stdout}\nstderr={r.stderr}"
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and r.stderr.endswith("\n"), f"not one line on stderr: {r.stderr!r}"
    line = lines[0]
    assert line.startswith("preincub: ")
    for f in fragments:
        assert f in line, f"{f!r} not in {line!r}"
    return line


def dump_hash(db: str | Path) -> str:
    """sha256 of the SQL dump of an SQLite file: equal hashes, same contents."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return hashlib.sha256("\n".join(con.iterdump()).encode()).hexdigest()
    finally:
        con.close()




def foreign_sqlite(path: Path) -> Path:
    """Another application's SQLite file (a table of recipes), committed and closed."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE recettes (nom TEXT)")
    con.execute("INSERT INTO recettes VALUES ('ratatouille')")
    con.commit()
    con.close()
    return path
