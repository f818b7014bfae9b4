"""CLI fixtures: demo stores built once and copied, empty stores."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_helpers import invoke, ok


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """The demo store, built once through the CLI; tests copy it."""
    path = tmp_path_factory.mktemp("template") / "demo.db"
    ok(invoke("demo", db=path))
    assert not Path(str(path) + "-wal").exists() or Path(str(path) + "-wal").stat().st_size == 0
    return path


def _copy(src: Path, dest: Path) -> Path:
    shutil.copy(src, dest)
    return dest


@pytest.fixture(scope="module")
def demo_ro(demo_template, tmp_path_factory) -> Path:
    """One copy of the demo store per module, for tests that only read."""
    return _copy(demo_template, tmp_path_factory.mktemp("ro") / "demo.db")


@pytest.fixture
def demo_db(demo_template, tmp_path) -> Path:
    """A fresh copy of the demo store for a test that writes."""
    return _copy(demo_template, tmp_path / "demo.db")


@pytest.fixture
def empty_db(tmp_path) -> Path:
    path = tmp_path / "empty.db"
    ok(invoke("init", db=path))
    return path
