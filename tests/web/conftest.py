"""Web fixtures: the demo store built once and copied, the app over it at a pinned time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.web.helpers import COORD, NOW, settings
from workflow.api import Workflow
from workflow.clock import FixedClock


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> Path:
    from workflow import demo

    path = tmp_path_factory.mktemp("webdemo") / "demo.db"
    wf = Workflow.open(str(path), clock=FixedClock(NOW), actor=COORD, create=True, settings=settings())
    demo.build(wf)
    wf.close()
    return path


@pytest.fixture
def store(demo_store, tmp_path) -> Path:
    dest = tmp_path / "demo.db"
    shutil.copy(demo_store, dest)
    return dest


@pytest.fixture
def wf(store):
    w = Workflow.open(str(store), clock=FixedClock(NOW), actor=COORD, settings=settings())
    yield w
    w.close()


@pytest.fixture
def app(wf):
    from web import create_app

    return create_app(wf, testing=True)


@pytest.fixture
def client(app):
    return app.test_client()


