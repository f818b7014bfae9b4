"""Stored or typed text as a reader may see it: C0/C1 controls (ANSI escapes start with ESC or CSI),
bidirectional overrides (which reorder what is shown), line separators and lone surrogates
(undecodable input) written as visible escapes (``\\x1b``, ``\\u202e``), so the text can neither
drive a terminal nor disguise itself. Newline and tab are kept where several lines are expected.

The lowest layer that shows text holds it: the documents, the timeline and the CLI's error line
(which must not load the library for it) use it."""

from __future__ import annotations

import re
from typing import Any

_UNSAFE_MULTI = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                           "\u2028\u2029\ud800-\udfff]")
_UNSAFE_LINE = re.compile(_UNSAFE_MULTI.pattern[:-1] + "\n\t]")


def _escape(m: re.Match) -> str:
    o = ord(m.group())
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def shown(value: str, *, multiline: bool = False) -> str:
    """``value`` verbatim but for the characters above, escaped (``multiline``: newline and tab kept).
    Printable text, most of it, is returned as is: none of them is printable (``str.isprintable``)."""
    if value.isprintable():
        return value
    return (_UNSAFE_MULTI if multiline else _UNSAFE_LINE).sub(_escape, value)


def visible(value: Any) -> str:
    """Any value as a document shows it (None as nothing), its lines kept."""
    return "" if value is None else shown(str(value), multiline=True)
