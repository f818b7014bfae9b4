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

French elides before a vowel: a translator writes "Échéance de {programme}", and the value decides
whether it reads "de Nord 2020" or "d'Essai 2020". :func:`text` does it, in one place, for "de", "que",
"jusque", "lorsque", "puisque", "le" and "la" written just before a placeholder (:func:`elides_before`
says which values take it); fixed words are the translator's, and a value's own words are never touched.

To refresh the catalog after changing a sentence: ``python -m tools.catalog``.
"""

from __future__ import annotations

import gettext
import os
import re
import string
import unicodedata
from collections.abc import Callable, Mapping
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


# French words whose vowel is elided before a vowel or a mute h, as the last word before a placeholder:
# "de" -> "d'", "que" -> "qu'", "le"/"la" -> "l'". Not after a letter, an apostrophe or a hyphen ("modèle {x}").
_ELIDABLE = re.compile(r"(?<![\w'’-])(de|que|jusque|lorsque|puisque|le|la) \Z", re.IGNORECASE)
# Words starting with an aspirated h: no elision ("de Haute-Saône", "de Hauts-de-France", "de Havre", "de hameau").
# The h of other words is mute ("d'Hérault", "d'Hôpital", "d'Habitat"). A short list of what public bodies and
# their projects are named with; a value's first word (up to a hyphen, a space or an apostrophe) is looked up.
ASPIRATED_H = frozenset({
    "haut", "haute", "hautes", "hauts", "hauteur", "havre", "hameau", "hameaux", "hasard", "handicap", "handicaps",
    "hangar", "hall", "halle", "halles", "hausse", "haie", "haies", "héros", "hibou", "hiérarchie", "hockey",
    "hollande", "hongrie", "homard", "honte", "hors", "huit", "huitième", "haguenau", "hazebrouck", "hendaye",
    "honfleur", "hayange", "hainaut"})
# Words starting with a vowel that are not elided before: "de onze", "le oui".
NOT_ELIDED = frozenset({"onze", "onzième", "onzièmes", "oui", "ouistiti"})
_FIRST_WORD = re.compile(r"[^\W\d_]+")


def elides_before(value: str) -> bool:
    """Whether French elides "de", "que", "le"… before ``value``: its first word starts with a vowel
    (accented or not, œ, æ), a mute h, or a y before a consonant ("d'Yvelines", "de yaourt"). A value
    starting with anything else (a digit, a quote: ``{x!q}`` gives "de 'Essai'", a space) is not."""
    first = _FIRST_WORD.match(unicodedata.normalize("NFC", value))  # "é" typed as e + accent is a letter too
    if first is None:
        return False
    word = first.group().lower()
    letter = unicodedata.normalize("NFD", word[0])[0]
    if letter in "aeiouœæ":
        return word not in NOT_ELIDED
    if letter == "h":
        return word not in ASPIRATED_H and len(word) > 1 and elides_before(word[1:])
    if letter == "y":
        return len(word) > 1 and unicodedata.normalize("NFD", word[1])[0] not in "aeiouyœæh"
    return False


class _Formatter(string.Formatter):
    """str.format plus the conversions of the module docstring (!q !t !d !n), and French elision."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        """As str.format; in French, an elidable word just before a placeholder is elided when the
        value inserted there asks for it (:func:`elides_before`): "Phases de {team}" → "Phases
        d'Insertion RSA"."""
        if self.lang != "fr":
            return super().vformat(format_string, args, kwargs)
        out: list[str] = []
        for literal, field, spec, conversion in self.parse(format_string):
            out.append(literal)
            if field is None:
                continue
            value, _key = self.get_field(field, args, kwargs)
            shown = self.format_field(self.convert_field(value, conversion),
                                      self.vformat(spec, args, kwargs) if spec else "")
            word = _ELIDABLE.search(literal)
            # The word is fixed text: at the start of this literal, it would follow the previous value.
            if word is not None and (word.start() > 0 or len(out) == 1) and elides_before(shown):
                out[-1] = literal[: word.end(1) - 1] + "'"
            out.append(shown)
        return "".join(out)

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


_PERCENT = re.compile(r"%\((\w+)\)s")  # a jinja {% trans %} sentence's placeholder


def install_gettext(env: Any, lang_of: Callable[[], str]) -> None:
    """Jinja's i18n extension on ``env`` over the catalog, in the language ``lang_of()`` gives, and
    filling a ``{% trans %}`` sentence as :func:`text` fills one: with French elision ("à l'intention
    d'Essonne"). Values are escaped where the template autoescapes, as jinja's own gettext does."""
    from jinja2 import pass_context  # jinja2: loaded by the first template environment
    from markupsafe import Markup, escape

    def fill(ctx: Any, found: str, variables: dict[str, Any]) -> str:
        safe = bool(ctx.eval_ctx.autoescape)
        as_format = _PERCENT.sub(r"{\1}", found.replace("{", "{{").replace("}", "}}"))
        if "%" in as_format.replace("%%", ""):  # a placeholder that is not %(name)s: jinja's own way
            return (Markup(found) if safe else found) % variables
        as_format = as_format.replace("%%", "%")
        values = {k: (escape(v) if safe else v) for k, v in variables.items()}
        out = _formatter(lang_of()).vformat(as_format, (), values)
        return Markup(out) if safe else out

    @pass_context
    def gettext_(ctx: Any, message: str, **variables: Any) -> str:
        return fill(ctx, translations(lang_of()).gettext(message), variables)

    @pass_context
    def ngettext_(ctx: Any, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        return fill(ctx, translations(lang_of()).ngettext(singular, plural, num), variables)

    env.add_extension("jinja2.ext.i18n")
    env.newstyle_gettext = True
    env.globals.update(gettext=gettext_, _=gettext_, ngettext=ngettext_)


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
