"""Errors the library raises; each carries the CLI exit code of DESIGN.md's contract."""

from __future__ import annotations

QUOTE_LIMIT = 80  # characters of a user's value quoted in a message: enough to recognise it


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A user's value as a message quotes it: repr-quoted (controls escaped, so the line stays one
    line), and cut to ``limit`` characters so a 100 KB argument is not echoed whole."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return repr(text)


class PreincubError(Exception):
    """Refused by a rule, not found, or invalid data: exit 1. The message says what to do."""

    exit_code = 1

    def __init__(self, en: str, fr: str | None = None) -> None:
        super().__init__(en)
        self.en = en
        self.fr = fr or en

    def text(self, lang: str = "fr") -> str:
        return self.fr if lang == "fr" else self.en


class NotFound(PreincubError):
    pass


class Invalid(PreincubError):
    pass


class Refused(PreincubError):
    """A trigger whose guards are unmet; ``reasons`` lists every one (each has ``text(lang)``).

    The text is the head ("select refused for 'X'") and every reason; a client short of room
    shows the head and as many reasons as fit (``team``: where ``check`` lists them all).
    """

    def __init__(self, head_en: str, head_fr: str, reasons: list, team: str | None = None) -> None:
        super().__init__(head_en + ": " + "; ".join(u.en for u in reasons),
                         head_fr + " : " + "; ".join(u.fr for u in reasons))
        self.heads = {"en": head_en, "fr": head_fr}
        self.reasons = reasons
        self.team = team


class StoreError(PreincubError):
    """The store is missing, foreign, unreadable, or of another version."""


class ChangedMeanwhile(PreincubError):
    exit_code = 3


class Forbidden(PreincubError):
    """The acting person's roles do not allow this action (on this team)."""
