"""Numbers as people type them, on the command line and in the web's forms alike: ASCII digits, an
optional sign, and for a decimal one comma (as French writes it) or one dot. Python's float() and int()
take more ("1e400", "nan", "１２", "1_000"), which nobody means."""

from __future__ import annotations

import re

from workflow.errors import N_, Invalid

# ASCII digits, an optional sign, for a decimal one comma or one dot.
_WHOLE = re.compile(r"[+-]?([0-9]+)")
_DECIMAL = re.compile(r"[+-]?([0-9]*)(?:[.,]([0-9]*))?")
MAX_DIGITS = 15  # digits before the decimals: more is a typing mistake (and beyond what a float holds exactly)
MAX_WHOLE_DIGITS = 19  # digits of a whole number: an int64, what the store holds (a row id); more is a mistake


def parse_whole(text: str) -> int:
    """A whole number as typed: ASCII digits with an optional sign ("12", "-1"); not "１２" nor "1_000",
    which int() takes."""
    raw = str(text)
    m = _WHOLE.fullmatch(raw.strip())
    if m is None:
        raise Invalid(N_("{value!q} is not a whole number (write it with the digits 0 to 9)"), code="not_a_number",
                      value=raw)
    if len(m[1].lstrip("0")) > MAX_WHOLE_DIGITS:
        raise Invalid(N_("{value!q} is too large a number"), code="not_a_number", value=raw)
    return int(m[0])


def parse_decimal(text: str) -> float:
    """A decimal number as typed, in French or in English: "2,5", "2.5", "3"; not "2,5,1", "1e400", "nan",
    "inf", nor a number of more than :data:`MAX_DIGITS` digits."""
    raw = str(text)
    m = _DECIMAL.fullmatch(raw.strip())
    if m is None or not (m[1] or m[2]):
        raise Invalid(N_("{value!q} is not a number (write 2,5 or 2.5)"), code="not_a_number", value=raw)
    if len(m[1].lstrip("0")) > MAX_DIGITS:
        raise Invalid(N_("{value!q} is too large a number"), code="not_a_number", value=raw)
    return float(m[0].replace(",", "."))
