"""Numbers as people type them (workflow/rules/numbers.py): a comma or a dot, ASCII digits only."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from workflow.errors import Invalid
from workflow.rules.numbers import parse_decimal, parse_whole


@given(whole=st.integers(-10**15 + 1, 10**15 - 1), decimals=st.text("0123456789", min_size=1, max_size=6))
def test_a_comma_and_a_dot_read_alike(whole, decimals):
    assert parse_whole(str(whole)) == whole
    sign = "-" if whole < 0 else ""
    typed = f"{sign}{abs(whole)},{decimals}"
    assert parse_decimal(typed) == parse_decimal(typed.replace(",", ".")) == float(typed.replace(",", "."))


@given(st.text(min_size=1, max_size=12))
def test_only_ascii_digits_make_a_whole_number(typed):
    """Whatever int() would also take ("１２", "1_000", " 12\\n"), a whole number is ASCII digits and a sign."""
    plain = re.fullmatch(r"[+-]?[0-9]+", typed.strip()) is not None
    try:
        parse_whole(typed)
    except Invalid:
        assert not plain
    else:
        assert plain
