"""Funding's named queries on both stores: fundings per partner, expenses up to a day and their sums,
the latest statement, the payment."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import paris
from tests.workflow.store.conftest import PROG, programme_id
from workflow.store import funding as rows
from workflow.store import people

NOW = paris(2020, 7, 6, 9, 0)


@pytest.fixture
def ids(world):
    """(programme id, funding id): a funding of the seeded partner, and three expenses."""
    pid = programme_id(world)
    with world.store.write() as s:
        partner = people.partner_by_name(s, pid, "Pas-de-Calais")
        assert rows.funding(s, pid, partner.id) is None
        f = rows.new_funding(pid, partner.id, "after-statement", NOW)
        f.cap_cents = 900_000
        fid = rows.save(s, f).id
        rows.new_expense(s, pid, 10_000, date(2020, 7, 3), "Salle", NOW)
        rows.new_expense(s, pid, 2_550, date(2020, 7, 1), "Café", NOW)
        rows.new_expense(s, pid, 40_000, date(2020, 8, 1), "Atelier", NOW)
    return pid, fid


def test_fundings_by_partner(world, ids):
    pid, fid = ids
    world.directory.add_partner("Aisne", PROG)
    with world.store.read() as s:
        partner = people.partner_by_name(s, pid, "Pas-de-Calais")
        assert rows.funding(s, pid, partner.id, lock=True).id == fid
        assert [(f.cap_cents, p.name) for f, p in rows.fundings(s, pid)] == [(900_000, "Pas-de-Calais")]
        assert rows.fundings(s, pid + 1000) == []


def test_expenses_in_date_order_up_to_a_day(world, ids):
    pid, _ = ids
    with world.store.read() as s:
        assert [e.label for e in rows.expenses(s, pid)] == ["Café", "Salle", "Atelier"]
        assert [e.label for e in rows.expenses(s, pid, until=date(2020, 7, 3))] == ["Café", "Salle"]
        assert rows.expenses_total(s, pid, date(2020, 7, 31)) == (12_550, 2)
        assert rows.expenses_total(s, pid, date(2020, 6, 30)) == (0, 0)
        assert rows.expenses_cents(s, pid, date(2020, 12, 31)) == 52_550


def test_same_expense_only_for_the_very_same_values(world, ids):
    pid, _ = ids
    with world.store.read() as s:
        assert rows.same_expense(s, pid, date(2020, 7, 3), 10_000, "Salle") is not None
        assert rows.same_expense(s, pid, date(2020, 7, 3), 10_000, "salle") is None
        assert rows.same_expense(s, pid, date(2020, 7, 3), 10_001, "Salle") is None


def test_latest_statement_by_a_day_and_the_payment(world, ids):
    _, fid = ids
    with world.store.write() as s:
        assert rows.payment(s, fid) is None
        rows.new_statement(s, fid, date(2020, 7, 10), 12_550, 6_275, NOW)
        rows.new_statement(s, fid, date(2020, 8, 10), 52_550, 26_275, NOW)
        rows.new_payment(s, fid, date(2020, 8, 20), 26_275, NOW)
    with world.store.read() as s:
        assert rows.latest_statement(s, fid, date(2020, 7, 9)) is None
        assert rows.latest_statement(s, fid, date(2020, 8, 9)).due_cents == 6_275
        assert rows.latest_statement(s, fid, date(2020, 8, 10)).due_cents == 26_275
        assert (rows.payment(s, fid).on, rows.payment(s, fid).amount_cents) == (date(2020, 8, 20), 26_275)
