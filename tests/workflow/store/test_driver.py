"""The fast paths of ``advance`` and ``status``: the same results as SQLAlchemy's own path, on both stores."""

from __future__ import annotations

import gc
from dataclasses import replace
from datetime import date

import pytest
import sqlalchemy as sa

from tests.conftest import paris, ready_team, seed
from workflow.clock import FixedClock
from workflow.errors import ChangedMeanwhile
from workflow.api import Workflow
from workflow.store import driver
from workflow.store.driver import direct, direct_read
from workflow.services.listing import collected, gc_paused
from workflow.store.models import PhasePeriod, Team
from workflow.services.transitions import Transitions
from workflow.store.teams import _view_query


def test_a_stale_version_is_refused_and_nothing_is_written(wf, monkeypatch):
    """The compare-and-swap: a move over a version that changed since it was read writes nothing."""
    seed(wf)
    ready_team(wf, "T")
    before = wf.teams.show("T")
    events = len(wf.transitions.history("T"))
    real_read = Transitions.read

    def stale_read(self, *a, **k):
        t, view = real_read(self, *a, **k)
        return replace(t, version=t.version - 1), view  # another writer moved it on meanwhile

    monkeypatch.setattr(Transitions, "read", stale_read)
    with pytest.raises(ChangedMeanwhile, match="changed meanwhile, retry"):
        wf.transitions.advance("T", "select")
    monkeypatch.undo()
    after = wf.teams.show("T")
    assert (after.phase, after.version, after.phases) == (before.phase, before.version, before.phases)
    assert len(wf.transitions.history("T")) == events
    assert wf.transitions.advance("T", "select").to == "investigation"


def test_the_guards_view_is_read_as_sqlalchemy_reads_it(wf):
    """Dates, booleans, counts and the IN lists of the one read of ``advance``, through the driver's
    cursor on SQLite, equal SQLAlchemy's own result."""
    seed(wf)
    ready_team(wf, "T")
    for count_taken in (True, False):
        q = _view_query(count_taken)
        params = {"name": "T", "taken": 3}
        with wf.store.write() as s:
            conn = s.connection()
            expected = tuple(conn.execute(q, params).one())
            got = tuple(direct(wf.store, conn).execute(q, params).one())
        reader = direct_read(wf.store)  # outside any transaction (SQLite; elsewhere the session reads)
        if reader is not None:
            assert tuple(reader.execute(q, params).first()) == expected
            with pytest.raises(TypeError):
                reader.execute(sa.update(Team.__table__).values(version=1))
        assert got == expected
        assert isinstance(got[12], date)  # the programme's signature date, processed
        assert got[18:21] == (True, True, True)  # the criteria, as booleans


def test_direct_statements_give_rowcount_ids_and_errors(wf):
    seed(wf)
    wf.teams.add("T", "Pré-incubation 2020", "Pas-de-Calais")
    now = paris(2020, 7, 2, 9, 0)
    period = PhasePeriod.__table__
    with wf.store.write() as s:
        conn = direct(wf.store, s.connection())
        tid = conn.execute(sa.select(Team.id).where(Team.name == sa.bindparam("n")), {"n": "T"}).scalar_one()
        res = conn.execute(sa.update(period).where(period.c.team_id == sa.bindparam("t"), period.c.end.is_(None))
                           .values(end=sa.bindparam("e")), {"t": tid, "e": now})
        assert res.rowcount == 1
        new = conn.execute(sa.insert(period), {"team_id": tid, "phase": "selection", "start": now})
        assert new.inserted_primary_key[0] is not None
        assert conn.execute(sa.select(period.c.start).where(period.c.id == sa.bindparam("i")),
                            {"i": new.inserted_primary_key[0]}).scalar_one() == now
        assert conn.execute(sa.select(Team.id).where(Team.name == sa.bindparam("n")), {"n": "nope"}).first() is None
        with pytest.raises(sa.exc.IntegrityError):  # as SQLAlchemy raises it: the store's handlers map it
            conn.execute(sa.insert(period), {"team_id": 10**6, "phase": "selection", "start": now})


def test_advance_is_unchanged_when_its_statements_are_traced(wf):
    """A listener on the engine's statements (the benchmark's trace) sees every statement of an advance."""
    seed(wf)
    ready_team(wf, "T")
    seen: list[str] = []

    def trace(conn, cursor, statement, *a):
        seen.append(statement.split()[0].upper())

    sa.event.listen(wf.store.engine, "before_cursor_execute", trace)
    try:
        assert wf.transitions.advance("T", "select").to == "investigation"
    finally:
        sa.event.remove(wf.store.engine, "before_cursor_execute", trace)
    assert seen.count("UPDATE") >= 3 and seen.count("INSERT") >= 2


def test_status_coach_is_the_first_by_email_and_the_collector_is_resumed(wf):
    seed(wf)
    wf.directory.add_person("Coach Deux", "another.coach@example.org", ["coach"])
    wf.teams.add("T", "Pré-incubation 2020", "Pas-de-Calais", coach="coach@example.org")
    wf.teams.add("U", "Pré-incubation 2020", "Pas-de-Calais")
    with wf.store.write() as s:  # a second coach on T (the CLI names one; an import may name more)
        s.connection().execute(sa.text("INSERT INTO team_member (team_id, person_id, role) "
                                       "SELECT t.id, p.id, 'coach' FROM team t, person p "
                                       "WHERE t.name = 'T' AND p.email = 'another.coach@example.org'"))
    assert gc.isenabled()
    assert [(r.name, r.coach) for r in wf.teams.status()] == [("T", "another.coach@example.org"), ("U", None)]
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        assert collected(iter([1, 2])) == [1, 2]
        assert not gc.isenabled()  # paused by the caller: left paused
    assert gc.isenabled()


def test_status_filters_coaches_to_the_teams_shown(wf):
    """A coach sees only their teams, each with its coach; the programme filter keeps the coach map in step."""
    seed(wf)
    wf.teams.add("T", "Pré-incubation 2020", "Pas-de-Calais", coach="coach@example.org")
    wf.teams.add("U", "Pré-incubation 2020", "Pas-de-Calais")
    coach = Workflow(wf.store, FixedClock(paris(2020, 7, 2, 9, 0)), "coach@example.org")
    assert [(r.name, r.coach) for r in coach.teams.status()] == [("T", "coach@example.org")]
    assert [(r.name, r.coach) for r in wf.teams.status("Pré-incubation 2020")] == [("T", "coach@example.org"), ("U", None)]


def test_status_json_rows_are_the_bytes_of_one_dump(capsys):
    """``emit_json_rows`` (batches, columns through memos) writes what ``json.dumps`` of the whole list
    gives, escapes included: hostile text, DEL and C1 controls, bidi overrides, ``%``, quotes, bools
    next to ints (True == 1 as dict keys), more rows than a batch."""
    import json

    from commands import output
    from workflow.records import TeamRow, plain

    odd = ["[/]", "<script>", "50 % \"dit\"", "\u202eevil", "del\x7f", "c1\x85", "Équipe", "tab\t", "1"]
    rows = [TeamRow(name=f"{odd[i % len(odd)]} {i}", programme=odd[i % 3], partner=None if i % 4 else odd[i % 5],
                    phase="investigation", phase_since=odd[i % 7], coach=None, deadline="2020-12-23",
                    days_left=[1, 0, None, -3][i % 4], last_checkin=None, weeks_missing=[1, 0, None][i % 3],
                    drifting=[True, False][i % 2]) for i in range(45)]
    output.emit_json_rows(iter(rows), batch=7)  # captured: not a terminal, so compact
    got = capsys.readouterr().out
    assert got == output._json_text(plain(rows), None) + "\n"
    assert "\\u202e" in got and "\\u007f" in got and "\\u0085" in got
    assert json.loads(got)[0]["drifting"] is True and json.loads(got)[1]["days_left"] == 0


def test_direct_write_commits_whole_or_not_at_all(wf):
    """``Store.direct_write`` (advance's transaction): on SQLite the driver's own BEGIN IMMEDIATE ...
    COMMIT, no session; a failure halfway leaves nothing, and a statement it cannot prepare there is
    refused before it runs."""
    seed(wf)
    wf.teams.add("T", "Pré-incubation 2020", "Pas-de-Calais")
    period = PhasePeriod.__table__
    now = paris(2020, 7, 2, 9, 0)
    count = sa.select(sa.func.count()).select_from(period)
    with wf.store.read() as s:
        before = s.execute(count).scalar_one()
    with wf.store.read() as s:
        tid = s.execute(sa.select(Team.id).where(Team.name == "T")).scalar_one()
    with wf.store.direct_write() as conn:
        conn.execute(sa.insert(period), {"team_id": tid, "phase": "selection", "start": now})
    with pytest.raises(sa.exc.IntegrityError):  # as SQLAlchemy raises it: the store's handlers map it
        with wf.store.direct_write() as conn:
            conn.execute(sa.insert(period), {"team_id": tid, "phase": "investigation", "start": now})
            conn.execute(sa.insert(period), {"team_id": 10**6, "phase": "selection", "start": now})
    if wf.store.dialect == "sqlite":
        with pytest.raises(TypeError, match="cannot run this statement"):
            with wf.store.direct_write() as conn:
                conn.execute(sa.insert(period), {"team_id": tid, "phase": "investigation", "start": now})
                conn.execute(sa.insert(period).returning(period.c.id),
                             {"team_id": tid, "phase": "investigation", "start": now})
    with wf.store.read() as s:
        assert s.execute(count).scalar_one() == before + 1
    with wf.store.direct_write() as conn:  # the store is free again: no lock left behind
        conn.execute(sa.insert(period), {"team_id": tid, "phase": "investigation", "start": now})
    with wf.store.read() as s:
        assert s.execute(count).scalar_one() == before + 2


def test_direct_write_on_a_store_locked_by_another_process_says_retry(wf, monkeypatch):
    """Another process holds SQLite's write lock past the busy timeout: advance says retry (exit 3)."""
    if wf.store.dialect != "sqlite":
        pytest.skip("SQLite's database lock; PostgreSQL locks rows")
    import sqlite3

    seed(wf)
    ready_team(wf, "T")
    other = sqlite3.connect(str(wf.store.path), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")

        @sa.event.listens_for(wf.store.engine, "checkout")
        def short_wait(dbapi_conn, *_):
            dbapi_conn.execute("PRAGMA busy_timeout = 50")

        with pytest.raises(ChangedMeanwhile, match="busy"):
            wf.transitions.advance("T", "select")
        sa.event.remove(wf.store.engine, "checkout", short_wait)
    finally:
        other.rollback()
        other.close()
    assert wf.teams.show("T").phase == "selection"


def test_the_driver_paths_say_why_a_connection_cannot_be_opened(wf, monkeypatch):
    """No idle connection and the file cannot be opened (no file descriptor left, a -wal that cannot be
    made): advance's driver paths give the store's one-line error, as the session paths do."""
    if wf.store.dialect != "sqlite":
        pytest.skip("SQLite's driver paths")
    import sqlite3

    from workflow.errors import StoreError

    from workflow.store import files as storefile

    seed(wf)
    ready_team(wf, "T")
    wf.store.engine.dispose()  # the pool is empty: the next checkout opens the file
    monkeypatch.setattr(storefile, "sqlite_connect", lambda path, mode: sqlite3.connect("/nonexistent/dir/x.db"))
    with pytest.raises(StoreError, match="unable to open database file"):
        with wf.store.direct_write():
            pass
    with pytest.raises(StoreError, match="unable to open database file"):
        with wf.store.read():  # as advance reads: the store's read maps the driver's errors
            direct_read(wf.store).execute(_view_query(False), {"name": "T", "taken": 0})
    monkeypatch.undo()
    assert wf.transitions.advance("T", "select").to == "investigation"


def test_insert_many_stores_what_sqlalchemy_would_and_a_direct_runs_it_too(wf):
    """``driver.insert_many`` (an import's rows and events): the values SQLAlchemy's executemany stores,
    aware times included; given a ``Direct`` (advance's transaction) it runs through it."""
    seed(wf)
    ready_team(wf, "T")
    table = PhasePeriod.__table__
    with wf.store.read() as s:
        tid = s.execute(sa.select(Team.id)).scalar_one()
    rows = [{"team_id": tid, "phase": "investigation", "start": paris(2020, 7, 1, 10, 0, i), "end": None}
            for i in range(3)]
    with wf.store.write() as s:
        conn = s.connection()
        driver.insert_many(conn, sa.insert(table), [dict(r, phase="poc_committee") for r in rows])
        conn.execute(sa.insert(table), [dict(r, phase="incubation") for r in rows])
    with wf.store.direct_write() as conn:
        driver.insert_many(conn, sa.insert(table), [dict(r, phase="abandoned") for r in rows])
    with wf.store.read() as s:
        got = {ph: s.execute(sa.select(table.c.start, table.c.end).where(table.c.phase == ph)
                             .order_by(table.c.id)).all() for ph in ("poc_committee", "incubation", "abandoned")}
    assert got["poc_committee"] == got["incubation"] == got["abandoned"] == [(r["start"], None) for r in rows]
