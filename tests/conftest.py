"""Shared fixtures: a fresh store on SQLite always, and on PostgreSQL when PREINCUB_TEST_DATABASE_URL is set."""

from __future__ import annotations

from collections.abc import Iterator

import os
import shutil
import uuid
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from tests.cli_helpers import invoke, ok
from workflow.api import Workflow

from workflow.clock import FixedClock
from workflow.clock import PARIS

# The real SMTP and webhook servers, shared by the channel, delivery and secrets tests.
pytest_plugins = ["tests.delivery_fixtures"]

PG_URL = os.environ.get("PREINCUB_TEST_DATABASE_URL")
COORD = "coord@example.org"


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path_factory):
    """A developer's PREINCUB_* settings never leak into tests, and nothing writes to their data dir."""
    for name in list(os.environ):
        if name.startswith("PREINCUB_") and name != "PREINCUB_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.delenv("NO_COLOR", raising=False)
    # Tables are as wide as off a terminal, whoever runs the suite (pytest-xdist workers inherit a COLUMNS).
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.getbasetemp() / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "xdg-config"))  # no preincub.env


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A URL to an empty database: a new SQLite file, or a new schema on the PostgreSQL test server."""
    if request.param == "sqlite":
        yield "sqlite:///" + str(tmp_path / "store.db")
        return
    if not PG_URL:
        pytest.skip("PostgreSQL: set PREINCUB_TEST_DATABASE_URL to run the store tests there too")
    yield from pg_schema()


def pg_schema() -> Iterator[str]:
    """A URL to a new, empty schema on the PostgreSQL test server, dropped afterwards (a fixture's body)."""
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as c:
        c.exec_driver_sql(f"CREATE SCHEMA {schema}")
    base = admin.url.render_as_string(hide_password=False)
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as c:
        c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


@pytest.fixture
def clock():
    return FixedClock(paris(2020, 7, 1, 10, 0))


@pytest.fixture
def wf(db_url, clock):
    w = Workflow.open(db_url, clock=clock, actor=COORD, create=True)
    yield w
    w.close()


def seed(w: Workflow, *, capacity: int | None = None, kind: str = "preincubation") -> str:
    """A programme signed 23 June 2020 with one partner and the people a team needs."""
    w.directory.add_programme("Pré-incubation 2020", date(2020, 6, 23), kind=kind, capacity=capacity)
    w.directory.add_partner("Pas-de-Calais", "Pré-incubation 2020")
    w.directory.add_person("Coach Un", "coach@example.org", ["coach"])
    w.directory.add_person("Sponsor Un", "sponsor@example.org", ["sponsor"])
    for i in range(12):
        w.directory.add_person(f"Agent {i}", f"agent{i}@example.org", ["intrapreneur"])
    return "Pré-incubation 2020"


def ready_team(w: Workflow, name: str, i: int = 0, *, days: float = 1) -> str:
    """A team in selection that meets every guard of `select`."""
    w.teams.add(name, "Pré-incubation 2020", "Pas-de-Calais", problem="Un problème réel.",
               intrapreneurs=[f"agent{i}@example.org"], coach="coach@example.org", days_per_week=days)
    w.transitions.advance(name, "submit")
    w.teams.assess(name, real=True, major=True, actionable=True)
    w.teams.agree(name, "partner")
    w.teams.agree(name, "operator")
    return name


# The demo store through the CLI, shared by the command and scenario tests.
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
