"""Money, exactly: euros as ``Decimal`` with two places, stored as integer cents (docs/domain.md, "Money").

Pure functions, no I/O: reading an amount or a share as people type it (:func:`parse_amount`,
:func:`parse_percent`), cents <-> euros, and the agreements' arithmetic (:func:`share_of`, :func:`unused`).
Never a float: a float cannot hold 0.10 €, and an agreement's figures must add up to the cent.
"""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from workflow.errors import N_, Invalid

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999.99")  # under a billion euros: more is a typing mistake, and cents fit any column
MAX_AMOUNT_TEXT = 40  # characters of a typed amount: anything longer is not an amount
FULL_SHARE_BP = 10_000  # 100 %, in hundredths of a percent (basis points)

# How a partner pays (stable: stored and printed in JSON), and how people read it.
AFTER_STATEMENT = "after-statement"  # seed 1: one payment, on a statement of the expenses really incurred
ON_SIGNATURE = "on-signature"  # seed 2: one payment of the cap on signature; unused funds given back
PAYMENTS = (AFTER_STATEMENT, ON_SIGNATURE)
PAYMENT_LABELS = {AFTER_STATEMENT: N_("after the statement"), ON_SIGNATURE: N_("on signature")}

# Spaces people (and Babel) put between groups of thousands: space, no-break space, narrow no-break
# space, thin space.
_SPACES = " \u00a0\u202f\u2009"
_AMOUNT = re.compile(r"(?P<int>\d{1,3}(?:[" + _SPACES + r"]\d{3})+|\d+)(?:[.,](?P<dec>\d+))?", re.ASCII)
_PERCENT = re.compile(r"(?P<int>\d+)(?:[.,](?P<dec>\d+))?", re.ASCII)


def _strip_sign(text: str, signs: tuple[str, ...]) -> str:
    """``text`` without one leading or trailing unit sign (``€``, ``EUR``, ``%``) and the spaces around it."""
    t = text.strip(_SPACES + "\t")
    for sign in signs:
        if t.upper().endswith(sign):
            return t[: -len(sign)].strip(_SPACES + "\t")
        if t.upper().startswith(sign):
            return t[len(sign):].strip(_SPACES + "\t")
    return t


def parse_amount(text: str) -> Decimal:
    """An amount in euros as people type it: ``9000``, ``9 000`` (any space between the thousands),
    ``9000,00``, ``9000.00``, with or without ``€``. Negative amounts, more than two decimals, absurd
    sizes and anything else are refused, each with one sentence."""
    raw = str(text)
    if len(raw) > MAX_AMOUNT_TEXT:
        raise Invalid(N_("{value!q} is not an amount in euros: too long"), code="bad_amount", value=raw)
    t = _strip_sign(raw, ("€", "EUR"))
    if t.startswith(("-", "\u2212")):
        raise Invalid(N_("{value!q}: an amount cannot be negative"), code="bad_amount", value=raw)
    m = _AMOUNT.fullmatch(t)
    if m is None:
        raise Invalid(N_("{value!q} is not an amount in euros (write 9000, 9 000, 9000,00 or 9000.00)"),
                      code="bad_amount", value=raw)
    decimals = m["dec"] or ""
    if len(decimals) > 2:
        raise Invalid(N_("{value!q} has more than two decimals: amounts are in euros and cents "
                         "(a dot or a comma is never a thousands separator)"), code="bad_amount", value=raw)
    whole = re.sub("[" + _SPACES + "]", "", m["int"])
    return check_amount(Decimal(f"{whole}.{decimals or '0'}"), shown=raw)


def check_amount(value: Decimal | str | int, *, positive: bool = False, shown: str | None = None) -> Decimal:
    """An amount given by a Python caller (``Decimal``, its text, or whole euros), checked as
    :func:`parse_amount` checks a typed one; ``positive``: zero is refused too. A float is refused:
    it cannot hold cents exactly. ``shown``: the text as typed, for the refusals."""
    if isinstance(value, float) or isinstance(value, bool):
        raise Invalid(N_("give amounts as Decimal or text, never as a float: {value}"), code="bad_amount",
                      value=repr(value))
    if isinstance(value, str):
        return check_amount(parse_amount(value), positive=positive)
    try:
        d = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise Invalid(N_("{value!q} is not an amount in euros (write 9000, 9 000, 9000,00 or 9000.00)"),
                      code="bad_amount", value=str(value)) from None
    shown = str(value) if shown is None else shown
    if not d.is_finite():
        raise Invalid(N_("{value!q} is not an amount in euros (write 9000, 9 000, 9000,00 or 9000.00)"),
                      code="bad_amount", value=shown)
    if d < 0:
        raise Invalid(N_("{value!q}: an amount cannot be negative"), code="bad_amount", value=shown)
    if d > MAX_AMOUNT:
        raise Invalid(N_("{value!q} is too large for an amount (at most {max!m})"), code="bad_amount",
                      value=shown, max=str(MAX_AMOUNT))
    if d != d.quantize(CENT, rounding=ROUND_DOWN):
        raise Invalid(N_("{value!q} has more than two decimals: amounts are in euros and cents "
                         "(a dot or a comma is never a thousands separator)"), code="bad_amount", value=shown)
    if positive and d == 0:
        raise Invalid(N_("the amount must be more than zero"), code="bad_amount", value=shown)
    return d.quantize(CENT)


def parse_percent(text: str) -> Decimal:
    """A share of the expenses as people type it: ``50``, ``50 %``, ``12,5``; more than 0 and at most 100,
    with at most two decimals (it is stored in hundredths of a percent)."""
    raw = str(text)
    m = _PERCENT.fullmatch(_strip_sign(raw, ("%",))) if len(raw) <= MAX_AMOUNT_TEXT else None
    if m is None:
        raise Invalid(N_("{value!q} is not a percentage (write 50 or 50 %)"), code="bad_share",
                      value=raw[:MAX_AMOUNT_TEXT])
    if len(m["dec"] or "") > 2:
        raise Invalid(N_("{value!q}: a share has at most two decimals"), code="bad_share", value=raw)
    return check_percent(Decimal(f"{m['int']}.{m['dec'] or '0'}"), shown=raw)


def check_percent(value: Decimal | str | int, *, shown: str | None = None) -> Decimal:
    """A share in percent from a Python caller, checked like a typed one (a float is refused)."""
    if isinstance(value, str):
        return parse_percent(value)
    if isinstance(value, (float, bool)):
        raise Invalid(N_("give a share as Decimal or text, never as a float: {value}"), code="bad_share",
                      value=repr(value))
    try:
        d = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise Invalid(N_("{value!q} is not a percentage (write 50 or 50 %)"), code="bad_share",
                      value=str(value)[:MAX_AMOUNT_TEXT]) from None
    shown = str(value) if shown is None else shown
    if not d.is_finite() or not Decimal(0) < d <= Decimal(100):
        raise Invalid(N_("a share must be more than 0 % and at most 100 %, got {value}"), code="bad_share",
                      value=shown)
    if d != d.quantize(CENT, rounding=ROUND_DOWN):
        raise Invalid(N_("{value!q}: a share has at most two decimals"), code="bad_share", value=shown)
    return d.quantize(CENT)


# ---- storage: integer cents, hundredths of a percent ------------------------------------------------


def to_cents(amount: Decimal) -> int:
    """A checked amount as the integer cents the store holds."""
    return int(amount.quantize(CENT) * 100)


def from_cents(cents: int) -> Decimal:
    """Stored cents as euros with two places."""
    return (Decimal(int(cents)) / 100).quantize(CENT)


def to_bp(percent: Decimal) -> int:
    """A share in percent as hundredths of a percent (50 % -> 5000)."""
    return int(percent * 100)


def from_bp(bp: int) -> Decimal:
    """Hundredths of a percent as a percent with two places (5000 -> 50.00)."""
    return (Decimal(int(bp)) / 100).quantize(CENT)


def text(amount: Decimal) -> str:
    """An amount as JSON and audit events carry it: its exact text, ``"9000.00"``."""
    return f"{amount.quantize(CENT)}"


# ---- the agreements' arithmetic, in cents ---------------------------------------------------------


def share_of(expenses_cents: int, share_bp: int, cap_cents: int) -> int:
    """What a partner's contribution covers: its share of the expenses really incurred, at most its cap
    (seed 1: "the lower of 9,000 € and the expenses"). A fraction of a cent is dropped, so the partner
    is never asked for more than its exact share."""
    return min(cap_cents, max(0, expenses_cents) * share_bp // FULL_SHARE_BP)


def unused(paid_cents: int, expenses_cents: int, share_bp: int, cap_cents: int) -> int:
    """What was paid and is not used by the partner's share of the expenses (seed 2: given back at the
    end); never negative."""
    return max(0, paid_cents - share_of(expenses_cents, share_bp, cap_cents))
