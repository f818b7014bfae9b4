"""Migration 0010 (workflow/store/migrations/versions/0010_mutes_sessions.py): a store of 0009 gains the
tables of mutes, web sessions and spent links, keeps its rows, and still verifies; going back drops them
only. SQLite, and PostgreSQL when configured."""

from __future__ import annotations

from tests.workflow.store.migrations.downgrade import demo_down_and_up

NEW = {"person_mute", "web_session", "spent_link"}


def test_0010_adds_three_tables_and_keeps_every_row_both_ways(db_url):
    def check(insp, up):
        tables = set(insp.get_table_names())
        assert (tables & NEW) == (NEW if up else set()) and {"person", "team", "event"} <= tables

    w = demo_down_and_up(db_url, "0009", check)
    try:
        w.directory.edit_person("julien.moreau@beta.example", mute=["coaching"])
        assert w.directory.person("julien.moreau@beta.example").muted == ("coaching",)
    finally:
        w.close()
