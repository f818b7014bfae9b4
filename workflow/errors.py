"""Errors the library raises: a stable ``code`` and its ``params`` (plus en/fr text, for now).

They carry no exit code and no HTTP status: each client maps the class or the code (cli.py: exit 1
or 3, and the hint naming the command to run)."""

from __future__ import annotations

import re
from typing import Any

QUOTE_LIMIT = 80  # characters of a user's value quoted in a message: enough to recognise it


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A user's value as a message quotes it: repr-quoted (controls escaped, so the line stays one
    line), and cut to ``limit`` characters so a 100 KB argument is not echoed whole."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return repr(text)


class PreincubError(Exception):
    """Refused by a rule, not found, or invalid data. The message says what to do.

    ``code`` names the error for clients (stable; default: the class name in snake case) and
    ``params`` holds the values the message quotes.
    """

    def __init__(self, en: str, fr: str | None = None, *, code: str | None = None,
                 params: dict[str, Any] | None = None) -> None:
        super().__init__(en)
        self.en = en
        self.fr = fr or en
        self.code = code or _snake(type(self).__name__)
        self.params = params or {}

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

    def __init__(self, head_en: str, head_fr: str, reasons: list, team: str | None = None,
                 trigger: str | None = None) -> None:
        super().__init__(head_en + ": " + "; ".join(u.en for u in reasons),
                         head_fr + " : " + "; ".join(u.fr for u in reasons), code="refused",
                         params={"team": team, "trigger": trigger, "unmet": [u.code for u in reasons]})
        self.heads = {"en": head_en, "fr": head_fr}
        self.reasons = reasons
        self.team = team


class StoreError(PreincubError):
    """The store is missing, foreign, unreadable, or of another version."""


class ChangedMeanwhile(PreincubError):
    """A concurrent change won: nothing was written, retrying is safe."""


class Forbidden(PreincubError):
    """The acting person's roles do not allow this action (on this team)."""


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class StoreWarning(UserWarning):
    """Something to fix that does not stop the command (a store open to other users); a client shows
    ``text(lang)`` as one line."""

    def __init__(self, en: str, fr: str) -> None:
        super().__init__(en)
        self.en, self.fr = en, fr

    def text(self, lang: str = "fr") -> str:
        return self.fr if lang == "fr" else self.en
