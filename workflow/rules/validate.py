"""Checks on what users type, each failing with one clear message (errors.Invalid).

``what`` names the value checked, as a catalog msgid that reads inside a sentence ("the team name",
"a role"): :func:`label` finds it for the short keys callers give ("team", "--hours"); a caller
may also pass its own ``N_``-marked label, used as is."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from workflow.errors import N_, Invalid

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LOCAL = re.compile(r"^[^@\s]+@localhost$")  # the system user's address, made by the first init
MAX_NAME = 200
MAX_TEXT = 20_000


# Unicode's control characters (category Cc) are exactly U+0000-U+001F and U+007F-U+009F; the line and
# paragraph separators (Zl, Zp) are U+2028 and U+2029. One regex search, not a lookup per character.
_CONTROL_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_MULTI = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _control(text: str, allow_newlines: bool) -> bool:
    """Control characters, and line or paragraph separators (U+2028, U+2029) where a line is expected."""
    return (_CONTROL_MULTI if allow_newlines else _CONTROL_LINE).search(text) is not None


# How the values checked here read in a sentence, by the key a caller gives (catalog msgids).
NAMES = {"team": N_("the team name"), "programme": N_("the programme name"),
         "partner": N_("the partner body's name"), "person": N_("the person's name")}
TEXTS = {"problem": N_("the problem statement"), "note": N_("the note"), "summary": N_("the summary"),
         "opinion": N_("the opinion"), "reason": N_("the reason"), "notes": N_("the text of the notes"),
         "blockers": N_("the text of the blockers"), "next steps": N_("the text of the next steps")}
CHOICES = {"party": N_("a party to the agreement"), "phase": N_("a phase"), "status": N_("a status"),
           "role": N_("a role"), "channel": N_("a channel"), "language": N_("a language"),
           "programme kind": N_("a kind of programme"), "partner kind": N_("a kind of partner body")}
NUMBERS = {"--days-per-week": N_("the days per week"), "--min-days-per-week": N_("the minimum days per week"),
           "--hours": N_("the hours"), "--mood": N_("the mood"), "--weeks": N_("the number of weeks"),
           "--months": N_("the number of months"), "--capacity": N_("the capacity")}
DATES = {"--on": N_("the check-in date"), "--until": N_("the end date"), "--since": N_("the start date"),
         "committee date": N_("the committee date"), "signed on": N_("the signing date")}


def label(what: str, table: dict[str, str]) -> str:
    """The msgid for ``what``: from ``table``, else ``what`` itself (a caller's own label)."""
    return table.get(what, what)


def _clean(value: str, what: str, limit: int, one_line: bool) -> str:
    v = unicodedata.normalize("NFC", value.strip())
    if not v:
        raise Invalid(N_("{what!t} is empty"), what=what)
    if len(v) > limit:
        raise Invalid(N_("{what!t} is longer than {limit!n} characters"), what=what, limit=limit)
    if _control(v, allow_newlines=not one_line):
        raise Invalid(N_("{what!t} contains control characters"), what=what)
    return v


def name(value: str, what: str) -> str:
    """A display name: accents and spaces welcome; not blank, one line, at most 200 characters."""
    return _clean(value or "", label(what, NAMES), MAX_NAME, one_line=True)


def lookup(value: str) -> str:
    """A name as typed, made comparable with stored (NFC) names: macOS input may be decomposed (NFD)."""
    return unicodedata.normalize("NFC", (value or "").strip())


def text(value: str | None, what: str) -> str | None:
    """Free text (problem, note, reason): None stays None; blank is refused."""
    return None if value is None else _clean(value, label(what, TEXTS), MAX_TEXT, one_line=False)


def email(value: str, *, local: bool = False) -> str:
    """An e-mail address, lower-cased; ``local`` also accepts USER@localhost (to name the system user)."""
    v = (value or "").strip().lower()
    known = _EMAIL.match(v) or (local and _LOCAL.match(v))
    if not known or len(v) > 254 or _control(v, allow_newlines=False):
        raise Invalid(N_("{value!q} is not an e-mail address (expected name@example.org)"), value=value)
    return v


def choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise Invalid(N_("{value!q} is not {what!t}; choose one of: {allowed}"), value=value,
                      what=label(what, CHOICES), allowed=", ".join(allowed))
    return value


def number(value: float, what: str, low: float, high: float, *, integer: bool = False) -> float:
    if integer and int(value) != value:
        raise Invalid(N_("{what!t} must be a whole number, got {value!n}"), what=label(what, NUMBERS), value=value)
    if not (low <= value <= high):
        raise Invalid(N_("{what!t} must be between {low!n} and {high!n}, got {value!n}"), what=label(what, NUMBERS),
                      low=low, high=high, value=value)
    return int(value) if integer else float(value)


def plausible_date(d: date, what: str) -> date:
    if not (2000 <= d.year <= 2100):
        raise Invalid(N_("{what!t}, {day}, is not a plausible date (2000-2100)"), what=label(what, DATES),
                      day=d.isoformat())
    return d


def past_date(d: date, today: date, what: str, code: str) -> date:
    """A day that has happened: plausible (2000-2100) and not after ``today``. A check-in, an
    expense, a payment, a formal notice and its answer are recorded once they took place."""
    plausible_date(d, what)
    if d > today:
        raise Invalid(N_("{what!t}, {on!d}, is in the future (today is {today!d})"), code=code,
                      what=label(what, DATES), on=d, today=today)
    return d


def url(value: str | None) -> str | None:
    if value is None:
        return None
    v = value.strip()
    if not re.match(r"^https?://\S+$", v):
        raise Invalid(N_("{value!q} is not a web link (expected https://...)"), value=value)
    return v


def placeholder(email: str) -> bool:
    """Whether ``email`` is a placeholder no mail relay delivers to (the system user's ``login@localhost``):
    such a person is never a recipient."""
    return bool(_LOCAL.match(email))
