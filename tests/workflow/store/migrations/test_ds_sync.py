"""Migration 0011 (workflow/store/migrations/versions/0011_ds_sync.py): a store of 0010 gains the DS sync's
tables and partner.insee, keeps its rows and still verifies; going back drops only them. SQLite, and
PostgreSQL when configured."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from workflow import demo
from workflow.api import Workflow
from workflow.clock import PARIS, FixedClock
from workflow.store.engine import alembic_config, make_engine, upgrade

CLOCK = FixedClock(datetime(2020, 11, 30, 9, 0, tzinfo=PARIS))


def test_0011_adds_the_ds_tables_and_the_insee_code_and_keeps_every_row_both_ways(db_url):
    from alembic import command

    w = Workflow.open(db_url, clock=CLOCK, create=True)
    try:
        demo.build(w)
        teams = len(w.teams.status())
    finally:
        w.close()
    engine = make_engine(db_url)
    try:
        command.downgrade(alembic_config(engine), "0010")
        insp = sa.inspect(engine)
        assert not {"ds_sync", "ds_dossier"} & set(insp.get_table_names())
        assert "insee" not in {c["name"] for c in insp.get_columns("partner")}
        upgrade(engine)
        insp = sa.inspect(engine)
        assert {"ds_sync", "ds_dossier"} <= set(insp.get_table_names())
        assert "insee" in {c["name"] for c in insp.get_columns("partner")}
    finally:
        engine.dispose()
    w = Workflow.open(db_url, clock=CLOCK)
    try:
        assert len(w.teams.status()) == teams and w.audit.verify().events > 0
        w.directory.edit_partner("Somme", "Pré-incubation 2020", insee="80")
        assert [p.insee for p in w.directory.programme("Pré-incubation 2020").partners if p.name == "Somme"] == ["80"]
    finally:
        w.close()
