"""Translations: gettext catalogs (Babel) under ``notifications/locale``, one domain, ``preincub``.

They live here, the lowest layer every client reaches (cli.py and web/ through workflow/, which
imports notifications/), so the CLI, the library's errors and the messages share one catalog.

The source language is English; ``locale/fr/LC_MESSAGES/preincub.po`` is the French translation,
compiled to ``preincub.mo`` beside it (both ship in the wheel and serve the editable install). The
catalog also holds click's own sentences ("Usage:", "Missing argument"…), which click marks with
the standard library's global gettext: :func:`use_for_click` points that at this catalog.

To refresh the catalog after changing a sentence: ``python -m notifications.catalog``.
"""

from __future__ import annotations

import gettext
import os
from datetime import date
from functools import cache, lru_cache
from pathlib import Path

DOMAIN = "preincub"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGS = ("fr", "en")
DEFAULT_LANG = "fr"
KEYWORDS = ("_", "N_", "gettext", "ngettext:1,2")


def N_(message: str) -> str:
    return message


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog for ``lang``; English (the source) and unknown languages need none."""
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


@lru_cache(maxsize=4096)
def format_day(day: date, lang: str) -> str:
    """A date as people read it: "23 décembre 2020", "December 23, 2020" (cached: a tick writes the
    same few dates into thousands of messages, and Babel parses its locale data on every call)."""
    from babel.dates import format_date

    return format_date(day, format="long", locale=lang)


def use_for_click(lang: str) -> None:
    """Make click's own sentences follow ``lang``: click calls ``gettext.gettext``, which reads the
    process's text domain and the LANGUAGE variable."""
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = lang
