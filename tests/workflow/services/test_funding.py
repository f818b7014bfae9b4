"""Funding per partner, on both stores: the two agreements' figures end to end (seed 1: 9,000 € cap, one
payment after a statement; seed 2: 70,000 € on signature, unused funds given back), every refusal with
its figures, the arithmetic as a property, the amount parser, the audit, the permissions, a backup."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from tests.conftest import COORD, paris, pg_schema
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.errors import Forbidden, Invalid, NotFound
from workflow.store.models import Event

SEED1, PDC = "Pré-incubation 2020", "Pas-de-Calais"
SEED2, GE = "Trait d'union", "Grand Est"


def at(w: Workflow, *day: int) -> Workflow:
    return w.at(FixedClock(paris(*day, 10, 0)))


def refusal(call, code: str) -> Invalid | NotFound:
    with pytest.raises((Invalid, NotFound)) as exc:
        call()
    assert exc.value.code == code, (exc.value.code, exc.value.text("en"))
    return exc.value


@pytest.fixture
def seed1(wf):
    """Seed 1: signed 23 June 2020, the département's cap 9,000 €, paid after a statement."""
    wf.directory.add_programme(SEED1, date(2020, 6, 23))
    wf.directory.add_partner(PDC, SEED1)
    wf.funding.set(SEED1, PDC, cap="9 000", payment="after-statement")
    return wf


@pytest.fixture
def seed2(wf):
    """Seed 2: signed 23 and 31 October 2019 (effective at the second), 70,000 € at 50 %, paid on signature."""
    wf = at(wf, 2019, 11, 1)
    wf.directory.add_programme(SEED2, [date(2019, 10, 23), date(2019, 10, 31)], kind="fast")
    wf.directory.add_partner(GE, SEED2, kind="region")
    wf.funding.set(SEED2, GE, cap="70000", share="50", payment="on-signature")
    return wf


# ---- seed 1: after a statement ----------------------------------------------------------------------


def test_seed1_expenses_below_the_cap_one_payment_after_the_statement(seed1):
    w = at(seed1, 2020, 12, 20)
    w.funding.add_expense(SEED1, "2 400", date(2020, 7, 7), "Séminaire de lancement")
    w.funding.add_expense(SEED1, "3000,50", date(2020, 10, 1), "Coaching")
    # before any statement: refused, with the figures
    e = refusal(lambda: w.funding.pay(SEED1, PDC, date(2020, 12, 20), "5400.50"), "payment_before_statement")
    assert (e.params["due"], e.params["paid"], e.params["requested"]) == ("5400.50", "0.00", "5400.50")
    assert "due so far €5,400.50, already paid €0.00, requested €5,400.50" in e.text("en")
    assert "dû à ce jour 5\u202f400,50\u00a0€" in e.text("fr")
    st = w.funding.issue_statement(SEED1, PDC)
    assert (st.total, st.due, st.cap, st.share, st.issued_on) == (
        Decimal("5400.50"), Decimal("5400.50"), Decimal("9000.00"), Decimal("100.00"), "2020-12-20")
    assert [x.label for x in st.expenses] == ["Séminaire de lancement", "Coaching"]
    # a payment dated before the statement was issued is still before it
    refusal(lambda: w.funding.pay(SEED1, PDC, date(2020, 12, 19), "5400.50"), "payment_before_statement")
    e = refusal(lambda: w.funding.pay(SEED1, PDC, date(2020, 12, 20), "5400.51"), "payment_not_due")
    assert (e.params["due"], e.params["paid"], e.params["requested"]) == ("5400.50", "0.00", "5400.51")
    f = w.funding.pay(SEED1, PDC, date(2020, 12, 20), "5 400,50")
    assert (f.paid, f.paid_on, f.due, f.unused) == (Decimal("5400.50"), "2020-12-20", Decimal("5400.50"), Decimal(0))
    # one single payment
    e = refusal(lambda: w.funding.pay(SEED1, PDC, date(2020, 12, 20), "1"), "second_payment")
    assert (e.params["due"], e.params["paid"], e.params["requested"]) == ("5400.50", "5400.50", "1.00")
    # and the terms can no longer change
    refusal(lambda: w.funding.set(SEED1, PDC, cap="8000", payment="after-statement"), "funding_paid")


def test_seed1_expenses_above_the_cap_owe_the_cap(seed1):
    w = at(seed1, 2020, 12, 24)
    w.funding.add_expense(SEED1, "6000", date(2020, 7, 7), "Coaching, été")
    w.funding.add_expense(SEED1, "4500.50", date(2020, 12, 23), "Coaching, automne")  # the last day of the agreement
    refusal(lambda: w.funding.add_expense(SEED1, "10", date(2020, 12, 24), "after the end"), "expense_outside_agreement")
    e = refusal(lambda: w.funding.add_expense(SEED1, "6 000,00", date(2020, 7, 7), "Coaching, été"), "expense_exists")
    assert "is already recorded, as #1" in e.text("en")
    st = w.funding.issue_statement(SEED1, PDC)
    assert (st.total, st.share_amount, st.due) == (Decimal("10500.50"), Decimal("10500.50"), Decimal("9000.00"))
    e = refusal(lambda: w.funding.pay(SEED1, PDC, date(2020, 12, 24), "9000.01"), "payment_not_due")
    assert "due €9,000.00, already paid €0.00, requested €9,000.01" in e.text("en")
    w.funding.pay(SEED1, PDC, date(2020, 12, 24), "9000")
    sheet = w.funding.show(SEED1)
    (f,) = sheet.partners
    assert (sheet.expenses, sheet.expense_count, sheet.ended) == (Decimal("10500.50"), 2, True)
    assert (f.covered, f.due, f.paid, f.unused, f.give_back) == (
        Decimal("9000.00"), Decimal("9000.00"), Decimal("9000.00"), Decimal(0), False)


def test_one_single_payment_of_exactly_what_is_due_never_a_part(seed1):
    """A part would leave the rest unpaid for good (the agreement allows one payment): refused, with the
    figures; the store keeps nothing, and the whole amount is then accepted."""
    w = at(seed1, 2020, 12, 1)
    w.funding.add_expense(SEED1, "100", date(2020, 7, 7), "Lancement")
    w.funding.issue_statement(SEED1, PDC)
    before = w.dump.export()["tables"]
    e = refusal(lambda: w.funding.pay(SEED1, PDC, date(2020, 12, 1), "50"), "payment_not_due")
    assert (e.params["due"], e.params["paid"], e.params["requested"]) == ("100.00", "0.00", "50.00")
    assert "due €100.00, already paid €0.00, requested €50.00" in e.text("en")
    assert "dû 100,00 €, déjà versé 0,00 €, demandé 50,00 €" in e.text("fr")
    assert w.dump.export()["tables"] == before
    (f,) = w.funding.show(SEED1).partners
    assert (f.due, f.paid, f.paid_on) == (Decimal("100.00"), Decimal(0), None)
    f = w.funding.pay(SEED1, PDC, date(2020, 12, 1), "100")
    assert (f.due, f.paid) == (Decimal("100.00"), Decimal("100.00"))


def test_on_signature_pays_its_cap_not_less(seed2):
    e = refusal(lambda: seed2.funding.pay(SEED2, GE, date(2019, 10, 31), "35000"), "payment_not_due")
    assert (e.params["due"], e.params["requested"]) == ("70000.00", "35000.00")


def test_a_payment_before_the_agreement_takes_effect_is_refused(wf):
    wf = at(wf, 2020, 7, 1)
    wf.directory.add_programme(SEED1, [date(2020, 6, 23), date(2020, 6, 30)])  # takes effect at the last signature
    wf.directory.add_partner(PDC, SEED1)
    wf.funding.set(SEED1, PDC, cap="9000", payment="after-statement")
    wf.funding.add_expense(SEED1, "100", date(2020, 6, 30), "Lancement")
    refusal(lambda: wf.funding.add_expense(SEED1, "100", date(2020, 6, 29), "trop tôt"), "expense_outside_agreement")
    wf.funding.issue_statement(SEED1, PDC)
    e = refusal(lambda: wf.funding.pay(SEED1, PDC, date(2020, 6, 29), "100"), "payment_before_effect")
    assert "takes effect on June 30, 2020" in e.text("en")
    refusal(lambda: wf.funding.pay(SEED1, PDC, date(2020, 7, 2), "100"), "payment_in_future")


# ---- seed 2: on signature, unused funds given back ---------------------------------------------------


def test_seed2_70k_on_signature_and_the_unused_funds_at_the_end(seed2):
    w = seed2
    e = refusal(lambda: w.funding.pay(SEED2, GE, date(2019, 10, 30), "70000"), "payment_before_effect")
    assert e.params["effective"] == date(2019, 10, 31)
    e = refusal(lambda: w.funding.pay(SEED2, GE, date(2019, 10, 31), "70000.01"), "payment_not_due")
    assert (e.params["due"], e.params["paid"], e.params["requested"]) == ("70000.00", "0.00", "70000.01")
    f = w.funding.pay(SEED2, GE, date(2019, 10, 31), "70 000")  # no statement needed
    assert (f.paid, f.due, f.unused) == (Decimal("70000.00"), Decimal("70000.00"), Decimal("70000.00"))
    w = at(w, 2020, 3, 1)
    w.funding.add_expense(SEED2, "40000", date(2019, 11, 15), "Développeurs, novembre")
    w.funding.add_expense(SEED2, "60000", date(2020, 2, 1), "Développeurs, janvier")
    sheet = w.funding.show(SEED2)
    (f,) = sheet.partners
    assert (sheet.deadline, sheet.ended) == ("2020-04-30", False)
    assert (f.share, f.covered, f.unused, f.give_back) == (Decimal("50.00"), Decimal("50000.00"), Decimal("20000.00"),
                                                          False)  # unused so far
    w = at(w, 2020, 5, 1)  # the end: six months after 31 October 2019
    sheet = w.funding.show(SEED2)
    (f,) = sheet.partners
    assert sheet.ended and f.give_back and f.unused == Decimal("20000.00")
    refusal(lambda: w.funding.pay(SEED2, GE, date(2020, 5, 1), "1"), "second_payment")
    st = w.funding.issue_statement(SEED2, GE)
    assert (st.total, st.due, st.paid, st.unused) == (Decimal("100000.00"), Decimal("50000.00"),
                                                      Decimal("70000.00"), Decimal("20000.00"))


def test_unused_funds_are_never_negative(seed2):
    w = at(seed2, 2020, 4, 30)
    w.funding.pay(SEED2, GE, date(2019, 10, 31), "70000")
    w.funding.add_expense(SEED2, "200000", date(2020, 4, 30), "Au-delà du plafond")
    (f,) = w.funding.show(SEED2).partners
    assert (f.covered, f.unused) == (Decimal("70000.00"), Decimal(0))


@pytest.mark.parametrize("value,code", [(9000.0, "bad_amount"), (Decimal("-1"), "bad_amount"),
                                        (Decimal("0.001"), "bad_amount"), (Decimal("NaN"), "bad_amount"),
                                        (Decimal("1E+12"), "bad_amount")])
def test_the_library_refuses_floats_and_bad_decimals(seed1, value, code):
    refusal(lambda: seed1.funding.set(SEED1, PDC, cap=value, payment="after-statement"), code)


# ---- audit, permissions, the store --------------------------------------------------------------------


def test_every_change_is_audited_with_exact_amounts(seed1):
    w = at(seed1, 2020, 12, 1)
    w.funding.add_expense(SEED1, "0,10", date(2020, 7, 7), "Timbre")
    w.funding.issue_statement(SEED1, PDC)
    w.funding.pay(SEED1, PDC, date(2020, 12, 1), "0.10")
    with w.store.read() as s:
        events = s.exec(select(Event).where(Event.action.like("funding.%") | Event.action.like("expense.%"))
                        .order_by(Event.id)).all()
    assert [e.action for e in events] == ["funding.set", "expense.add", "funding.statement", "funding.payment"]
    assert all(e.actor == COORD for e in events)
    data = [json.loads(e.data) for e in events]
    assert data[0]["cap"] == "9000.00" and data[1]["amount"] == "0.10"
    assert data[2]["due"] == "0.10" and data[3]["amount"] == "0.10"


def test_only_coordinators_change_money_and_those_who_read_every_team_read_it(seed1):
    w = seed1
    w.directory.add_person("Coach Un", "coach@example.org", ["coach"])
    w.directory.add_person("Comité", "committee@example.org", ["committee"])
    coach = w.acting_as("coach@example.org")
    for call in (lambda: coach.funding.set(SEED1, PDC, cap="1", payment="on-signature"),
                 lambda: coach.funding.add_expense(SEED1, "1", date(2020, 7, 1), "x"),
                 lambda: coach.funding.issue_statement(SEED1, PDC), lambda: coach.funding.show(SEED1),
                 lambda: coach.funding.expenses(SEED1)):
        with pytest.raises(Forbidden):
            call()
    committee = w.acting_as("committee@example.org")
    assert committee.funding.show(SEED1).partners[0].cap == Decimal("9000.00")
    with pytest.raises(Forbidden):
        committee.funding.pay(SEED1, PDC, date(2020, 7, 1), "1")


def test_refusals_write_nothing(seed1):
    w = at(seed1, 2020, 12, 1)
    before = w.dump.export()["tables"]
    for call in (lambda: w.funding.add_expense(SEED1, "-1", date(2020, 7, 1), "x"),
                 lambda: w.funding.add_expense(SEED1, "1", date(2020, 7, 1), " "),
                 lambda: w.funding.add_expense("Nope", "1", date(2020, 7, 1), "x"),
                 lambda: w.funding.set(SEED1, "Nord", cap="1", payment="after-statement"),
                 lambda: w.funding.set(SEED1, PDC, cap="1", payment="weekly"),
                 lambda: w.funding.set(SEED1, PDC, cap="1", share="0", payment="after-statement"),
                 lambda: w.funding.issue_statement(SEED1, "Nord"),
                 lambda: w.funding.pay(SEED1, PDC, date(2020, 12, 1), "1")):
        with pytest.raises((Invalid, NotFound)):
            call()
    assert w.dump.export()["tables"] == before


def test_funding_set_again_corrects_it_until_paid(seed1):
    f = seed1.funding.set(SEED1, PDC, cap="8 500", share="80", payment="after-statement")
    assert (f.cap, f.share) == (Decimal("8500.00"), Decimal("80.00"))
    (g,) = seed1.funding.show(SEED1).partners
    assert g.cap == Decimal("8500.00")


def test_a_terminable_notice_is_flagged(seed1):
    w = at(seed1, 2020, 7, 1)
    w.notices.add(SEED1, PDC, date(2020, 7, 1), "Agents non libérés")
    assert w.funding.show(SEED1).terminable == ()
    w = at(w, 2020, 8, 1)  # the last day to answer: not yet terminable
    assert w.funding.show(SEED1).terminable == ()
    w = at(w, 2020, 8, 2)
    (n,) = w.funding.show(SEED1).terminable
    assert (n.partner, n.terminable_on) == (PDC, "2020-08-02")


def test_funding_show_reads_the_notices_in_its_own_transaction(seed1, monkeypatch):
    """One snapshot: the sheet and its flags come from one read transaction, never a second one."""
    w = at(seed1, 2020, 9, 1)
    w.notices.add(SEED1, PDC, date(2020, 7, 1), "Agents non libérés")
    opened = []
    real = type(w.store).read

    def counting(store):
        opened.append(1)
        return real(store)

    monkeypatch.setattr(type(w.store), "read", counting)
    sheet = w.funding.show(SEED1)
    assert [n.partner for n in sheet.terminable] == [PDC] and len(opened) == 1


def test_a_backup_round_trip_keeps_the_money(seed1, db_url, tmp_path):
    from workflow.formats.dump import dumps, import_all

    w = at(seed1, 2020, 12, 1)
    w.directory.add_partner("Nord", SEED1)
    w.funding.set(SEED1, "Nord", cap="100 000 000", payment="on-signature")  # 10^10 cents: beyond INTEGER
    w.funding.add_expense(SEED1, "123 456 789,01", date(2020, 7, 7), "Beaucoup")
    w.funding.issue_statement(SEED1, PDC)
    w.funding.pay(SEED1, "Nord", date(2020, 7, 1), "100000000")
    doc = dumps(w.dump.export())
    if db_url.startswith("sqlite"):
        target, cleanup = "sqlite:///" + str(tmp_path / "copy.db"), None
    else:
        cleanup = pg_schema()
        target = next(cleanup)
    try:
        import_all(target, doc)
        copy = Workflow.open(target, clock=w.clock, actor=COORD)
        try:
            assert copy.funding.show(SEED1) == w.funding.show(SEED1)
            assert copy.funding.expenses(SEED1) == w.funding.expenses(SEED1)
        finally:
            copy.close()
    finally:
        if cleanup is not None:
            next(cleanup, None)


# ---- scopes: each reads and changes only the money of their programme (partner body) -----------------------

def test_each_reads_and_changes_only_the_money_of_their_scope(wf):
    from tests.workflow import scopes as sc

    sc.build(wf)
    ca, cb = wf.acting_as(sc.COORD_A), wf.acting_as(sc.COORD_B)
    before = sc.counts(wf)
    sc.refused_in(ca.funding.set, sc.B, sc.B, sc.Z, cap="1", payment="after-statement")
    sc.refused_in(ca.funding.add_expense, sc.B, sc.B, "10", date(2020, 6, 30), "Autre")
    sc.refused_in(ca.funding.issue_statement, sc.B, sc.B, sc.Z)
    sc.refused_in(ca.funding.pay, sc.B, sc.B, sc.Z, date(2020, 6, 30), "1 000")
    for w in (wf.acting_as(sc.COMMITTEE_A), wf.acting_as(sc.PARTNER_X), wf.acting_as(sc.COACH_A)):
        with pytest.raises(Forbidden) as e:  # no one but a coordinator records money
            w.funding.set(sc.A, sc.X, cap="1", payment="after-statement")
        assert e.value.code == "role_needed"
    assert sc.counts(wf) == before
    # Reads: a programme's coordinators and committee read all of it; a partner reader, their body's.
    assert [p.partner for p in ca.funding.show(sc.A).partners] == [sc.X, sc.Y]
    assert [p.partner for p in wf.acting_as(sc.COMMITTEE_A).funding.show(sc.A).partners] == [sc.X, sc.Y]
    sheet = wf.acting_as(sc.PARTNER_X).funding.show(sc.A)
    assert [p.partner for p in sheet.partners] == [sc.X]
    assert sheet.expenses == Decimal("2000") and sheet.partners[0].covered == Decimal("1000")  # its share's base
    assert [e.label for e in wf.acting_as(sc.PARTNER_X).funding.expenses(sc.A)] == [f"Ateliers de {sc.A}"]
    for w in (cb, wf.acting_as(sc.COMMITTEE_A), wf.acting_as(sc.PARTNER_X)):
        sc.refused_in(w.funding.show, sc.A if w is cb else sc.B, sc.A if w is cb else sc.B)
        sc.refused_in(w.funding.expenses, sc.A if w is cb else sc.B, sc.A if w is cb else sc.B)
    with pytest.raises(Forbidden) as e:  # a coach reads no money; the administrator neither
        wf.acting_as(sc.COACH_A).funding.show(sc.A)
    assert e.value.code == "role_needed"
    assert [p.partner for p in cb.funding.show(sc.B).partners] == [sc.Z]
