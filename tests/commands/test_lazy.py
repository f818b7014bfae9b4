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
