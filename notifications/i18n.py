"""Translations: gettext catalogs (Babel) under ``notifications/locale``, one domain, ``preincub``.

They live here, the lowest layer every client reaches (cli.py and web/ through workflow/, which
imports notifications/), so the CLI, the library's errors and the messages share one catalog.

The source language is English; ``locale/fr/LC_MESSAGES/preincub.po`` is the French translation,
compiled to ``preincub.mo`` beside it (both ship in the wheel and serve the editable install). The
catalog also holds click's own sentences ("Usage:", "Missing argument"…), which click marks with
the standard library's global gettext: :func:`use_for_click` points that at this catalog.

A sentence is written once, in English, marked ``N_("…")`` (or ``Np_("one…", "{n} …")`` when it
counts), with ``{name}`` placeholders; :func:`text` translates and fills it in a given language.
A placeholder may say how its value is shown: ``{x!q}`` a user's value, quoted and cut;
``{x!t}`` a word that is itself translated (a phase, a role); ``{x!d}`` a date, ``{x!n}`` a number,
both as the language writes them (Babel); ``{x!m}`` an amount in euros (:func:`format_money`).

To refresh the catalog after changing a sentence: ``python -m tools.catalog``.
"""

from __future__ import annotations

import gettext
import os
import string
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

DOMAIN = "preincub"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGS = ("fr", "en")
DEFAULT_LANG = "fr"
QUOTE_LIMIT = 80  # characters of a user's value quoted in a message: enough to recognise it

Message = str | tuple[str, str]  # a msgid, or (singular, plural) chosen by the ``n`` parameter


def N_(message: str) -> str:
    """Mark a sentence for the catalog; it is translated where it is shown (:func:`text`)."""
    return message


def Np_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a counted sentence; :func:`text` picks the form for the parameter ``n``."""
    return (singular, plural)


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A user's value as a message quotes it: repr-quoted (controls escaped, so the line stays one
    line), and cut to ``limit`` characters so a 100 KB argument is not echoed whole."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return repr(text)


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog for ``lang``; English (the source) and unknown languages need none."""
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def gettext_for(lang: str) -> Any:
    """``_`` for one language."""
    return translations(lang).gettext


class _Formatter(string.Formatter):
    """str.format plus the conversions of the module docstring (!q !t !d !n)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion == "q":
            return quote(value)
        if conversion == "t":
            return translations(self.lang).gettext(value) if value else value
        if conversion == "d":
            return format_day(value, self.lang) if isinstance(value, date) else str(value)
        if conversion == "n":
            return format_number(value, self.lang)
        if conversion == "m":
            return format_money(value, self.lang)
        return super().convert_field(value, conversion)


@cache
def _formatter(lang: str) -> _Formatter:
    return _Formatter(lang)


def text(lang: str, message: Message, params: Mapping[str, Any] | None = None) -> str:
    """``message`` in ``lang`` with its placeholders filled from ``params`` (``n`` picks a plural)."""
    t = translations(lang)
    params = params or {}
    if isinstance(message, tuple):
        found = t.ngettext(message[0], message[1], int(params.get("n", 0)))
    else:
        found = t.gettext(message)
    return _formatter(lang).vformat(found, (), params) if params or "{" in found else found


def colon(lang: str) -> str:
    """": " in English, " : " (non-breaking space) in French, between a head and what follows."""
    return "\u00a0: " if lang == "fr" else ": "


@lru_cache(maxsize=4096)
def format_day(day: date, lang: str) -> str:
    """A date as people read it: "23 décembre 2020", "December 23, 2020" (cached: a tick writes the
    same few dates into thousands of messages, and Babel parses its locale data on every call)."""
    from babel.dates import format_date  # Babel: loaded by the first date written (`--help` writes none)

    text = format_date(day, format="long", locale=lang)
    # French writes the first of the month as an ordinal: "1er octobre 2020" (CLDR gives "1 octobre").
    return "1er" + text[1:] if lang == "fr" and day.day == 1 and text.startswith("1 ") else text


@lru_cache(maxsize=1024)
def format_number(value: float | int, lang: str) -> str:
    """2.5 → "2,5" in French; integers stay whole (Babel, cached: the same few numbers recur).

    An integer of at most three digits is written alike in every language here ("-42"): ``status``
    shows only such days left, and Babel's import and locale data cost it ~20 ms at start-up."""
    if type(value) is int and -1000 < value < 1000:
        return str(value)
    if abs(value) >= 1e15:  # what someone typed by mistake (--hours 1e26): Babel's rounding overflows on it
        return f"{value:.6g}"
    from babel.numbers import format_decimal  # Babel: loaded by the first such number (see above)

    return format_decimal(value, locale=lang, decimal_quantization=False)


@lru_cache(maxsize=1024)
def format_money(amount: Any, lang: str) -> str:
    """An amount in euros (a ``Decimal`` or its exact text, "9000.00"): "9 000,00 €" in French,
    "€9,000.00" in English (Babel's currency format; never through a float)."""
    from babel.numbers import format_currency  # Babel: loaded by the first amount written

    return format_currency(Decimal(str(amount)), "EUR", locale=lang)


def use_for_click(lang: str) -> None:
    """Make click's own sentences follow ``lang``: click calls ``gettext.gettext``, which reads the
    process's text domain and the LANGUAGE variable."""
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = lang
