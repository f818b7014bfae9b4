"""The chain covers the figures (check-ins, funding, expenses, statements, payments, formal notices) and the
teams' phases: edited in the store or in a backup, ``audit verify`` and ``import-all`` catch it; a backup
says whether this instance signed it; a restore that fails leaves nothing behind."""

from __future__ import annotations

import json
import os
from datetime import date

import pytest
import sqlalchemy as sa

from tests.conftest import COORD, paris
from tests.workflow.test_audit import as_attacker, broken, session
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.services import audit
from workflow.store import files as storefile
from workflow.formats.dump import Origin, dumps, import_all
from workflow.store.engine import make_engine, resolve_url, upgrade
from workflow.errors import Invalid, StoreError

PROG, PARTNER = "Pré-incubation 2020", "Pas-de-Calais"


def money_and_notices(w: Workflow) -> None:
    """Every figure table gets rows: funding, an expense, a statement, the payment, a notice and its answer."""
    w.funding.set(PROG, PARTNER, cap="9 000", payment="after-statement")
    w = w.at(FixedClock(paris(2020, 9, 1, 10, 0)))
    w.funding.add_expense(PROG, "1 200", date(2020, 8, 3), "Ateliers usagers")
    w.funding.issue_statement(PROG, PARTNER)
    w.funding.pay(PROG, PARTNER, date(2020, 9, 1), "1 200")
    n = w.notices.add(PROG, PARTNER, date(2020, 8, 20), "Agent non libéré")
    w.notices.answer(n.id, date(2020, 8, 25), "Agent libéré depuis.")


@pytest.fixture
def rich(wf):
    session(wf)
    money_and_notices(wf)
    assert wf.audit.verify().events > 0
    return wf


EDITS = {
    "checkin hours": ("UPDATE checkin SET hours = 99", "checkin", "hours"),
    "checkin notes": ("UPDATE checkin SET notes = 'Tout va bien'", "checkin", "notes"),
    "checkin day": ("UPDATE checkin SET \"on\" = '2020-07-07'", "checkin", "on"),
    "expense amount": ("UPDATE expense SET amount_cents = amount_cents * 10", "expense", "amount_cents"),
    "expense label": ("UPDATE expense SET label = 'Autre'", "expense", "label"),
    "funding cap": ("UPDATE funding SET cap_cents = 90000000", "funding", "cap_cents"),
    "statement due": ("UPDATE statement SET due_cents = 1", "statement", "due_cents"),
    "payment amount": ("UPDATE payment SET amount_cents = 1", "payment", "amount_cents"),
    "notice answered": ("UPDATE notice SET answered_on = NULL", "notice", "answered_on"),
    "notice breach": ("UPDATE notice SET breach = 'Rien'", "notice", "breach"),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_editing_a_figure_in_the_store_breaks_the_trail(rich, edit):
    sql, table, column = EDITS[edit]
    as_attacker(rich, sql)
    params = broken(rich)
    assert params["problem"] == "figures" and params["column"] == column, params
    assert params["table"] == audit.FIGURE_LABELS[table]


def test_rows_written_or_deleted_outside_preincub_break_the_trail(rich):
    as_attacker(rich, "INSERT INTO expense (programme_id, amount_cents, \"on\", label, created_at) "
                      "SELECT programme_id, 500, \"on\", 'Ajout', created_at FROM expense")
    assert broken(rich)["problem"] == "unrecorded"


def test_a_deleted_payment_breaks_the_trail(rich):
    as_attacker(rich, "DELETE FROM payment")
    params = broken(rich)
    assert params["problem"] == "deleted" and params["table"] == "payment"


def test_an_edited_phase_breaks_the_trail(rich):
    as_attacker(rich, "UPDATE team SET phase = 'incubated' WHERE name = 'Insertion RSA'")
    params = broken(rich)
    assert params["problem"] == "phase" and params["phase"] == "incubated" and params["recorded"] == "poc_committee"


def test_erasure_and_purge_keep_the_trail_valid(rich):
    rich.directory.add_person("Autre Coordinatrice", "autre@example.org", ["coordinator"])
    rich.privacy.erase("coach@example.org", reason="Demande de la personne")
    assert rich.audit.verify().erased > 0
    rich = rich.at(FixedClock(paris(2022, 1, 10, 10, 0)))
    rich.privacy.purge(date(2022, 1, 1))
    record = rich.audit.verify()
    with rich.store.read() as s:
        assert s.execute(sa.text("SELECT notes FROM checkin")).scalars().all() == [None]
        assert s.execute(sa.text("SELECT label FROM expense")).scalars().all() == [""]
    assert record.events > 0


def test_the_figures_are_recorded_in_the_hashed_content(rich):
    """An attacker who rewrites the recorded figures to match an edit breaks the event's own hash."""
    as_attacker(rich, "UPDATE payment SET amount_cents = 1")
    with rich.store.read() as s:
        event_id, figures = s.execute(sa.text("SELECT id, figures FROM event WHERE action = 'funding.payment'")).one()
    forged = json.loads(figures)
    next(iter(forged["payment"].values()))["amount_cents"] = 1
    as_attacker(rich, f"UPDATE event SET figures = '{json.dumps(forged)}' WHERE id = {event_id}")
    params = broken(rich)
    assert params["problem"] == "changed" and params["event"] == event_id


# ---- the migration that brought the figures into the chain --------------------------------------------


def test_migration_0008_seals_the_rows_already_there(tmp_path):
    url = resolve_url(str(tmp_path / "old.db"))
    engine = make_engine(url)
    upgrade(engine, "0007")
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO person (id, name, email, channels, lang, created_at, link_generation) "
                          "VALUES (1, 'Coord', :e, 'email', 'fr', '2020-06-01 08:00:00.000000', 0)"), {"e": COORD})
        c.execute(sa.text("INSERT INTO person_role VALUES (1, 'coordinator')"))
        c.execute(sa.text("INSERT INTO programme (id, name, kind, signed_on, months, capacity, min_days_per_week, "
                          "created_at) VALUES (1, 'P', 'preincubation', '2020-06-23', 6, 8, 1, "
                          "'2020-06-01 08:00:00.000000')"))
        c.execute(sa.text("INSERT INTO expense (programme_id, amount_cents, \"on\", label, created_at) "
                          "VALUES (1, 120000, '2020-07-01', 'Ateliers', '2020-07-01 08:00:00.000000')"))
    upgrade(engine)
    engine.dispose()
    w = Workflow.open(url, actor=COORD)
    try:
        with w.store.read() as s:
            assert s.execute(sa.text("SELECT action FROM event ORDER BY id DESC LIMIT 1")).scalar() == "audit.seal"
        assert w.audit.verify().events == 2  # one for the expenses, one for the roles
        as_attacker(w, "UPDATE expense SET amount_cents = 1200000")
        assert broken(w)["problem"] == "figures"
    finally:
        w.close()


# ---- backups: verified before anything is written -----------------------------------------------------


def _cell(doc: dict, table: str, column: str, row: int = 0):
    part = doc["tables"][table]
    return part["rows"][row], part["columns"].index(column)


def _times(doc, table, column, factor):
    row, i = _cell(doc, table, column)
    row[i] = row[i] * factor


def _set(doc, table, column, value, where=None):
    part = doc["tables"][table]
    i = part["columns"].index(column)
    for row in part["rows"]:
        if where is None or where(dict(zip(part["columns"], row))):
            row[i] = value


def _drop_event(doc):
    doc["tables"]["event"]["rows"].pop(3)


TAMPERED = {
    "expense amount x10": (lambda d: _times(d, "expense", "amount_cents", 10), "figures"),
    "check-in hours 99": (lambda d: _set(d, "checkin", "hours", 99.0), "figures"),
    "deleted event": (_drop_event, "missing"),
    "edited reason": (lambda d: _set(d, "event", "reason", "Autre raison", lambda r: r["reason"]), "personal"),
    "edited event phase": (lambda d: _set(d, "event", "to_phase", "incubated",
                                          lambda r: r["to_phase"] == "poc_committee"), "changed"),
    "edited team phase": (lambda d: _set(d, "team", "phase", "incubated", lambda r: r["name"] == "Insertion RSA"),
                          "phase"),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_import_all_refuses_a_tampered_backup_and_writes_nothing(rich, tmp_path, case):
    tamper, problem = TAMPERED[case]
    doc = json.loads(dumps(rich.dump.export()))
    tamper(doc)
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(StoreError) as caught:
        import_all(str(tmp_path / "restored.db"), json.dumps(doc))
    assert caught.value.code == "backup_audit_broken" and caught.value.params["problem"] == problem
    assert sorted(os.listdir(tmp_path)) == before  # nothing written, not even a file


def test_an_untouched_backup_restores_and_verifies(rich, tmp_path):
    target = tmp_path / "restored.db"
    record = import_all(str(target), dumps(rich.dump.export()))
    assert record.origin == Origin.THIS_INSTANCE  # the key file the store's creation made
    w = Workflow.open(str(target), actor=COORD)
    try:
        assert w.audit.verify() == rich.audit.verify()
    finally:
        w.close()


# ---- signatures ----------------------------------------------------------------------------------------


def test_a_backup_is_signed_with_the_instance_key(rich, tmp_path, monkeypatch):
    from workflow.settings import Settings

    monkeypatch.setenv("PREINCUB_SECRET_KEY", "k" * 40)
    here = Settings.from_env()
    signed = Workflow.open(rich.store.url, actor=COORD, settings=here).dump.export()
    assert signed["signature"]["alg"] == "hmac-sha256"
    assert import_all(str(tmp_path / "a.db"), dumps(signed), settings=here).origin == Origin.THIS_INSTANCE

    monkeypatch.setenv("PREINCUB_SECRET_KEY", "another instance's key, long enough")
    other = Settings.from_env()
    assert import_all(str(tmp_path / "b.db"), dumps(signed), settings=other).origin == Origin.OTHER
    with pytest.raises(Invalid) as caught:
        import_all(str(tmp_path / "c.db"), dumps(signed), settings=other, require_signature=True)
    assert caught.value.code == "backup_not_signed" and not (tmp_path / "c.db").exists()

    # One value changed, the chain recomputed by someone without the key: not signed by this instance.
    doc = json.loads(dumps(signed))
    doc["exported_by"] = "someone@else.example"
    assert import_all(str(tmp_path / "d.db"), json.dumps(doc), settings=here).origin == Origin.OTHER
    unsigned = {k: v for k, v in signed.items() if k != "signature"}
    with pytest.raises(Invalid):
        import_all(str(tmp_path / "e.db"), dumps(unsigned), settings=here, require_signature=True)
    assert import_all(str(tmp_path / "f.db"), dumps(unsigned), settings=here).origin == Origin.UNSIGNED


# ---- a restore that fails leaves nothing behind ----------------------------------------------------------


def test_a_full_disk_during_a_restore_leaves_nothing_behind(rich, tmp_path, monkeypatch):
    backup = dumps(rich.dump.export())
    folder = tmp_path / "restore"
    folder.mkdir()
    real = storefile.sqlite_connect

    def full(path, mode):  # every restore connection limited to a few pages: SQLITE_FULL, as on a full disk
        con = real(path, mode)
        con.execute("PRAGMA max_page_count = 30")
        return con

    monkeypatch.setattr(storefile, "sqlite_connect", full)
    with pytest.raises(StoreError) as caught:
        import_all(str(folder / "new.db"), backup)
    assert caught.value.code == "disk_full" and "new.db" in str(caught.value)
    assert ".restoring" not in str(caught.value)
    assert os.listdir(folder) == []
    monkeypatch.setattr(storefile, "sqlite_connect", real)
    record = import_all(str(folder / "new.db"), backup)  # space freed: the same command works
    assert record.created and os.listdir(folder) == ["new.db"]
    assert os.stat(folder / "new.db").st_mode & 0o777 == 0o600


def test_a_restore_into_an_existing_empty_file_replaces_it_whole(rich, tmp_path):
    folder = tmp_path / "given"
    folder.mkdir()
    target = folder / "given.db"
    target.touch()
    import_all(str(target), dumps(rich.dump.export()))
    assert os.listdir(folder) == ["given.db"]  # no temporary file, no -wal or -shm left
    w = Workflow.open(str(target), actor=COORD)
    try:
        assert w.audit.verify() == rich.audit.verify()
    finally:
        w.close()


# ---- who may do what, and the teams themselves ---------------------------------------------------------


def test_a_role_granted_outside_preincub_breaks_the_trail(rich):
    as_attacker(rich, "INSERT INTO person_role (person_id, role) SELECT id, 'coordinator' FROM person "
                      "WHERE email = 'coach@example.org'")
    params = broken(rich)
    assert params["problem"] == "figures" and params["table"] == audit.FIGURE_LABELS[audit.ROLES]


def test_roles_changed_through_preincub_keep_the_trail_valid(rich):
    rich.directory.edit_person("coach@example.org", add_roles=["coordinator"])
    rich.directory.edit_person("coach@example.org", remove_roles=["coordinator"])
    rich.directory.add_person("Nouvelle", "nouvelle@example.org", ["committee"])
    assert rich.audit.verify().events > 0
    as_attacker(rich, "DELETE FROM person_role WHERE role = 'committee'")
    assert broken(rich)["problem"] == "deleted"


def test_a_team_written_outside_preincub_breaks_the_trail(rich, tmp_path):
    doc = json.loads(dumps(rich.dump.export()))
    part = doc["tables"]["team"]
    ghost = list(part["rows"][0])
    ghost[part["columns"].index("id")] = 999
    ghost[part["columns"].index("name")] = "Fantôme"
    ghost[part["columns"].index("phase")] = "incubated"
    part["rows"].append(ghost)
    with pytest.raises(StoreError) as caught:
        import_all(str(tmp_path / "x.db"), json.dumps(doc))
    assert caught.value.params["problem"] == "unrecorded" and caught.value.params["row"] == 999
    as_attacker(rich, "INSERT INTO team (name, programme_id, phase, phase_since, version, created_at) "
                      "SELECT 'Fantôme', programme_id, 'incubated', phase_since, 1, created_at FROM team LIMIT 1")
    params = broken(rich)
    assert params["problem"] == "unrecorded" and params["table"] == "team"


def test_a_restored_backup_holds_no_live_lease(rich, tmp_path):
    doc = json.loads(dumps(rich.dump.export()))
    doc["tables"]["daemon_lease"] = {"columns": ["name", "holder", "until"],
                                     "rows": [["daemon", "elsewhere:1", "2099-01-01T00:00:00+00:00"]]}
    import_all(str(tmp_path / "r.db"), json.dumps(doc))
    w = Workflow.open(str(tmp_path / "r.db"), actor=COORD)
    try:
        assert w.lease.acquire("here:2") is True  # the copied lease was released
    finally:
        w.close()


def test_import_all_refuses_a_read_only_target(rich, tmp_path):
    target = tmp_path / "ro.db"
    with pytest.raises(StoreError) as caught:
        import_all(f"sqlite:///{target}?mode=ro", dumps(rich.dump.export()))
    assert caught.value.code == "read_only" and not target.exists()


def test_a_backup_with_nan_is_refused_in_words_not_a_crash(rich, tmp_path):
    doc = json.loads(dumps(rich.dump.export()))
    doc["exported_by"] = float("inf")
    part = doc["tables"]["checkin"]
    part["rows"][0][part["columns"].index("hours")] = float("nan")
    with pytest.raises(Invalid) as caught:
        import_all(str(tmp_path / "n.db"), json.dumps(doc))
    assert caught.value.code == "bad_backup" and not (tmp_path / "n.db").exists()
