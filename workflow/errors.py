"""Errors the library raises: a stable ``code``, its ``params``, and one English sentence.

The sentence is a catalog msgid (``N_``-marked at the raise) with ``{name}`` placeholders;
``text(lang)`` translates and fills it (notifications.i18n). Errors carry no exit code, no HTTP
status and no command syntax: each client maps the class or the code (cli.py: exit 1 or 3, and
the hint naming the command to run).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from notifications.i18n import QUOTE_LIMIT, Message, N_, Np_, colon, quote, text

__all__ = ["QUOTE_LIMIT", "N_", "Np_", "quote", "PreincubError", "NotFound", "Invalid", "Refused", "StoreError",
           "ChangedMeanwhile", "Forbidden", "StoreWarning"]


class PreincubError(Exception):
    """Refused by a rule, not found, or invalid data. The message says what to do.

    ``code`` names the error for clients (stable; default: the class name in snake case) and
    ``params`` holds the values the message quotes (``n`` picks a plural form).
    """

    def __init__(self, message: Message, /, *, code: str | None = None, **params: Any) -> None:
        self.message = message
        self.code = code or _snake(type(self).__name__)
        self.params = params
        super().__init__(self.text("en"))

    def text(self, lang: str = "fr") -> str:
        return text(lang, self.message, self.params)


class NotFound(PreincubError):
    pass


class Invalid(PreincubError, ValueError):
    """Invalid data; also a ValueError, so the parsers' errors reach click's usage errors as is."""


class Refused(PreincubError):
    """A trigger whose guards are unmet; ``reasons`` lists every one (states.Unmet).

    The text is the head ("select refused for 'X'") and every reason; a client short of room
    shows :meth:`head` and as many reasons as fit (``team``: where ``check`` lists them all).
    """

    def __init__(self, reasons: Sequence[Any], *, team: str, trigger: str, forced: bool = False) -> None:
        self.reasons = list(reasons)
        self.team = team
        super().__init__(N_("{trigger} refused for {team!q}"), code="refused", team=team, trigger=trigger,
                         unmet=[u.code for u in self.reasons])

    def head(self, lang: str = "fr") -> str:
        return super().text(lang)

    def text(self, lang: str = "fr") -> str:
        return self.head(lang) + colon(lang) + "; ".join(text(lang, u.message, u.params) for u in self.reasons)


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

    def __init__(self, message: Message, /, **params: Any) -> None:
        self.message, self.params = message, params
        super().__init__(text("en", message, params))

    def text(self, lang: str = "fr") -> str:
        return text(lang, self.message, self.params)
