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
import sys
try:
    {code}
except SystemExit:
    pass
loaded = sorted(m for m in {modules!r} if m in sys.modules)
import json  # after: json is one of the modules looked for
print(json.dumps(loaded), file=sys.__stderr__)
"""
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60)
    return set(json.loads(p.stderr.strip().splitlines()[-1]))


# What the commands' bodies, their parameter types and their choices need, imported on first use
# (issue 9): the guards and the triggers, the library's parsers and errors (zoneinfo, decimal), the
# text checks, json, dataclasses; and, for --version, the installed metadata; for --help, shutil.
LAZY = ("states.guards", "states.machine", "states.phases", "states.rules", "workflow.errors", "workflow.clock",
        "workflow.coaching", "workflow.money", "workflow.validate", "workflow.permissions", "notifications.message",
        "zoneinfo", "decimal", "json", "dataclasses", "importlib.metadata", "shutil")


def test_importing_the_cli_loads_no_store_and_no_templates():
    assert _loaded("import cli") == set()


def test_importing_the_cli_loads_what_the_commands_need_only_when_they_run():
    assert _loaded("import cli", LAZY) == set()


def test_help_version_and_usage_errors_load_nothing_heavy():
    for argv in (["--help"], ["--version"], ["status", "--bogus"], ["team", "--help"], ["frobnicate"]):
        assert _loaded(f"sys.argv = ['preincub', *{argv!r}]; import cli; cli.main()") == set(), argv


def test_help_version_and_usage_errors_load_no_command_body():
    for argv in (["--help"], ["--version"], ["status", "--bogus"], ["team", "--help"], ["--lang", "en", "frobnicate"]):
        assert _loaded(f"sys.argv = ['preincub', *{argv!r}]; import cli; cli.main()", LAZY) == set(), argv


def test_a_parameter_loads_its_parser_when_given():
    code = "sys.argv = ['preincub', '--now', 'not a date', 'status']; import cli; cli.main()"
    assert _loaded(code, ("workflow.clock", "zoneinfo")) == {"workflow.clock", "zoneinfo"}


def test_the_version_click_prints_is_the_installed_one():
    """cli.__version__ spares `--version` importlib.metadata; it must not drift from pyproject.toml."""
    import importlib.metadata

    import cli

    assert cli.__version__ == importlib.metadata.version("preincub")


def test_printable_text_is_shown_as_is():
    """commands.output.shown returns printable text without the library's patterns: sound only while
    workflow.validate.shown escapes nothing printable. Every printable code point, both modes."""
    from workflow.validate import shown

    from commands import output

    printable = "".join(c for c in map(chr, range(0x110000)) if c.isprintable())
    assert shown(printable) == printable and shown(printable, multiline=True) == printable
    for text in ("a\x1bb", "x\u202ey", "l1\nl2\tz", "\ud800", "\u2028", "plain", ""):
        for multiline in (False, True):
            assert output.shown(text, multiline=multiline) == shown(text, multiline=multiline), text


def test_the_help_is_as_wide_as_click_makes_it(monkeypatch):
    """cli.terminal_columns is shutil.get_terminal_size().columns, without importing shutil."""
    import shutil

    import cli

    for columns in ("160", "100", "0", "-3", "wide", None):
        if columns is None:
            monkeypatch.delenv("COLUMNS", raising=False)
        else:
            monkeypatch.setenv("COLUMNS", columns)
        assert cli.terminal_columns() == shutil.get_terminal_size().columns, columns


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


def test_every_name_of_states_resolves_from_its_module():
    """states/__init__.py loads its names on first use (PEP 562): each one it lists is found, in the module
    that defines it or re-exports it."""
    import states

    for name in states.__all__:
        module = __import__(f"states.{states._WHERE[name]}", fromlist=[name])
        assert getattr(states, name) is getattr(module, name), name
