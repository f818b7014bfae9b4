"""What the catalog is extracted from: every package with sentences and their templates, click's own
code, and the CLI's help texts read from the command tree (the freshness check: tests/notifications/test_i18n.py)."""

from __future__ import annotations

from pathlib import Path

import cli
from tools import catalog


def test_the_sources_exist_and_cover_every_package_with_sentences():
    sources = [Path(s) for s in catalog.sources()]
    assert all(s.exists() for s in sources)
    names = {s.name for s in sources}
    assert {"cli.py", "commands", "states", "workflow", "notifications", "web", "click"} <= names
    assert sum(s.name == "templates" for s in sources) == 2


def test_the_cli_help_comes_from_the_command_tree():
    helps = catalog.cli_help()
    assert all(help_ in helps for _where, help_ in cli.COMMANDS.values())  # each command's line, from the table
    assert len(helps) > len(cli.COMMANDS)  # and the options' and subcommands' help too
    assert all(isinstance(h, str) and h for h in helps)
