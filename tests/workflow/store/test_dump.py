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
    assert {"web_session", "spent_link"} <= dump.NOT_DUMPED
    assert {t.name for t in dump.all_tables()} == dumped | dump.NOT_DUMPED


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


def test_plain_rows_are_the_typed_rows_as_the_document_writes_them(wf):
    """The export reads straight from the driver, column by column: the same values as the models'
    typed rows converted one by one (a datetime with and without microseconds, from another zone)."""
    from datetime import datetime, timedelta, timezone

    from tests.conftest import ready_team, seed
    from workflow.formats.dump import _plain

    seed(wf)
    ready_team(wf, "Équipe « un »")
    wf.transitions.advance("Équipe « un »", "select")
    paris = timezone(timedelta(hours=2))
    with wf.store.write() as s:
        me = dump.rows(s, Person.__table__)[0]
        dump.insert(s, Person.__table__, [
            {**me._mapping, "id": 40, "email": "x@example.org",
             "created_at": datetime(2020, 7, 1, 9, 30, 5, 123, paris)},
            {**me._mapping, "id": 41, "email": "y@example.org", "created_at": datetime(2020, 7, 1, 9, 30, tzinfo=paris)},
        ], batch=1)
    with wf.store.read() as s:
        for table in dump.tables():
            kinds = [dump.kind(c) for c in table.columns]
            typed = [tuple(_plain(v, k) for v, k in zip(r, kinds)) for r in dump.rows(s, table)]
            assert [tuple(r) for r in dump.plain_rows(s, table)] == typed, table.name
        people = {r[0]: r for r in dump.plain_rows(s, Person.__table__)}
    at = list(Person.__table__.columns).index(Person.__table__.c.created_at)
    assert (people[40][at], people[41][at]) == ("2020-07-01T07:30:05.000123+00:00", "2020-07-01T07:30:00+00:00")


def test_rows_without_a_column_get_its_default(wf):
    """Rows that leave out a column with a default (a backup of an older schema) go through SQLAlchemy,
    which fills it in; the others straight to the driver."""
    with wf.store.write() as s:
        me = dict(dump.rows(s, Person.__table__)[0]._mapping)
        short = {k: v for k, v in me.items() if k != "link_generation"}
        dump.insert(s, Person.__table__, [{**short, "id": 50, "email": "a@example.org"},
                                          {**short, "id": 51, "email": "b@example.org"}], batch=10)
        dump.insert(s, Person.__table__, [{**me, "id": 52, "email": "c@example.org", "link_generation": 3}], batch=10)
    with wf.store.read() as s:
        got = {r.id: r.link_generation for r in dump.rows(s, Person.__table__) if r.id >= 50}
    assert got == {50: 0, 51: 0, 52: 3}


def test_a_traced_engine_sees_the_dump_statements(wf):
    """Someone listening to the engine's statements (the benchmarks' SQL trace) sees the bulk read and
    the bulk insert too, with the same rows."""
    import sqlalchemy as sa

    seen: list[str] = []

    def listener(conn, cursor, statement, *args):
        seen.append(statement)

    with wf.store.read() as s:
        plain = dump.plain_rows(s, Person.__table__)
    sa.event.listen(wf.store.engine, "before_cursor_execute", listener)
    try:
        with wf.store.read() as s:
            assert dump.plain_rows(s, Person.__table__) == plain
        with wf.store.write() as s:
            me = dict(dump.rows(s, Person.__table__)[0]._mapping)
            dump.insert(s, Person.__table__, [{**me, "id": 60, "email": "t@example.org"}], batch=10)
            with pytest.raises(dump.InsertFailed):
                dump.insert(s, Person.__table__, [{**me, "id": 61}], batch=10)  # the same e-mail
    finally:
        sa.event.remove(wf.store.engine, "before_cursor_execute", listener)
    assert any(q.startswith("SELECT") and "person" in q for q in seen)
    assert sum(q.startswith("INSERT INTO person") for q in seen) >= 1


def test_plain_rows_of_stored_datetimes_of_another_shape_are_converted_as_before(wf):
    """The datetimes stored in SQLAlchemy's own shape are rewritten as text; a value of any other shape
    (written outside preincub: here without its microseconds) goes through the type's own conversion,
    to the same document values."""
    import sqlalchemy as sa

    from tests.conftest import seed
    from workflow.formats.dump import _plain

    if wf.store.dialect != "sqlite":
        pytest.skip("SQLite only (PostgreSQL's driver gives datetimes)")
    seed(wf)
    with wf.store.write() as s:
        conn = s.connection()
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM person ORDER BY id")]
        conn.exec_driver_sql("UPDATE person SET created_at = '2020-07-01 08:00:00' WHERE id = ?", (ids[0],))
    with wf.store.read() as s:
        for table in (Person.__table__,):
            kinds = [dump.kind(c) for c in table.columns]
            typed = [tuple(_plain(v, k) for v, k in zip(r, kinds)) for r in dump.rows(s, table)]
            assert [tuple(r) for r in dump.plain_rows(s, table)] == typed, table.name
        people = {r[0]: r for r in dump.plain_rows(s, Person.__table__)}
        stored = s.connection().execute(sa.text("SELECT created_at FROM person WHERE id = :i"), {"i": ids[1]}).scalar()
    at = list(Person.__table__.columns).index(Person.__table__.c.created_at)
    assert people[ids[0]][at] == "2020-07-01T08:00:00+00:00"
    assert people[ids[1]][at].startswith(f"{stored[:10]}T{stored[11:19]}")  # the others, rewritten
