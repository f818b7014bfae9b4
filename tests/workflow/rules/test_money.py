"""Money as people type it and as the agreements compute it: amounts and shares read or refused,
cents and basis points, the share due under the cap and the unused funds, as properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.errors import Invalid
from workflow.rules import money


CENTS = st.integers(min_value=0, max_value=money.to_cents(money.MAX_AMOUNT) * 1000)


@settings(max_examples=400, deadline=None)
@given(expenses=CENTS, share_bp=st.integers(1, money.FULL_SHARE_BP), cap=st.integers(1, 10**11), paid=CENTS)
def test_the_amount_due_never_exceeds_the_cap_nor_the_share(expenses, share_bp, cap, paid):
    due = money.share_of(expenses, share_bp, cap)
    assert 0 <= due <= cap
    assert due * money.FULL_SHARE_BP <= expenses * share_bp  # never more than the exact share
    if due < cap:  # and less only by the fraction of a cent dropped
        assert expenses * share_bp - due * money.FULL_SHARE_BP < money.FULL_SHARE_BP
    left = money.unused(paid, expenses, share_bp, cap)
    assert left >= 0 and (left == 0 or left == paid - due)


@settings(max_examples=200, deadline=None)
@given(cents=st.integers(0, money.to_cents(money.MAX_AMOUNT)))
def test_an_amount_printed_in_french_reads_back_the_same(cents):
    from notifications.i18n import format_money

    amount = money.from_cents(cents)
    assert money.to_cents(amount) == cents
    assert money.parse_amount(format_money(amount, "fr")) == amount
    assert money.parse_amount(money.text(amount)) == amount


@pytest.mark.parametrize("text", ["9000", "9 000", "9\u00a0000", "9\u202f000", "9000,00", "9000.00", "9 000,00 €",
                                  "€9000", "9000 EUR", " 9000 "])
def test_amounts_people_type(text):
    assert money.parse_amount(text) == Decimal("9000.00")


@pytest.mark.parametrize("text", ["-5", "\u22125", "5,123", "12.345", "9,000.00", "90 00", "1 0000", "abc", "",
                                  "1e5", "NaN", "Infinity", "٣", "１２", "9" * 30, "1 000 000 000", "9" * 100,
                                  "[/]", "<script>", "5;DROP TABLE expense"])
def test_amounts_refused(text):
    with pytest.raises(Invalid) as exc:
        money.parse_amount(text)
    assert exc.value.code == "bad_amount"
    line = exc.value.text("fr")
    assert "\n" not in line and len(line) < 300


@pytest.mark.parametrize("text,share", [("50", "50.00"), ("50 %", "50.00"), ("12,5", "12.50"), ("100", "100.00")])
def test_shares(text, share):
    assert money.parse_percent(text) == Decimal(share)


@pytest.mark.parametrize("text", ["0", "101", "50.123", "x", "-3", "1e1", ""])
def test_shares_refused(text):
    with pytest.raises(Invalid) as exc:
        money.parse_percent(text)
    assert exc.value.code == "bad_share"


def test_cents_and_basis_points():
    assert money.to_cents(Decimal("9000.10")) == 900010 and money.from_cents(900010) == Decimal("9000.10")
    assert money.to_bp(Decimal("12.5")) == 1250 and money.from_bp(5000) == Decimal("50.00")
    assert str(money.from_cents(0)) == "0.00"


def test_the_share_due_is_rounded_down_to_the_cent_and_capped():
    assert money.share_of(10_001, 5_000, 900_000) == 5_000  # 50.005 € -> 50.00 €
    assert money.share_of(2_000_000, 5_000, 900_000) == 900_000
    assert money.share_of(0, 5_000, 900_000) == 0


def test_unused_funds_are_what_was_paid_beyond_the_share():
    assert money.unused(7_000_000, 6_000_000, 10_000, 7_000_000) == 1_000_000
    assert money.unused(7_000_000, 8_000_000, 10_000, 7_000_000) == 0
    assert money.unused(0, 100, 10_000, 7_000_000) == 0


def test_python_callers_give_decimals_text_or_whole_euros_never_floats():
    assert money.check_amount(9000) == money.check_amount("9 000,00") == Decimal("9000.00")
    assert money.check_percent(50) == money.check_percent("50 %") == Decimal("50.00")
    for bad in (0.5, True):
        with pytest.raises(Invalid):
            money.check_amount(bad)
        with pytest.raises(Invalid):
            money.check_percent(bad)
    with pytest.raises(Invalid, match="more than zero"):
        money.check_amount(Decimal(0), positive=True)
    assert money.check_amount(Decimal(0)) == Decimal("0.00")

