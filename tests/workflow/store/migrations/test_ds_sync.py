"""Migration 0011 (workflow/store/migrations/versions/0011_ds_sync.py): a store of 0010 gains the DS sync's
tables and partner.insee, keeps its rows and still verifies; going back drops only them. SQLite, and
PostgreSQL when configured."""

from __future__ import annotations

from tests.workflow.store.migrations.downgrade import demo_down_and_up


def test_0011_adds_the_ds_tables_and_the_insee_code_and_keeps_every_row_both_ways(db_url):
    def check(insp, up):
        assert ({"ds_sync", "ds_dossier"} <= set(insp.get_table_names())) is up
        assert ("insee" in {c["name"] for c in insp.get_columns("partner")}) is up

    w = demo_down_and_up(db_url, "0010", check)
    try:
        w.directory.edit_partner("Somme", "Pré-incubation 2020", insee="80")
        assert [p.insee for p in w.directory.programme("Pré-incubation 2020").partners if p.name == "Somme"] == ["80"]
    finally:
        w.close()
