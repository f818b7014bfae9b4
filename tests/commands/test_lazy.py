"""The one lazy group: its commands listed and their help shown from the table without importing them,
a command's module imported when it runs, unknown commands answered with suggestions from them all."""

from __future__ import annotations

import sys

import click
from click.testing import CliRunner

from commands.lazy import LazyGroup

MODULE = "tests.commands.lazy_target"


def group(**more: tuple[str, str | None]) -> click.Group:
    @click.group(cls=LazyGroup, lazy={"hello": (f"{MODULE}:hello", "Say hello. Then more."), **more})
    def root():
        pass

    return root


def test_the_list_comes_from_the_table_and_imports_nothing(monkeypatch):
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    r = CliRunner().invoke(group(), ["--help"])
    assert r.exit_code == 0 and "hello  Say hello." in r.output
    assert MODULE not in sys.modules
    r = CliRunner().invoke(group(other=(f"{MODULE}:hello", None)), ["--help"])
    assert "other  Say hello." in r.output and MODULE in sys.modules  # no help in the table: read from the command


def test_a_command_runs_from_its_module(monkeypatch):
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    r = CliRunner().invoke(group(), ["hello"])
    assert (r.exit_code, r.output) == (0, "hello\n")


def test_an_unknown_command_gets_suggestions_from_every_command():
    r = CliRunner().invoke(group(), ["helo"])
    assert r.exit_code == 2 and "hello" in r.output


def test_a_commands_modules_load_with_the_collector_paused_then_frozen_out_of_it(monkeypatch):
    """The import of a command's modules (the library's hundreds of thousands of objects, none garbage) runs
    with the cyclic collector paused; what it made is then frozen out of the collector's later passes."""
    import gc

    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    seen = []
    real = __import__("importlib").import_module

    def importing(name, *a):
        seen.append(gc.isenabled())
        return real(name, *a)

    monkeypatch.setattr("commands.lazy.import_module", importing)
    frozen = gc.get_freeze_count()
    try:
        r = CliRunner().invoke(group(), ["hello"])
        assert r.exit_code == 0 and seen == [False]
        assert gc.isenabled() and gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
