"""Formal notices' named queries on both stores: the same notice typed twice, answers, listings, and
the notices whose reminder may still be due."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.conftest import paris
from tests.workflow.store.conftest import PROG, programme_id
from workflow.store import notices, people

NOW = paris(2020, 11, 16, 10, 0)


@pytest.fixture
def ids(world):
    """(programme id, partner id, first notice id): notices of 2 and 9 November 2020."""
    pid = programme_id(world)
    with world.store.write() as s:
        partner = people.partner_by_name(s, pid, "Pas-de-Calais").id
        first = notices.add(s, pid, partner, date(2020, 11, 2), "Bilan non transmis", NOW).id
        notices.add(s, pid, partner, date(2020, 11, 9), "Salle non payée", NOW)
    return pid, partner, first


def test_same_only_for_the_very_same_values(world, ids):
    pid, partner, first = ids
    with world.store.read() as s:
        assert notices.same(s, pid, partner, date(2020, 11, 2), "Bilan non transmis") == first
        assert notices.same(s, pid, partner, date(2020, 11, 3), "Bilan non transmis") is None
        assert notices.get(s, first, lock=True).breach == "Bilan non transmis"
        assert notices.get(s, first + 1000) is None


def test_answered_leaves_the_unanswered_listing(world, ids):
    pid, _, first = ids
    with world.store.write() as s:
        assert notices.answered(s, notices.get(s, first), date(2020, 11, 20), "Transmis") == (PROG, "Pas-de-Calais")
    with world.store.read() as s:
        assert [(n.breach, prog, partner) for n, prog, partner in notices.listed(s)] == [
            ("Bilan non transmis", PROG, "Pas-de-Calais"), ("Salle non payée", PROG, "Pas-de-Calais")]
        assert [n.breach for n, *_ in notices.listed(s, unanswered=True)] == ["Salle non payée"]
        assert notices.listed(s, pid + 1000) == []
        assert [f.breach for f in notices.facts(s, NOW)] == ["Salle non payée"]


def test_facts_leave_out_notices_too_old_to_be_due(world, ids):
    with world.store.read() as s:
        assert [f.breach for f in notices.facts(s, NOW)] == ["Bilan non transmis", "Salle non payée"]
        late = paris(2020, 11, 9, 10, 0) + timedelta(days=notices.STALE_AFTER_DAYS)
        assert [f.breach for f in notices.facts(s, late)] == ["Salle non payée"]
        assert notices.facts(s, late + timedelta(days=1)) == ()
