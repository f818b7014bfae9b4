"""Start-up stays light: the CLI imports a command's module when that command runs (cli.COMMANDS, one
lazy group), and the library with it; `--help`, `--version` and an unknown command import neither.
The time itself is measured by benchmarks/startup.py, never here."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
# What the start-up must not import: the libraries of the store, the templates, the tables and the
# channels, and every module of the library (importing any of them imports the whole facade).
HEAVY = ("sqlalchemy", "sqlmodel", "jinja2", "rich", "alembic", "transitions", "pydantic", "holidays", "smtplib",
         "babel", "workflow", "states")
# The CLI's own light modules: the root group, the language, the error line, the lazy group.
LIGHT = {"commands", "commands.lazy", "commands.start", "commands.text"}


def _loaded(argv: list[str], prefixes: tuple[str, ...] = HEAVY) -> set[str]:
    """The modules named by ``prefixes`` (or below them) that ``preincub ARGV`` has imported."""
    probe = f"""
import sys
sys.argv = ['preincub', *{argv!r}]
try:
    import cli
    cli.main()
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if any(m == p or m.startswith(p + '.') for p in {prefixes!r}))
import json
import re
print(json.dumps(loaded), file=sys.__stderr__)
"""
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    return set(json.loads(p.stderr.strip().splitlines()[-1]))


def test_help_version_and_an_unknown_command_load_no_command_module_and_nothing_heavy():
    for argv in (["--help"], ["--version"], ["frobnicate"], ["--lang", "en", "statu"], []):
        assert _loaded(argv) == set(), argv
        assert _loaded(argv, ("commands",)) <= LIGHT, argv


def test_a_command_loads_its_module_and_no_other_command_module(tmp_path):
    assert _loaded(["diagram"], ("commands.moves", "commands.money")) == {"commands.moves"}
    assert "commands.teams" in _loaded(["team", "--help"], ("commands",))
    db = tmp_path / "nowhere.db"
    assert "sqlalchemy" in _loaded(["--db", str(db), "status"])


def test_a_person_subcommand_loads_its_module_when_it_runs():
    assert "commands.privacy" not in _loaded(["person", "add", "--help"], ("commands",))
    assert "commands.privacy" in _loaded(["person", "erase", "--help"], ("commands",))


# What a read such as `status` has no use for: the PDF and spreadsheet writers, the templates (no
# message is rendered), the public holidays (no reminder is planned), the channels (smtplib,
# http.client), the migrations (the schema check reads alembic_version itself), the web.
NOT_FOR_STATUS = ("weasyprint", "openpyxl", "jinja2", "holidays", "smtplib", "http.client", "alembic",
                  "notifications.channels", "notifications.documents", "web", "flask", "waitress")


def test_status_loads_no_writer_no_template_no_channel_and_no_migration(tmp_path):
    from workflow.api import Workflow

    db = tmp_path / "store.db"
    Workflow.open(str(db), create=True, actor="coord@example.org").close()
    for argv in (["status"], ["status", "--json"]):
        args = ["--db", str(db), "--as", "coord@example.org", *argv]
        loaded = _loaded(args, NOT_FOR_STATUS + ("sqlalchemy",))
        assert "sqlalchemy" in loaded and {m for m in loaded if not m.startswith("sqlalchemy")} == set(), argv


def test_every_command_of_the_table_has_the_summary_its_module_gives_it():
    """cli.COMMANDS' summary is what `preincub --help` lists: the command's own short help (else its
    help), word for word."""
    import cli

    ctx = click.Context(cli.app)
    for name, (_where, summary) in cli.COMMANDS.items():
        cmd = cli.app.get_command(ctx, name)
        assert cmd is not None and cmd.name == name, name
        kept = cmd.__dict__.get("_preincub_help", {})
        source = (kept.get("short_help") or kept.get("help")
                  or inspect.cleandoc(cmd.short_help or cmd.help or ""))
        assert source == summary, name


def test_the_version_click_prints_is_the_installed_one():
    """cli.__version__ spares `--version` importlib.metadata; it must not drift from pyproject.toml."""
    import importlib.metadata

    import cli

    assert cli.__version__ == importlib.metadata.version("preincub")


def test_printable_text_is_shown_as_is():
    """notifications.visible.shown returns printable text without running its patterns: sound only
    while the patterns match nothing printable. Every printable code point, both modes."""
    from notifications import visible

    printable = "".join(c for c in map(chr, range(0x110000)) if c.isprintable())
    for pattern in (visible._UNSAFE_LINE, visible._UNSAFE_MULTI):
        assert pattern.search(printable) is None
    for text in ("a\x1bb", "x\u202ey", "l1\nl2\tz", "\ud800", "\u2028", "plain", ""):
        for multiline in (False, True):
            pattern = visible._UNSAFE_MULTI if multiline else visible._UNSAFE_LINE
            assert visible.shown(text, multiline=multiline) == pattern.sub(visible._escape, text), text


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


def _paths(cmd: click.Command, path: tuple[str, ...] = ()):
    """The path of every command and group of the tree, the root's included."""
    yield path
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            yield from _paths(cmd.get_command(ctx, name), (*path, name))


ENGLISH_KINDS = re.compile(r"\b(TEXT|INTEGER|FLOAT|NUMBER|RANGE|FILE|PATH|BOOLEAN|DIRECTORY)\b")
CUT = re.compile(r"\.\.\.$")
BEFORE_PUNCTUATION = re.compile(r"(?<![\u00a0\u202f])[;:!?](?=\s|$)")  # French puts a no-break space before


def _commands_section(text: str) -> list[str]:
    """The lines of a help's list of commands (after its heading, up to the next blank line)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Commandes")), None)
    if start is None:
        return []
    section = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        section.append(line)
    return section


def test_the_french_help_speaks_french_and_cuts_no_summary():
    """Every command's and group's --help in French: value words in French (no TEXT, FILE, INTEGER…),
    every summary of a list of commands whole, and a no-break space before ; : ! ? (an option's notes
    too: "[par défaut : 8080 ; 1<=x<=65535]"). The words come from the catalog (python -m tools.catalog)."""
    import cli
    from tests.cli_helpers import invoke, ok

    found = []
    for path in _paths(cli.app):
        text = ok(invoke(*path, "--help", now=None, lang="fr", env={"COLUMNS": "80"})).stdout
        where = " ".join(("preincub", *path))
        found += [f"{where}: English value word in {line.strip()!r}" for line in text.splitlines()
                  if ENGLISH_KINDS.search(line)]
        found += [f"{where}: cut summary {line.strip()!r}" for line in _commands_section(text) if CUT.search(line)]
        found += [f"{where}: no no-break space before punctuation in {line.strip()!r}" for line in text.splitlines()
                  if BEFORE_PUNCTUATION.search(line)]
    assert not found, "\n".join(found)
