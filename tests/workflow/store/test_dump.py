"""What the JSON dump reads and writes in the store, on both stores: tables in dependency order, each
column's kind, unique keys, rows by primary key, an empty store, inserts the store refuses."""

from __future__ import annotations

import pytest

from tests.conftest import COORD
from workflow.store import dump
from workflow.store.engine import open_store
from workflow.store.models import Funding, Outbox, Person, Programme, Team


def test_tables_come_after_the_tables_they_refer_to():
    names = [t.name for t in dump.tables()]
    assert names.index("programme") < names.index("partner") < names.index("team") < names.index("checkin")
    assert names.index("person") < names.index("checkin")


def test_a_dump_leaves_out_who_is_signed_in_but_an_import_still_sees_them():
    dumped = {t.name for t in dump.tables()}
    assert {"web_session", "spent_link"}.isdisjoint(dumped) and {"person", "person_mute"} <= dumped
    assert {t.name for t in dump.all_tables()} == dumped | {"web_session", "spent_link"}


def test_each_column_has_its_kind_and_money_is_big():
    cols = Outbox.__table__.c
    assert [dump.kind(c) for c in (cols.due_at, cols.attempts, cols.key)] == ["datetime", "int", "str"]
    assert dump.kind(Programme.__table__.c.signed_on) == "date"
    assert dump.kind(Team.__table__.c.committee_on) == "date"
    assert dump.big(Funding.__table__.c.cap_cents) and not dump.big(Funding.__table__.c.share_bp)


def test_unique_keys_primary_key_first():
    keys = dump.uniques(Funding.__table__)
    assert keys[0] == ("id",) and ("programme_id", "partner_id") in keys
    assert dump.uniques(Person.__table__)[0] == ("id",) and ("email",) in dump.uniques(Person.__table__)


def test_a_new_store_is_empty_until_someone_is_added(db_url):
    store = open_store(db_url, create=True)
    try:
        with store.read() as s:
            assert dump.is_empty(s)
    finally:
        store.close()


def test_rows_by_primary_key_and_a_refused_insert(wf):
    person = Person.__table__
    with wf.store.read() as s:
        assert not dump.is_empty(s)
        [me] = dump.rows(s, person)
        assert me.email == COORD
    with wf.store.write() as s:
        dump.lock_all(s)
        with pytest.raises(dump.InsertFailed) as e:
            dump.insert(s, person, [{**me._mapping}], batch=10)  # the same id and e-mail again
        assert e.value.detail and "\n" not in e.value.detail


def test_sequences_continue_after_explicit_ids(wf):
    with wf.store.write() as s:
        me = dump.rows(s, Person.__table__)[0]
        dump.insert(s, Person.__table__, [{**me._mapping, "id": 40, "email": "x@example.org"}], batch=10)
        dump.reset_sequences(s)
    wf.directory.add_person("Y", "y@example.org", ["coach"])
    with wf.store.read() as s:
        last = dump.rows(s, Person.__table__)[-1]  # by id: after the explicit 40, not in a hole before it
        assert (last.email, last.id > 40) == ("y@example.org", True)
