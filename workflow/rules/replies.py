"""A check-in typed in a reply to the reminder e-mail: the lines that start with a known label fill that
field ("Heures : 6", "Blocages : …", "Next steps: …"), in French or English whatever the person's
language; everything else is the notes. Pure: the text in, the fields of a
:class:`workflow.services.links.CheckInText` out, as typed, for the library to check like a form's.

People type labels every way: in any case, without accents ("prochaines etapes"), with French
typography's space (or no-break space) before the colon, after a bullet, in markdown bold. Only known
labels count: "Objet : …" or "Remarque : bla" are notes. A text field (blockers, next steps, notes, a
missed week's reason) goes on over the following lines until a blank line or the next label.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# field -> the labels accepted, French first then English (the first of each language is the one shown)
LABELS: dict[str, tuple[str, ...]] = {
    "hours": ("Heures", "Temps", "Hours", "Time"),
    "blockers": ("Blocages", "Blocage", "Blockers", "Blocker"),
    "next_steps": ("Prochaines étapes", "Étapes suivantes", "Next steps"),
    "mood": ("Humeur", "Mood"),
    "on": ("Date", "Jour", "Day"),
    "notes": ("Notes", "Note"),
    "missed": ("Non tenu", "Annulé", "Missed", "Not held"),  # value = the reason; missed=True
}
# The label each language shows (in the reminder and the confirmation).
SHOWN: dict[str, dict[str, str]] = {
    "fr": {"hours": "Heures", "blockers": "Blocages", "next_steps": "Prochaines étapes", "mood": "Humeur",
           "on": "Date", "notes": "Notes", "missed": "Non tenu"},
    "en": {"hours": "Hours", "blockers": "Blockers", "next_steps": "Next steps", "mood": "Mood",
           "on": "Date", "notes": "Notes", "missed": "Missed"},
}
TEXT_FIELDS = ("blockers", "next_steps", "notes", "missed")  # go on over the following lines

_SPACE = "[ \t\u00a0\u202f\u2007]"
_LINE = re.compile(
    rf"{_SPACE}*(?:[-*•+]{_SPACE}+)?(?P<open>\*\*|__)?{_SPACE}*(?P<label>[^:*_\n]{{1,40}}?){_SPACE}*"
    rf"(?P<close>\*\*|__)?{_SPACE}*:{_SPACE}*(?P<after>\*\*|__)?(?P<value>.*)")
_HOURS = re.compile(r"([+-]?[0-9]+(?:[.,][0-9]*)?)\s*(?:h|hr|hrs|heures?|hours?)?\.?", re.I)
_MOOD = re.compile(r"([+-]?[0-9]+(?:[.,][0-9]*)?)\s*(?:/\s*5|\(\s*(?:de\s+|from\s+)?1\s*(?:à|a|to|-)\s*5\s*\))?",
                   re.I)
_DMY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_EMPTY = re.compile(r"[.…\s]*")  # the reminder's "Blocages : …", copied unfilled


def fold(text: str) -> str:
    """A label as compared: lowercase, without accents, spaces (no-break ones too) single."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


_FIELD_OF = {fold(label): field for field, labels in LABELS.items() for label in labels}


def _labelled(line: str) -> tuple[str, str] | None:
    """(field, value) of a line that starts with a known label, else None."""
    if ":" not in line[:80]:
        return None
    m = _LINE.match(line)
    if m is None:
        return None
    field = _FIELD_OF.get(fold(m["label"]))
    if field is None:
        return None
    marker = m["open"]
    value = m["value"] if marker or not m["after"] else m["after"] + m["value"]  # "__init__" is no bold
    value = value.strip(" \t\u00a0\u202f\u2007")
    if marker and not m["close"] and not m["after"] and value.endswith(marker):
        value = value[: -len(marker)].rstrip(" \t\u00a0\u202f\u2007")  # "**Heures : 6**"
    return field, value


def _hours(value: str) -> str:
    m = _HOURS.fullmatch(value)
    return m[1] if m else value


def _mood(value: str) -> str:
    m = _MOOD.fullmatch(value)
    return m[1] if m else value


def _day(value: str) -> str:
    m = _DMY.fullmatch(value)
    return f"{int(m[3]):04d}-{int(m[2]):02d}-{int(m[1]):02d}" if m else value


_SINGLE = {"hours": _hours, "mood": _mood, "on": _day}


def _paragraphs(lines: list[str]) -> str | None:
    """Lines as text: blank lines single, none at either end; None when nothing is left."""
    text = re.sub(r"\n(?:[ \t]*\n)+", "\n\n", "\n".join(line.rstrip() for line in lines)).strip("\n")
    return text.strip() or None


def fields(reply: str) -> dict[str, Any]:
    """The check-in a reply types: {"on", "notes", "blockers", "next_steps", "hours", "mood", "missed",
    "reason"}, strings as typed (hours and mood without their unit, a day/month/year date as
    YYYY-MM-DD) or None, missed a bool: exactly a CheckInText's fields, which the library checks."""
    lines = str(reply).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    single: dict[str, str] = {}
    texts: dict[str, list[list[str]]] = {}  # field -> each time its label was given: its lines
    missed = False
    notes: list[str] = []
    current: list[str] | None = None  # the text field the following lines go on
    for line in lines:
        if not line.strip():
            current = None
            notes.append("")
            continue
        found = _labelled(line)
        if found is None:
            if current is not None:
                current.append(line.strip())
            else:
                notes.append(line)
            continue
        field, value = found
        if field == "missed":
            missed = True
        if field in TEXT_FIELDS:
            current = [value]
            texts.setdefault(field, []).append(current)
            continue
        current = None
        if not _EMPTY.fullmatch(value):
            single[field] = _SINGLE[field](value)
    joined: dict[str, str | None] = {}
    for field, chunks in texts.items():
        parts = [_paragraphs(chunk) for chunk in chunks]
        kept = [p for p in parts if p and not _EMPTY.fullmatch(p)]
        joined[field] = "\n".join(kept) or None
    rest = _paragraphs(notes)
    labelled_notes = joined.get("notes")
    all_notes = "\n\n".join(p for p in (labelled_notes, rest) if p) or None
    return {"on": single.get("on"), "notes": all_notes, "blockers": joined.get("blockers"),
            "next_steps": joined.get("next_steps"), "hours": single.get("hours"), "mood": single.get("mood"),
            "missed": missed, "reason": joined.get("missed")}
