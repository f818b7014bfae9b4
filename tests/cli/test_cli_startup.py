"""Start-up stays light: the CLI loads the store's and the templates' libraries only when a command
needs them (the time itself is measured by benchmarks/startup.py, never here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("sqlalchemy", "sqlmodel", "jinja2", "rich", "alembic", "transitions", "pydantic", "holidays", "smtplib")
ROOT = Path(__file__).resolve().parents[2]


def _loaded(code: str, modules: tuple[str, ...] = HEAVY) -> set[str]:
    probe = f"""
import json, sys
try:
    {code}
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {modules!r} if m in sys.modules)), file=sys.__stderr__)
"""
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    return set(json.loads(p.stderr.strip().splitlines()[-1]))


def test_importing_the_cli_loads_no_store_and_no_templates():
    assert _loaded("import cli") == set()


def test_help_version_and_usage_errors_load_nothing_heavy():
    for argv in (["--help"], ["--version"], ["status", "--bogus"], ["team", "--help"], ["frobnicate"]):
        assert _loaded(f"sys.argv = ['preincub', *{argv!r}]; import cli; cli.main()") == set(), argv


def test_a_command_that_reads_the_store_loads_it(tmp_path):
    db = tmp_path / "nowhere.db"
    assert "sqlalchemy" in _loaded(f"sys.argv = ['preincub', '--db', {str(db)!r}, 'status']; import cli; cli.main()")


# What a read such as `status` has no use for: the reminders (templates, holidays), the transitions,
# the channels (smtplib, http.client), the migrations (the schema check reads alembic_version itself).
NOT_FOR_STATUS = ("jinja2", "holidays", "transitions", "smtplib", "http.client", "alembic", "notifications.channels",
                  "workflow.remind", "workflow.reminders", "workflow.transitions", "workflow.directory",
                  "workflow.links")


def test_status_loads_neither_reminders_nor_channels_nor_migrations(tmp_path):
    from workflow import Workflow

    db = tmp_path / "store.db"
    Workflow.open(str(db), create=True, actor="coord@example.org").close()
    for argv in (["status"], ["status", "--json"]):
        args = ["--db", str(db), "--as", "coord@example.org", *argv]
        code = f"sys.argv = ['preincub', *{args!r}]; import cli; cli.main()"
        assert _loaded(code, NOT_FOR_STATUS + ("sqlalchemy",)) == {"sqlalchemy"}, argv
