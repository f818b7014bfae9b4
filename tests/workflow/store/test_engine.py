"""The store: migrations from empty, schema versions, foreign files, append-only audit."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from workflow.api import Workflow

from workflow.errors import StoreError
from workflow.store.engine import HEAD_REVISION, KNOWN_REVISIONS, alembic_config, open_store, resolve_url
from workflow.store.models import SQLModel
from workflow.records import GrantRecord, PersonRecord
from workflow.settings import Settings


def test_revision_constants_match_the_scripts():
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_current_head() == HEAD_REVISION
    assert set(KNOWN_REVISIONS) == {r.revision for r in script.walk_revisions()}


def test_migrations_from_empty_match_the_models(db_url):
    store = open_store(db_url, create=True)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        rev = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    store.close()
    assert diff == []
    assert rev == HEAD_REVISION


def test_init_is_idempotent_and_keeps_data(db_url, clock):
    w = Workflow.open(db_url, clock=clock, create=True)
    w.directory.add_programme("P", date(2020, 6, 23))
    w.close()
    w = Workflow.open(db_url, clock=clock, create=True)
    assert [p.name for p in w.directory.programmes()] == ["P"]
    w.close()


def test_a_newer_store_is_refused(db_url):
    open_store(db_url, create=True).close()
    eng = sa.create_engine(resolve_url(db_url))
    with eng.begin() as c:
        c.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    eng.dispose()
    for create in (False, True):
        with pytest.raises(StoreError, match="newer preincub"):
            open_store(db_url, create=create)


def test_an_empty_database_needs_init(db_url):
    with pytest.raises(StoreError, match="first") as err:  # the CLI adds the command, by code
        open_store(db_url)
    assert err.value.code in ("no_store", "store_empty")


def test_a_foreign_database_is_refused_even_by_init(db_url):
    eng = sa.create_engine(resolve_url(db_url))
    with eng.begin() as c:
        c.execute(sa.text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    eng.dispose()
    for create in (False, True):
        with pytest.raises(StoreError, match="not preincub's"):
            open_store(db_url, create=create)


def test_a_missing_file_is_not_created_by_a_read(tmp_path):
    path = tmp_path / "nothing.db"
    with pytest.raises(StoreError, match="no store at .*; create it first") as err:
        open_store(str(path))
    assert err.value.code == "no_store"
    assert not path.exists()


def test_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"this is not sqlite\n" * 100)
    before = path.read_bytes()
    for create in (False, True):
        with pytest.raises(StoreError, match="not an SQLite database"):
            open_store(str(path), create=create)
    assert path.read_bytes() == before


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path):
    store = open_store(str(tmp_path / "s.db"), create=True)
    with store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    store.close()


def test_the_audit_trail_refuses_update_of_a_hashed_column_and_delete(wf):
    wf.directory.add_programme("P", date(2020, 6, 23))
    with wf.store.read() as s:
        before = s.execute(sa.text("SELECT * FROM event ORDER BY id")).all()
    assert [e.action for e in before] == ["person.add", "programme.add", "person.grant"]  # its coordinator granted
    for sql in ("UPDATE event SET action = 'team.add'", "UPDATE event SET forced = NOT forced", "UPDATE event SET digest = NULL",
                "UPDATE event SET hash = 'x'", "UPDATE event SET id = id + 100", "UPDATE event SET actor_id = NULL",
                "DELETE FROM event", "DELETE FROM event WHERE id = 1"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with wf.store.write() as s:
                s.execute(sa.text(sql))
    with wf.store.read() as s:
        assert s.execute(sa.text("SELECT * FROM event ORDER BY id")).all() == before
    # The personal part may be rewritten (the database lets an erasure or a purge do it), but a salt
    # forgotten without an erasure or purge event listing that event is a broken link.
    with wf.store.write() as s:
        s.execute(sa.text("UPDATE event SET actor = 'erased', reason = NULL, data = NULL, salt = NULL WHERE id = 2"))
    with pytest.raises(StoreError) as caught:
        wf.audit.verify()
    assert (caught.value.params["problem"], caught.value.params["event"]) == ("unreleased", 2)


def test_default_location_is_the_user_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("PREINCUB_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert resolve_url(None) == f"sqlite:///{tmp_path}/preincub/preincub.db"
    monkeypatch.setenv("PREINCUB_DB", str(tmp_path / "x.db"))  # read once, by the settings
    assert resolve_url(Settings.from_env().store.db) == f"sqlite:///{tmp_path}/x.db"
    assert Workflow.open(create=True).store.url == f"sqlite:///{tmp_path}/x.db"
    assert resolve_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"


def test_an_older_store_is_refused_then_upgraded_by_init_keeping_its_data(db_url):
    from workflow.store.engine import make_engine, upgrade

    engine = make_engine(resolve_url(db_url))
    upgrade(engine, "0001")  # a store as the first release left it
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO person (id, name, email, created_at) "
                          "VALUES (1, 'Camille', 'camille@example.org', '2020-06-23 08:00:00')"))
        c.execute(sa.text("INSERT INTO person_role (person_id, role) VALUES (1, 'coordinator')"))
    engine.dispose()
    with pytest.raises(StoreError, match=r"older schema \(0001\); upgrade it first"):
        open_store(db_url)
    w = Workflow.open(db_url, create=True, actor="camille@example.org")
    # 0009: with no programme to coordinate, the coordinator administers the instance (adds programmes)
    assert w.directory.people() == [PersonRecord("Camille", "camille@example.org", ("admin",), ("email",), "fr",
                                                 (GrantRecord("admin"),))]
    with w.store.read() as s:
        assert s.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION
    w.close()


def test_ping_answers_until_the_file_is_replaced(tmp_path):
    """The web service's health check: a trivial query on the file opened, refused once it is replaced."""
    path = tmp_path / "s.db"
    store = open_store(str(path), create=True)
    try:
        store.ping()
        path.rename(tmp_path / "moved.db")
        open_store(str(path), create=True).close()  # another store now at that path
        with pytest.raises(StoreError) as gone:
            store.ping()
        assert gone.value.code == "store_replaced"
    finally:
        store.close()


def test_reads_on_postgresql_keep_the_connections_prepared_statements(db_url):
    """psycopg forgets its prepared statements at every ROLLBACK (DEALLOCATE ALL): a read ends with a
    COMMIT, so a statement run often (an advance's guards view) is planned once, not at every run."""
    if db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only (SQLite prepares nothing on the server)")
    store = open_store(db_url, create=True)
    try:
        query = sa.select(sa.func.count()).select_from(sa.table("programme")).where(sa.column("id") > 0)
        for _ in range(8):  # psycopg prepares a statement at its fifth run on a connection
            with store.read() as s:
                s.execute(query).scalar_one()
        with store.read() as s:
            prepared = s.execute(sa.text("SELECT count(*) FROM pg_prepared_statements")).scalar_one()
        assert prepared >= 1
    finally:
        store.close()
