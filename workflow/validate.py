"""Checks on what users type, each failing with one clear message (errors.Invalid)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from workflow.errors import Invalid, quote

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LOCAL = re.compile(r"^[^@\s]+@localhost$")  # the system user's address, made by the first init
MAX_NAME = 200
MAX_TEXT = 20_000


def _control(text: str, allow_newlines: bool) -> bool:
    """Control characters, and line or paragraph separators (U+2028, U+2029) where a line is expected."""
    return any((unicodedata.category(ch) == "Cc" and not (allow_newlines and ch in "\n\t"))
               or (unicodedata.category(ch) in ("Zl", "Zp") and not allow_newlines) for ch in text)


# What a terminal or a log must never receive from stored text: C0/C1 controls (ANSI escapes start
# with ESC or CSI), bidirectional overrides (which reorder what is shown), line separators, and
# lone surrogates (undecodable input). Newline and tab are kept where several lines are expected.
_UNSAFE_MULTI = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                           "\u2028\u2029\ud800-\udfff]")
_UNSAFE_LINE = re.compile(_UNSAFE_MULTI.pattern[:-1] + "\n\t]")


def _escape(m: re.Match) -> str:
    o = ord(m.group())
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def shown(value: str, *, multiline: bool = False) -> str:
    """Text as it may be shown: verbatim, except the characters above, written as visible escapes
    (``\\x1b``, ``\\u202e``), so stored text can neither drive the terminal nor disguise itself."""
    return (_UNSAFE_MULTI if multiline else _UNSAFE_LINE).sub(_escape, value)


def _clean(value: str, what_en: str, what_fr: str, limit: int, one_line: bool) -> str:
    v = unicodedata.normalize("NFC", value.strip())
    if not v:
        raise Invalid(f"the {what_en} is empty", f"{what_fr} est vide")
    if len(v) > limit:
        raise Invalid(f"the {what_en} is longer than {limit} characters", f"{what_fr} dépasse {limit} caractères")
    if _control(v, allow_newlines=not one_line):
        raise Invalid(f"the {what_en} contains control characters", f"{what_fr} contient des caractères de contrôle")
    return v


def name(value: str, what: str) -> str:
    """A display name: accents and spaces welcome; not blank, one line, at most 200 characters."""
    return _clean(value or "", f"{what} name", f"le nom ({what})", MAX_NAME, one_line=True)


def lookup(value: str) -> str:
    """A name as typed, made comparable with stored (NFC) names: macOS input may be decomposed (NFD)."""
    return unicodedata.normalize("NFC", (value or "").strip())


def text(value: str | None, what: str) -> str | None:
    """Free text (problem, note, reason): None stays None; blank is refused."""
    return None if value is None else _clean(value, what, f"le texte ({what})", MAX_TEXT, one_line=False)


def email(value: str, *, local: bool = False) -> str:
    """An e-mail address, lower-cased; ``local`` also accepts USER@localhost (to name the system user)."""
    v = (value or "").strip().lower()
    known = _EMAIL.match(v) or (local and _LOCAL.match(v))
    if not known or len(v) > 254 or _control(v, allow_newlines=False):
        raise Invalid(f"{quote(value)} is not an e-mail address (expected name@example.org)",
                      f"{quote(value)} n'est pas une adresse e-mail (attendu : nom@exemple.fr)")
    return v


def choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise Invalid(f"unknown {what} {quote(value)}; choose one of: {', '.join(allowed)}",
                      f"{what} inconnu(e) {quote(value)} ; choisissez parmi : {', '.join(allowed)}")
    return value


def number(value: float, what: str, low: float, high: float, *, integer: bool = False) -> float:
    if integer and int(value) != value:
        raise Invalid(f"{what} must be a whole number, got {value:g}", f"{what} doit être un nombre entier, reçu {value:g}")
    if not (low <= value <= high):
        raise Invalid(f"{what} must be between {low:g} and {high:g}, got {value:g}",
                      f"{what} doit être entre {low:g} et {high:g}, reçu {value:g}")
    return int(value) if integer else float(value)


def plausible_date(d: date, what: str) -> date:
    if not (2000 <= d.year <= 2100):
        raise Invalid(f"{what} {d.isoformat()} is not a plausible date (2000-2100)",
                      f"{what} {d.isoformat()} n'est pas une date plausible (2000-2100)")
    return d


def url(value: str | None) -> str | None:
    if value is None:
        return None
    v = value.strip()
    if not re.match(r"^https?://\S+$", v):
        raise Invalid(f"{quote(value)} is not a web link (expected https://...)", f"{quote(value)} n'est pas un lien web (attendu https://...)")
    return v
