"""Migration 0012 (workflow/store/migrations/versions/0012_inbox.py): a store of 0011 gains the inbox's tables
and outbox.in_reply_to, keeps its rows and still verifies; going back drops only them. SQLite, and
PostgreSQL when configured."""

from __future__ import annotations

from tests.workflow.store.migrations.downgrade import demo_down_and_up


def test_0012_adds_the_inbox_tables_and_in_reply_to_and_keeps_every_row_both_ways(db_url):
    def check(insp, up):
        assert ({"inbound_mail", "inbox_poll", "reminder_plan"} <= set(insp.get_table_names())) is up
        assert ("in_reply_to" in {c["name"] for c in insp.get_columns("outbox")}) is up

    w = demo_down_and_up(db_url, "0011", check)
    try:
        assert isinstance(w.outbox.messages(), list)
    finally:
        w.close()
