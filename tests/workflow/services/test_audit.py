"""The tamper-evident audit trail, on both stores: every event chained, ``verify`` positive and negative,
the migration chaining existing events, erasure keeping the chain, concurrent writers, backups."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import COORD, paris, ready_team, seed
from workflow.api import Workflow
from workflow.clock import PARIS, FixedClock
from workflow.services import audit
from workflow.store.events import digest, link
from workflow.formats.dump import Origin, dumps, import_all
from workflow.store.engine import make_engine, resolve_url, upgrade
from workflow.errors import ChangedMeanwhile, Forbidden, Invalid, StoreError
from workflow.store.models import Event
from workflow.formats.sheets import Sheet
import os
from workflow.store import files as storefile


def events(w: Workflow) -> list:
    with w.store.read() as s:
        return s.execute(sa.text("SELECT * FROM event ORDER BY id")).all()


def head(w: Workflow) -> tuple[int, str]:
    with w.store.read() as s:
        return tuple(s.execute(sa.text("SELECT count, hash FROM audit_head")).one())


def as_attacker(w: Workflow, *sql: str) -> None:
    """What someone with the database (the SQLite file, or PostgreSQL's owner) can do: drop the
    append-only triggers, then rewrite the trail."""
    with w.store.engine.begin() as c:
        if w.store.dialect == "sqlite":
            c.exec_driver_sql("DROP TRIGGER IF EXISTS event_append_only_update")
            c.exec_driver_sql("DROP TRIGGER IF EXISTS event_append_only_delete")
        else:
            c.exec_driver_sql("DROP TRIGGER IF EXISTS event_append_only ON event")
        for statement in sql:
            c.execute(sa.text(statement))


def broken(w: Workflow) -> dict:
    with pytest.raises(StoreError) as caught:
        w.audit.verify()
    assert caught.value.code == "audit_broken"
    return caught.value.params


def session(w: Workflow) -> None:
    """A few weeks of a programme through the library: every write path that appends events."""
    seed(w)
    ready_team(w, "Insertion RSA", 0)
    ready_team(w, "Dossiers MDPH", 1)
    w.transitions.advance("Insertion RSA", "select")
    w.teams.edit("Dossiers MDPH", problem="Un autre problème, réel.")
    w.transitions.advance("Dossiers MDPH", "reject", reason="Hors champ : déjà traité <script>.")
    w = w.at(FixedClock(paris(2020, 7, 8, 10, 0)))
    c = w.acting_as("coach@example.org").checkins.log("Insertion RSA", notes="Entretiens [/] usagers", hours=7)
    w.acting_as("coach@example.org").checkins.edit(c.id, hours=8)
    w.teams.poc("Insertion RSA", "Un prototype testé.")
    w.teams.committee("Insertion RSA", on=date(2020, 11, 15))
    w.transitions.advance("Insertion RSA", "present")


# ---- positive --------------------------------------------------------------------------------------


def test_every_event_of_a_realistic_session_is_chained_and_verifies(wf):
    from workflow.demo import build

    build(wf)
    rows = events(wf)
    assert len(rows) > 150 and all(r.hash and r.digest and r.salt for r in rows)
    assert {r.action for r in rows} >= {"person.add", "programme.add", "team.add", "advance", "checkin.log", "assess"}
    record = wf.audit.verify()
    assert (record.events, record.erased, record.last, record.head) == (len(rows), 0, rows[-1].id, rows[-1].hash)
    assert head(wf) == (len(rows), rows[-1].hash)
    # who acted is recorded by person id: the demo's coordinator, coaches and the bootstrap system user
    with wf.store.read() as s:
        ids = dict(s.execute(sa.text("SELECT email, id FROM person")).all())
    camille = "camille.lefebvre@beta.example"
    assert {r.actor_id for r in rows if r.actor == camille} == {ids[camille]}
    assert {r.actor_id for r in rows if r.actor == COORD} == {ids[COORD]}
    assert all(r.actor_id is not None for r in rows)


def test_each_write_path_chains_its_events(wf):
    session(wf)
    rows = events(wf)
    assert [r.action for r in rows].count("checkin.edit") == 1  # Context.log outside advance
    assert wf.audit.verify().events == len(rows) == head(wf)[0]
    prev = ""
    for r in rows:  # the contract others rely on: link() over the stored row, digest() of its personal part
        assert r.digest == digest(r.salt, r.actor, r.reason, r.data)
        assert r.hash == link(prev, r._mapping)
        prev = r.hash


def test_an_import_chains_its_batch(wf):
    seed(wf)
    header = ("équipe", "collectivité", "problème", "intrapreneur")
    rows = [(f"Équipe {i}", "Pas-de-Calais", "Un problème réel.", f"Agent Neuf {i} <neuf{i}@x.example>")
            for i in range(30)]
    wf.intake.import_sheet(Sheet("t.csv", 1, header, tuple((i, r) for i, r in enumerate(rows, 2))),
                           "Pré-incubation 2020")
    actions = [r.action for r in events(wf)]
    assert actions.count("team.add") == 30 and actions.count("person.add") == 30 + 15  # seed's 15, the import's 30
    assert wf.audit.verify().events == len(actions)


def test_advance_reads_and_moves_the_head_once(wf):
    seed(wf)
    ready_team(wf, "A")
    seen: list[str] = []
    listener = lambda *a: seen.append(a[2])  # noqa: E731 - (conn, cursor, statement, ...)
    sa.event.listen(wf.store.engine, "before_cursor_execute", listener)
    try:
        wf.transitions.advance("A", "select")
    finally:
        sa.event.remove(wf.store.engine, "before_cursor_execute", listener)
    on_head = [s.split()[0] for s in seen if "audit_head" in s]
    assert on_head == ["SELECT", "UPDATE"]
    assert wf.audit.verify().events == len(events(wf))


# ---- negative: what an attacker with the database does is caught ------------------------------------


def test_editing_a_hashed_column_is_caught_at_that_event(wf):
    session(wf)
    target = events(wf)[10].id
    as_attacker(wf, f"UPDATE event SET to_phase = 'incubated' WHERE id = {target}")
    assert broken(wf) == {"problem": "changed", "event": target, "verified": 10}


def test_editing_the_personal_part_is_caught_by_its_digest(wf):
    session(wf)
    target = next(r for r in events(wf) if r.reason and "script" in r.reason).id
    # No trigger to drop: the personal part may be rewritten (by an erasure), yet not unnoticed.
    with wf.store.write() as s:
        s.execute(sa.text(f"UPDATE event SET reason = 'Hors champ.' WHERE id = {target}"))
    assert broken(wf)["problem"] == "personal" and broken(wf)["event"] == target
    with wf.store.write() as s:  # the actor alone
        s.execute(sa.text(f"UPDATE event SET reason = 'Hors champ : déjà traité <script>.', actor = 'x@example.org' "
                          f"WHERE id = {target}"))
    assert broken(wf)["event"] == target


def test_deleting_an_event_in_the_middle_is_caught_at_the_next(wf):
    session(wf)
    rows = events(wf)
    as_attacker(wf, f"DELETE FROM event WHERE id = {rows[5].id}")
    assert broken(wf) == {"problem": "missing", "event": rows[6].id, "verified": 5, "n": 1}


def test_deleting_the_first_event_is_caught(wf):
    session(wf)
    rows = events(wf)
    as_attacker(wf, f"DELETE FROM event WHERE id = {rows[0].id}")
    assert broken(wf)["event"] == rows[1].id


def test_deleting_the_last_events_is_caught_by_the_head(wf):
    session(wf)
    rows = events(wf)
    as_attacker(wf, f"DELETE FROM event WHERE id >= {rows[-2].id}")
    assert broken(wf) == {"problem": "head", "event": rows[-3].id, "verified": len(rows) - 2, "n": 2}


def test_reordering_events_is_caught(wf):
    session(wf)
    a, b = events(wf)[7:9]
    as_attacker(wf, f"UPDATE event SET id = -1 WHERE id = {a.id}", f"UPDATE event SET id = {a.id} WHERE id = {b.id}",
                f"UPDATE event SET id = {b.id} WHERE id = -1")
    assert broken(wf) == {"problem": "changed", "event": a.id, "verified": 7}


def test_an_event_added_outside_preincub_is_caught(wf):
    session(wf)
    with wf.store.write() as s:  # inserting is allowed by the database, but it is not chained
        s.execute(sa.text("INSERT INTO event (at, actor, action, forced) "
                          "VALUES ('2020-07-09 08:00:00', 'x', 'y', false)"))
    assert broken(wf)["problem"] == "changed"
    # a forged event with a correct link but the head left alone: the head does not match
    rows = events(wf)
    as_attacker(wf, f"DELETE FROM event WHERE id = {rows[-1].id}")
    forged = {"at": datetime(2020, 7, 9, 8, tzinfo=timezone.utc), "actor": "x", "actor_id": None, "team_id": None,
              "action": "y", "trigger": None, "from_phase": None, "to_phase": None, "reason": None, "forced": False,
              "data": None, "salt": "s"}
    forged["digest"] = digest("s", "x", None, None)
    forged["hash"] = link(rows[-2].hash, forged)
    with wf.store.write() as s:
        s.execute(sa.insert(Event.__table__), forged)
    assert broken(wf)["problem"] == "head"


def test_a_deleted_head_is_caught_and_refuses_writes(wf):
    session(wf)
    with wf.store.write() as s:
        s.execute(sa.text("DELETE FROM audit_head"))
    assert broken(wf)["problem"] == "head"
    with pytest.raises(StoreError) as caught:
        wf.directory.add_person("Nouveau", "nouveau@example.org", ["coach"])
    assert caught.value.code == "audit_head_missing"


def test_only_coordinators_verify(wf):
    session(wf)
    with pytest.raises(Forbidden) as caught:
        wf.acting_as("coach@example.org").audit.verify()
    assert caught.value.code == "role_needed"


# ---- erasure, migration, backups ----------------------------------------------------------------------


def test_an_erasure_keeps_the_chain_valid(wf):
    session(wf)
    rows = events(wf)
    coach = [r for r in rows if r.actor == "coach@example.org"]
    assert len(coach) == 2
    # The erasure rewrites their personal part and forgets its salt; hashed columns untouched.
    erased = wf.privacy.erase("coach@example.org", "Demande reçue le 2 novembre")
    after = events(wf)
    assert [r.hash for r in after[:-1]] == [r.hash for r in rows]
    record = wf.audit.verify()
    assert (record.events, record.erased) == (len(rows) + 1, erased.events) and erased.events >= 2
    # Who acted is still the same pseudonymous id; the erasure lists what it rewrote; the chain goes on.
    mail = erased.pseudonym
    assert {r.actor_id for r in after if r.actor == mail} == {coach[0].actor_id}
    released = json.loads(after[-1].data)["released"]
    assert {r.id for r in after if r.salt is None} == {i for a, b in released for i in range(a, b + 1)}
    wf.teams.committee("Insertion RSA", opinion="Favorable.")
    assert wf.audit.verify().events == len(rows) + 2


def test_a_forgotten_salt_no_erasure_recorded_is_caught(wf):
    """The personal part edited and its salt set to NULL (the trigger allows rewriting that part): no
    erasure or purge lists the event, so the chain is broken there."""
    session(wf)
    target = next(r for r in events(wf) if r.action == "checkin.edit")
    as_attacker(wf, f"UPDATE event SET data = replace(data, '8', '80'), salt = NULL WHERE id = {target.id}")
    assert broken(wf)["problem"] == "unreleased" and broken(wf)["event"] == target.id


def test_a_forgotten_salt_outside_what_an_erasure_lists_is_caught(wf):
    session(wf)
    wf.privacy.erase("coach@example.org", "Demande reçue le 2 novembre")
    rows = events(wf)
    target = next(r for r in rows if r.salt is not None and r.action == "advance")
    as_attacker(wf, f"UPDATE event SET reason = 'Réécrit', salt = NULL WHERE id = {target.id}")
    assert broken(wf) == {"problem": "unreleased", "event": target.id, "verified": target.id - rows[0].id}


def test_an_erasure_event_without_its_salt_or_with_its_list_edited_is_caught(wf):
    session(wf)
    wf.privacy.erase("coach@example.org", "Demande reçue le 2 novembre")
    last = events(wf)[-1]
    as_attacker(wf, f"UPDATE event SET salt = NULL WHERE id = {last.id}")
    assert broken(wf)["problem"] == "unreleased"
    as_attacker(wf, f"UPDATE event SET salt = '{last.salt}', data = '{{\"released\": [[1, {last.id - 1}]]}}' "
                    f"WHERE id = {last.id}")
    params = broken(wf)
    assert params["problem"] in ("unreleased", "personal") and params["event"] <= last.id


def test_released_counts_only_checked_erasures_and_only_earlier_events():
    def row(id_: int, released: list, salt: str | None = "s", forged: bool = False) -> tuple:
        data = json.dumps({"released": released})
        return (id_, "person 1", None, data, salt, digest("s", "person 1", None, "x" if forged else data))

    r = audit.Released.of([row(10, [[1, 3], [5, 20]]), row(30, [[4, 4], [25, 40]]), row(50, [[41, 45]], forged=True),
                           row(60, [[46, 47]], salt=None)])
    assert [i for i in range(1, 61) if i in r] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 25, 26, 27, 28, 29]


def test_the_migration_chains_existing_events_in_their_order(db_url, monkeypatch):
    monkeypatch.setenv("USER", "alice")
    engine = make_engine(resolve_url(db_url))
    upgrade(engine, "0006")  # a store as the previous release left it
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO person (id, name, email, login, created_at, channels, lang) VALUES "
                          "(1, 'Alice', 'alice@localhost', 'alice', '2020-06-23 08:00:00', 'email', 'fr'), "
                          "(2, 'Camille', 'camille@example.org', NULL, '2020-06-23 08:00:00', 'email', 'fr')"))
        c.execute(sa.text("INSERT INTO person_role (person_id, role) VALUES (1, 'coordinator'), (2, 'coordinator')"))
        # ids out of insertion order on purpose: the chain follows ids
        c.execute(sa.text(
            "INSERT INTO event (id, at, actor, action, reason, forced, data) VALUES "
            "(3, '2020-06-24 09:30:00.250000', 'camille@example.org', 'programme.add', NULL, false, "
            "'{\"programme\": \"P\"}'), "
            "(1, '2020-06-23 08:00:00', 'alice (system user)', 'person.add', NULL, false, NULL), "
            "(2, '2020-06-23 08:05:00', 'camille@example.org', 'person.edit', 'Rôle ajouté', false, NULL), "
            "(5, '2020-06-25 10:00:00', 'gone@example.org', 'person.add', NULL, true, NULL)"))
        if engine.dialect.name == "postgresql":  # ids given: the sequences move on as they would have
            for table in ("event", "person"):
                c.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    engine.dispose()
    w = Workflow.open(db_url, create=True, actor="camille@example.org", clock=FixedClock(paris(2020, 7, 1, 10)))
    try:
        rows = events(w)
        assert [r.id for r in rows] == [1, 2, 3, 5, 6]  # and 0009's record of the roles already there
        assert [r.actor_id for r in rows] == [1, 2, 2, None, None]  # the system user is the person of that login
        # No programme yet: both coordinators administer the instance (granted in no programme, a
        # coordinator would be left with nothing; 0009 keeps what they could do: add programmes).
        assert rows[-1].action == "audit.seal" and json.loads(rows[-1].figures) == {
            "roles": {"1": {"roles": ["admin"]}, "2": {"roles": ["admin"]}}}
        assert w.audit.verify().events == 5 == head(w)[0]
        w.directory.add_programme("Q", date(2020, 6, 23))
        assert w.audit.verify().events == 7  # the programme and its coordinator granted
    finally:
        w.close()


def test_a_backup_round_trip_keeps_the_chain(wf, tmp_path):
    session(wf)
    before = wf.audit.verify()
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    import_all(target, dumps(wf.dump.export()))
    restored = Workflow.open(target, actor=COORD, clock=wf.clock)
    try:
        assert restored.audit.verify() == before
        restored.teams.committee("Insertion RSA", opinion="Bien.")
        assert restored.audit.verify().events == before.events + 1
    finally:
        restored.close()


def test_a_backup_from_before_the_chain_is_chained_on_restore(wf, tmp_path):
    session(wf)
    doc = json.loads(dumps(wf.dump.export()))
    doc["schema"] = "0006"
    for table in ("audit_head", "signature", "funding", "expense", "statement", "payment", "notice"):
        del doc["tables"][table]  # the tables of 0007
    person = doc["tables"]["person"]
    gone = person["columns"].index("erased_at")
    person["columns"].pop(gone)
    person["rows"] = [row[:gone] + row[gone + 1:] for row in person["rows"]]
    part = doc["tables"]["event"]
    keep = [i for i, c in enumerate(part["columns"]) if c not in ("actor_id", "salt", "digest", "hash")]
    part["columns"] = [part["columns"][i] for i in keep]
    part["rows"] = [[row[i] for i in keep] for row in part["rows"]]
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    import_all(target, json.dumps(doc))
    restored = Workflow.open(target, actor=COORD, clock=wf.clock)
    try:
        # Its events chained, then ``audit.seal`` events for the figures it held (the check-ins, the people's
        # roles), as migration 0008.
        assert restored.audit.verify().events == len(part["rows"]) + 2
        assert [r.actor_id for r in events(restored)][:-2] == [r.actor_id for r in events(wf)]
        assert [r.action for r in events(restored)][-2:] == ["audit.seal"] * 2
        programme = restored.directory.programme("Pré-incubation 2020")  # as migration 0007: one signature each
        assert programme.signatures == (programme.signed_on,)
    finally:
        restored.close()


# ---- concurrent writers --------------------------------------------------------------------------------


def test_concurrent_writers_make_one_valid_chain(wf, db_url):
    seed(wf)
    for i in range(4):
        ready_team(wf, f"Équipe {i}", i)
    wf.close()
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        w = Workflow.open(db_url, actor=COORD, clock=FixedClock(paris(2020, 7, 2, 10, i)))
        try:
            start.wait()
            for k in range(6):
                for attempt in range(50):
                    try:
                        if k % 2:
                            w.teams.edit(f"Équipe {i}", problem=f"Problème n°{k}, précisé.")
                        elif k == 0:
                            w.transitions.advance(f"Équipe {i}", "select")
                        else:
                            w.acting_as("coach@example.org").checkins.log(f"Équipe {i}", notes=f"Point {k}",
                                                                          on=date(2020, 7, 2))
                        break
                    except ChangedMeanwhile:
                        continue
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            w.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    w = Workflow.open(db_url, actor=COORD)
    try:
        rows = events(w)
        made = [(r.action, r.trigger) for r in rows]
        assert (made.count(("advance", "select")), made.count(("team.edit", None)),
                made.count(("checkin.log", None))) == (4, 12, 8)
        assert len({r.hash for r in rows}) == len(rows)
        assert w.audit.verify().events == len(rows) == head(w)[0]
    finally:
        w.close()


# ---- the canonical text hashed --------------------------------------------------------------------------

texts = st.none() | st.text()


@given(st.text(), texts, texts, texts)
def test_the_hashed_text_is_compact_json(salt, actor, reason, data):
    expected = json.dumps([salt, actor, reason, data], ensure_ascii=False, separators=(",", ":"))
    expected_hash = audit._SHA256(expected.encode("utf-8", "surrogatepass")).hexdigest()
    assert digest(salt, actor, reason, data) == expected_hash


@given(st.text(), st.none() | st.integers(0, 2**31), texts, st.booleans())
def test_the_link_is_compact_json_of_the_hashed_columns(prev, team_id, trigger, forced):
    row = {"at": datetime(2020, 7, 1, 10, 0, 0, 5, tzinfo=paris(2020, 7, 1).tzinfo), "actor_id": 4, "team_id": team_id,
           "action": "advance", "trigger": trigger, "from_phase": None, "to_phase": "selection", "forced": forced,
           "digest": "d"}
    content = [prev, "2020-07-01T08:00:00.000005Z", 4, team_id, "advance", trigger, None, "selection", forced, "d"]
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    assert link(prev, row) == audit._SHA256(text).hexdigest()
    assert link(prev, {**row, "at": "2020-07-01 08:00:00.000005"}) == link(prev, row)  # SQLite's text


# The chain covers the figures (check-ins, funding, expenses, statements, payments, formal notices) and the
# teams' phases: edited in the store or in a backup, ``audit verify`` and ``import-all`` catch it; a backup
# says whether this instance signed it; a restore that fails leaves nothing behind.

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
    assert params["problem"] == "figures" and params["table"] == audit.FIGURE_LABELS[audit.ROLES_FIGURE]


def test_roles_changed_through_preincub_keep_the_trail_valid(rich):
    rich.directory.edit_person("coach@example.org", add_roles=["coordinator"])
    rich.directory.edit_person("coach@example.org", remove_roles=["coordinator"])
    rich.directory.add_person("Nouvelle", "nouvelle@example.org", ["committee"])
    assert rich.audit.verify().events > 0
    as_attacker(rich, "DELETE FROM person_grant WHERE role = 'committee'")  # a grant since 0009
    assert broken(rich)["problem"] == "deleted"


def test_a_grant_given_outside_preincub_breaks_the_trail(rich):
    as_attacker(rich, "INSERT INTO person_grant (person_id, role, programme_id) SELECT p.id, 'coordinator', "
                      "g.id FROM person p, programme g WHERE p.email = 'coach@example.org'")
    params = broken(rich)
    assert params["problem"] == "figures" and params["table"] == audit.FIGURE_LABELS[audit.ROLES_FIGURE]


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
        w.lease.release("here:2")
        early = w.at(FixedClock(datetime(2020, 7, 1, 9, 0, tzinfo=PARIS)))
        assert early.lease.acquire("here:3") is True  # released for any clock, an early --now included
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


# ---- scopes: a coordinator verifies the chain, and is shown no other programme's team phase ----------------

def test_a_coordinator_verifies_the_chain_and_sees_no_phase_of_another_programme(wf):
    from tests.workflow import scopes as sc

    sc.build(wf)
    ca, cb = wf.acting_as(sc.COORD_A), wf.acting_as(sc.COORD_B)
    assert ca.audit.verify() == cb.audit.verify() == wf.audit.verify()  # the chain is one: the same counts
    for w in (wf.acting_as(sc.COMMITTEE_A), wf.acting_as(sc.PARTNER_X), wf.acting_as(sc.COACH_A)):
        with pytest.raises(Forbidden):
            w.audit.verify()
    as_attacker(wf, "UPDATE team SET phase = 'incubated' WHERE name = 'Beta'")
    theirs = broken(cb)
    assert (theirs["problem"], theirs["phase"], theirs["recorded"]) == ("phase", "incubated", "call_for_projects")
    assert broken(wf)["phase"] == "incubated"  # the administrator: the whole instance
    other = broken(ca)
    assert other["problem"] == "phase" and other["team"] == theirs["team"] and other["event"] == theirs["event"]
    assert "phase" not in other and "recorded" not in other


@pytest.mark.parametrize("at", [datetime(2020, 7, 1, 8, 0, tzinfo=timezone.utc),
                                datetime(2020, 7, 1, 8, 0, 0, 120, tzinfo=timezone.utc),
                                datetime(999, 12, 31, 23, 59, 59, 1, tzinfo=timezone.utc),
                                datetime(2020, 7, 1, 10, 0, tzinfo=PARIS), "2020-07-01 08:00:00.000120"])
def test_the_walk_hashes_each_kind_of_at_as_hashed_at(at):
    """A backup's UTC datetimes are written by the walk itself (no naive copy): the same text as hashed_at."""
    row = {"at": at, "actor_id": 1, "team_id": None, "action": "x", "trigger": None, "from_phase": None,
           "to_phase": None, "forced": False, "digest": digest("s", "a", None, None)}
    stored = link("", row)
    event = (1, at, "a", 1, None, "x", None, None, None, None, False, None, "s", row["digest"], stored, None)
    assert audit.walk([event], (1, stored), 1).events == 1


def test_a_backup_without_a_walked_column_is_walked_as_before(rich):
    """The events of a backup are taken by column names at once; one without some (an older schema's)
    falls back to each row's values, missing ones as None."""
    from workflow.formats.dump import rows_of
    from workflow.store.events import WALK_COLUMNS

    data = rows_of(json.loads(dumps(rich.dump.export())))
    whole = audit.verify_backup(data, "0012")
    data["event"] = [{k: v for k, v in r.items() if k != "figures" or v is not None} for r in data["event"]]
    assert any("figures" not in r for r in data["event"]) and "figures" in WALK_COLUMNS
    assert audit.verify_backup(data, "0012") == whole
