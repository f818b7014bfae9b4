"""Migration 0010 (workflow/store/migrations/versions/0010_mutes_sessions.py): a store of 0009 gains the
tables of mutes, web sessions and spent links, keeps its rows, and still verifies; going back drops them
only. SQLite, and PostgreSQL when configured."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from workflow import demo
from workflow.api import Workflow
from workflow.clock import PARIS, FixedClock
from workflow.store.engine import alembic_config, make_engine, upgrade

CLOCK = FixedClock(datetime(2020, 11, 30, 9, 0, tzinfo=PARIS))
NEW = {"person_mute", "web_session", "spent_link"}


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_0010_adds_three_tables_and_keeps_every_row_both_ways(db_url):
    from alembic import command

    w = Workflow.open(db_url, clock=CLOCK, create=True)
    try:
        demo.build(w)
        people = len(w.directory.people())
    finally:
        w.close()
    engine = make_engine(db_url)
    try:
        command.downgrade(alembic_config(engine), "0009")
        assert not NEW & _tables(engine) and {"person", "team", "event"} <= _tables(engine)
        upgrade(engine)
        assert NEW <= _tables(engine)
    finally:
        engine.dispose()
    w = Workflow.open(db_url, clock=CLOCK)
    try:
        assert len(w.directory.people()) == people and w.audit.verify().events > 0
        w.directory.edit_person("julien.moreau@beta.example", mute=["coaching"])
        assert w.directory.person("julien.moreau@beta.example").muted == ("coaching",)
    finally:
        w.close()
