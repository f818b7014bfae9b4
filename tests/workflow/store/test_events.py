"""The audit chain in the store, on both stores: digests and links are deterministic and cover what they
say, every event appended moves the head, and the walk gives the events in order."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.workflow.store.conftest import TEAM, team_id
from workflow.clock import PARIS
from workflow.store import events

ROW = {"at": datetime(2020, 7, 1, 8, 0, tzinfo=UTC), "actor_id": 1, "team_id": 2, "action": "advance",
       "trigger": "select", "from_phase": "selection", "to_phase": "investigation", "forced": False, "digest": "d"}


def test_the_digest_covers_every_personal_field():
    base = events.digest("salt", "a@example.org", "why", "{}")
    assert base == events.digest("salt", "a@example.org", "why", "{}")
    assert len({base, events.digest("other", "a@example.org", "why", "{}"),
                events.digest("salt", "b@example.org", "why", "{}"), events.digest("salt", "a@example.org", None, "{}"),
                events.digest("salt", "a@example.org", "why", None)}) == 5
    assert events.new_salt() != events.new_salt() and len(events.new_salt()) == 32


def test_a_link_covers_the_previous_hash_the_content_and_the_figures():
    base = events.link("", ROW)
    assert base == events.link("", dict(ROW))
    assert events.link("x", ROW) != base
    assert events.link("", {**ROW, "to_phase": "abandoned"}) != base
    assert events.link("", {**ROW, "figures": None}) == base  # events written before figures hash as they did
    assert events.link("", {**ROW, "figures": "{}"}) != base


def test_hashed_at_is_utc_to_the_microsecond_from_a_datetime_or_sqlite_text():
    assert events.hashed_at(datetime(2020, 7, 1, 10, 0, tzinfo=PARIS)) == "2020-07-01T08:00:00.000000Z"
    assert events.hashed_at(datetime(2020, 7, 1, 8, 0, 0, 5, tzinfo=UTC)) == "2020-07-01T08:00:00.000005Z"
    assert events.hashed_at("2020-07-01 08:00:00.000005") == "2020-07-01T08:00:00.000005Z"


def test_the_head_counts_every_event_and_the_walk_gives_them_in_order(world):
    with world.store.read() as s:
        conn = events.repeatable_read(world.store, s)
        count, last = events.head(conn)
        assert count == events.count(conn) > 0
        with events.walk_rows(world.store, conn) as rows:
            walked = [dict(zip(events.WALK_COLUMNS, r)) for r in rows]
        assert [w["id"] for w in walked] == sorted(w["id"] for w in walked)
        assert walked[-1]["hash"] == last
        assert events.releasing(conn) == []
    world.teams.poc(TEAM, "Un prototype")
    with world.store.read() as s:
        conn = s.connection()
        assert events.head(conn)[0] == count + 1 and events.head(conn)[1] != last
        assert [e.action for e in events.of_team(s, team_id(world))][-1] == "poc"
        assert (team_id(world), "investigation") in [tuple(r) for r in events.team_phases(conn)]


def test_an_erasure_is_a_releasing_event(world):
    world.privacy.erase("agent5@example.org", "asked")
    with world.store.read() as s:
        assert [r[2] for r in events.releasing(s.connection())] == ["asked"]
