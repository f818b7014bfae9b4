"""Every command that writes a file (-o FILE) takes a file name: a directory, existing or named as one
("out/", "out/."), is refused in one line (exit 2) before anything is written."""

from __future__ import annotations

import click
import pytest

import cli
from tests.cli_helpers import PROG, dump_hash, fails, invoke

# Each command with -o, and what it needs besides (a test checks that none is missing).
WRITERS = {
    ("export", "csv"): ["--programme", PROG],
    ("export", "json"): [],
    ("export", "ics"): ["--programme", PROG],
    ("report", "committee"): ["--programme", PROG],
    ("report", "programme"): ["--programme", PROG],
    ("funding", "statement"): ["--programme", PROG, "--partner", "Pas-de-Calais"],
    ("person", "export"): ["ines.haddad@somme.example"],
}


def _writers(cmd: click.Command, path: tuple[str, ...] = ()):
    """The path of every command of the tree that has an -o option."""
    if any("-o" in p.opts for p in cmd.params if isinstance(p, click.Option)):
        yield path
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            yield from _writers(cmd.get_command(ctx, name), (*path, name))


def test_every_command_with_o_is_checked_here():
    assert set(_writers(cli.app)) == set(WRITERS)


@pytest.mark.parametrize("path", sorted(WRITERS), ids=" ".join)
def test_a_directory_is_refused_as_output(path, demo_db, tmp_path):
    work = tmp_path / "work"
    (work / "existing").mkdir(parents=True)
    before = dump_hash(demo_db)
    for output in ("new/", "new/.", "existing", "existing/"):
        with pytest.MonkeyPatch.context() as m:
            m.chdir(work)
            r = invoke(*path, *WRITERS[path], "-o", output, db=demo_db, lang="en")
        fails(r, 2, repr(output), "is a directory")
        assert sorted(p.name for p in work.iterdir()) == ["existing"], output  # no file named after it
        assert not any((work / "existing").iterdir())
    assert dump_hash(demo_db) == before
