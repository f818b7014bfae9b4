"""Ids in IN lists a slice at a time (workflow/store/batches.py), and a tick whose recipients outnumber the
parameters a statement may carry (PostgreSQL: 65,535; SQLite: 32,766)."""

from __future__ import annotations

from sqlalchemy import insert

from tests.conftest import paris, seed
from workflow.store import mutes as mute_rows
from workflow.store import reminders as reminder_rows
from workflow.store.batches import batches
from workflow.store.models import Person, PersonMute

NOW = paris(2020, 7, 1, 10, 0)


def test_batches_are_sorted_without_repeats_and_cover_every_id():
    assert list(batches([5, 3, 3, 9, 1], size=2)) == [[1, 3], [5, 9]]
    assert list(batches([])) == []


def test_more_people_than_a_statement_takes_parameters_are_read(wf):
    seed(wf)
    with wf.store.write() as s:
        first = s.connection().execute(insert(Person).returning(Person.id), [
            {"name": f"P{i}", "email": f"p{i}@example.org", "lang": "fr", "channels": "email", "created_at": NOW}
            for i in range(70_000)]).scalars().all()
        s.connection().execute(insert(PersonMute), [{"person_id": pid, "kind": "coaching"} for pid in first[:3]])
    with wf.store.read() as s:
        assert len(reminder_rows.people(s, set(first))) == 70_000
        assert mute_rows.muted(s, first) == {(pid, "coaching") for pid in first[:3]}
