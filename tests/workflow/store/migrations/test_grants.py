"""Migration 0009 (workflow/store/migrations/versions/0009_grants.py), and a backup of before it restored
(``import-all``) the same way: the global coordinator and committee roles become grants in every programme,
the first coordinator also administers the instance; team roles stay; the audit trail still verifies;
nothing anyone can do is widened. SQLite, and PostgreSQL when configured."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from workflow.api import Workflow
from workflow.clock import PARIS, FixedClock
from workflow.errors import Forbidden
from workflow.formats import dump as dump_format
from workflow.rules.permissions import Grant
from workflow.store import events, people
from workflow.store.dump import kind, tables
from workflow.store.engine import HEAD_REVISION, make_engine, resolve_url, upgrade

ALICE, BRUNO, CHLOE = "alice@example.org", "bruno@example.org", "chloe@example.org"
COACH_A, COACH_B, AGENT = "coach.a@example.org", "coach.b@example.org", "agent@example.org"
CLOCK = FixedClock(datetime(2020, 7, 1, 10, 0, tzinfo=PARIS))
TEAM_ROLES = {4: {"coach"}, 5: {"coach"}, 6: {"intrapreneur"}}


def _old_roles_figure(conn, name, ids=None):
    """The roles' figure as preincub 0008 recorded it: person_role rows only (no person_grant table yet)."""
    t = events.figure_table("person_role")
    q = sa.select(t.c.person_id, t.c.role)
    return events.grouped_roles(conn.execute(q if ids is None else q.where(t.c.person_id.in_(ids))).all())


def store_at_0008(url: str, monkeypatch, *, old_seal: bool) -> None:
    """A store at revision 0008, its rows written before the chain (0006) and chained by 0007: two
    coordinators (Alice first), a committee member, two coaches and an intrapreneur; programmes P and Q
    with a partner body and a team each. ``old_seal``: its roles sealed as preincub 0008 sealed them
    (a store migrated by the previous release) rather than left for 0009."""
    engine = make_engine(url)
    upgrade(engine, "0006")
    ts = "'2020-06-23 08:00:00.000000'"
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO person (id, name, email, created_at, channels, lang) VALUES " + ", ".join(
            f"({i}, '{n}', '{e}', {ts}, 'email', 'fr')" for i, n, e in (
                (1, "Alice", ALICE), (2, "Bruno", BRUNO), (3, "Chloé", CHLOE), (4, "Coach A", COACH_A),
                (5, "Coach B", COACH_B), (6, "Agent", AGENT)))))
        c.execute(sa.text("INSERT INTO person_role (person_id, role) VALUES (2, 'coordinator'), (1, 'coordinator'), "
                          "(3, 'committee'), (4, 'coach'), (5, 'coach'), (6, 'intrapreneur')"))
        c.execute(sa.text("INSERT INTO programme (id, name, kind, signed_on, months, capacity, min_days_per_week, "
                          f"created_at) VALUES (1, 'P', 'preincubation', '2020-06-23', 6, 8, 1, {ts}), "
                          f"(2, 'Q', 'preincubation', '2020-06-23', 6, 8, 1, {ts})"))
        c.execute(sa.text("INSERT INTO partner (id, programme_id, name, kind) VALUES (1, 1, 'X', 'departement'), "
                          "(2, 2, 'Y', 'departement')"))
        c.execute(sa.text("INSERT INTO team (id, name, programme_id, partner_id, phase, phase_since, version, "
                          f"created_at) VALUES (1, 'Alpha', 1, 1, 'call_for_projects', {ts}, 1, {ts}), "
                          f"(2, 'Beta', 2, 2, 'call_for_projects', {ts}, 1, {ts})"))
        c.execute(sa.text("INSERT INTO team_member (team_id, person_id, role, days_per_week) VALUES "
                          "(1, 4, 'coach', NULL), (1, 6, 'intrapreneur', 1), (2, 5, 'coach', NULL)"))
        c.execute(sa.text("INSERT INTO event (id, at, actor, team_id, action, to_phase, forced) VALUES "
                          f"(1, {ts}, '{ALICE}', 1, 'team.add', 'call_for_projects', false), "
                          f"(2, {ts}, '{BRUNO}', 2, 'team.add', 'call_for_projects', false)"))
        if engine.dialect.name == "postgresql":  # ids given: the sequences move on as they would have
            for table in ("event", "person", "programme", "partner", "team"):
                c.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    upgrade(engine, "0008")
    if old_seal:
        with engine.begin() as c, monkeypatch.context() as m:
            m.setattr(events, "figure_rows", _old_roles_figure)
            events.seal_existing(c, names=[events.ROLES_FIGURE])
    with engine.connect() as c:  # still global roles at 0008
        assert set(c.execute(sa.text("SELECT person_id, role FROM person_role WHERE role IN "
                                     "('coordinator', 'committee')")).all()) == {(1, "coordinator"), (2, "coordinator"),
                                                                                  (3, "committee")}
    engine.dispose()


def check_mapped(w: Workflow) -> None:
    """What 0009 (or a restore of a backup of before it) must give: grants in every programme, the first
    coordinator administrator, team roles unchanged, the trail valid, and nothing widened."""
    with w.store.read() as s:
        conn = s.connection()
        grants = {pid: people.grants(conn, pid) for pid in range(1, 7)}
        left = set(conn.execute(sa.text("SELECT person_id, role FROM person_role")).all())
    assert grants[1] == {Grant("admin"), Grant("coordinator", 1), Grant("coordinator", 2)}
    assert grants[2] == {Grant("coordinator", 1), Grant("coordinator", 2)}
    assert grants[3] == {Grant("committee", 1), Grant("committee", 2)}
    assert {pid: {g.role for g in grants[pid]} for pid in TEAM_ROLES} == TEAM_ROLES  # team roles: unchanged
    assert left == {(pid, r) for pid, roles in TEAM_ROLES.items() for r in roles}
    for who in (ALICE, BRUNO):  # the trail verifies, for either coordinator
        assert w.acting_as(who).audit.verify().events >= 3
    # Nothing widened: each coach still reads only their team; the committee member both, as before.
    assert w.acting_as(COACH_A).teams.show("Alpha").name == "Alpha"
    with pytest.raises(Forbidden):
        w.acting_as(COACH_A).teams.show("Beta")
    with pytest.raises(Forbidden):
        w.acting_as(COACH_B).teams.show("Alpha")
    with pytest.raises(Forbidden):
        w.acting_as(AGENT).teams.show("Beta")
    assert {w.acting_as(CHLOE).teams.show(t).name for t in ("Alpha", "Beta")} == {"Alpha", "Beta"}
    # Bruno, not the first coordinator, no longer adds programmes; Alice, the administrator, does.
    with pytest.raises(Forbidden):
        w.acting_as(BRUNO).directory.add_programme("R", date(2020, 9, 1))
    w.acting_as(ALICE).directory.add_programme("R", date(2020, 9, 1))
    assert w.acting_as(ALICE).audit.verify().events >= 4


@pytest.mark.parametrize("old_seal", [True, False], ids=["sealed-by-0008", "sealed-by-0009"])
def test_0009_grants_every_coordinator_and_committee_member_in_every_programme(db_url, monkeypatch, old_seal):
    url = resolve_url(db_url)
    store_at_0008(url, monkeypatch, old_seal=old_seal)
    w = Workflow.open(db_url, create=True, actor=ALICE, clock=CLOCK)  # upgrades it
    try:
        with w.store.read() as s:
            assert s.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION
            seal = s.execute(sa.text("SELECT figures FROM event WHERE action = 'audit.seal' ORDER BY id DESC")).first()
        assert json.loads(seal[0])["roles"]["1"] == {"roles": ["admin", "coordinator:p1", "coordinator:p2"]}
        check_mapped(w)
    finally:
        w.close()


def test_0009_with_no_programme_keeps_every_coordinator_an_administrator(db_url):
    """With no programme to coordinate, every coordinator administers (adds programmes, as before); a
    committee member of no programme is left with nothing, recorded so: the trail still verifies."""
    url = resolve_url(db_url)
    engine = make_engine(url)
    upgrade(engine, "0008")
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO person (id, name, email, created_at, channels, lang, link_generation) VALUES "
                          "(1, 'Alice', :a, '2020-06-23 08:00:00.000000', 'email', 'fr', 0), "
                          "(2, 'Bruno', :b, '2020-06-23 08:00:00.000000', 'email', 'fr', 0), "
                          "(3, 'Chloé', :c, '2020-06-23 08:00:00.000000', 'email', 'fr', 0)"),
                  {"a": ALICE, "b": BRUNO, "c": CHLOE})
        c.execute(sa.text("INSERT INTO person_role (person_id, role) VALUES (1, 'coordinator'), (2, 'coordinator'), "
                          "(3, 'committee')"))
        if engine.dialect.name == "postgresql":
            c.execute(sa.text("SELECT setval(pg_get_serial_sequence('person', 'id'), 3)"))
        with pytest.MonkeyPatch.context() as m:  # sealed as preincub 0008 did
            m.setattr(events, "figure_rows", _old_roles_figure)
            events.seal_existing(c, names=[events.ROLES_FIGURE])
    engine.dispose()
    w = Workflow.open(db_url, create=True, actor=BRUNO, clock=CLOCK)
    try:
        with w.store.read() as s:
            conn = s.connection()
            assert [people.grants(conn, pid) for pid in (1, 2, 3)] == [{Grant("admin")}, {Grant("admin")}, set()]
        assert w.audit.verify().events == 2  # 0008's seal, then 0009's (Chloé's roles: gone)
        w.directory.add_programme("P", date(2020, 6, 23))
        assert w.audit.verify().events > 2
    finally:
        w.close()


def doc_of(url: str, schema: str) -> dict:
    """A JSON backup (``export-all``'s document) of the store at ``url`` as that schema's preincub wrote
    it: the tables and columns the store has, read with the models' types."""
    engine = make_engine(url)
    insp = sa.inspect(engine)
    present = set(insp.get_table_names())
    out = {}
    with engine.connect() as c:
        for t in tables():
            if t.name not in present:
                continue
            names = {col["name"] for col in insp.get_columns(t.name)}
            cols = [col for col in t.columns if col.name in names]
            rows = c.execute(sa.select(*cols).order_by(*t.primary_key.columns)).all()
            out[t.name] = {"columns": [col.name for col in cols],
                           "rows": [[dump_format._plain(v, kind(col)) for v, col in zip(r, cols)] for r in rows]}
    engine.dispose()
    return {"format": dump_format.FORMAT, "version": dump_format.VERSION, "schema": schema,
            "exported_at": "2020-07-01T10:00:00+02:00", "exported_by": ALICE, "tables": out}


def test_import_all_maps_a_backup_of_before_grants_as_the_migration(tmp_path, monkeypatch):
    """``import-all`` of a 0008 backup (made by the previous release: its roles sealed by 0008) restores
    the same grants as migration 0009, with a valid trail."""
    source = f"sqlite:///{tmp_path / 'old.db'}"
    store_at_0008(source, monkeypatch, old_seal=True)
    doc = doc_of(source, "0008")
    assert "person_grant" not in doc["tables"]
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    rec = dump_format.import_all(target, json.dumps(doc))
    assert rec.schema == "0008" and rec.rows["person_grant"] == 0  # the backup's rows; the grants made on restore
    w = Workflow.open(target, actor=ALICE, clock=CLOCK)
    try:
        check_mapped(w)
        again = w.dump.export()  # and a backup of the restored store carries the grants
        assert len(again["tables"]["person_grant"]["rows"]) == 8  # with R, added by Alice
    finally:
        w.close()
    restored = f"sqlite:///{tmp_path / 'again.db'}"
    dump_format.import_all(restored, json.dumps(again))
    w = Workflow.open(restored, actor=ALICE, clock=CLOCK)
    try:
        with w.store.read() as s:
            assert people.grants(s.connection(), 2) == {Grant("coordinator", 1), Grant("coordinator", 2)}
        assert w.audit.verify().events >= 4
    finally:
        w.close()
