"""The message catalog: complete, fresh (re-extracting finds nothing new), compiled, and shipped."""

from __future__ import annotations

import gettext

from babel.messages.pofile import read_po

from notifications import i18n
from tools import catalog

PO = i18n.LOCALE_DIR / "fr" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


def _catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="fr", domain=i18n.DOMAIN)


def test_the_french_catalog_is_complete():
    cat = _catalog()
    assert not cat.fuzzy
    untranslated = [m.id for m in cat if m.id and (m.fuzzy or not (all(m.string) if m.pluralizable else m.string))]
    assert untranslated == []


def test_the_catalog_is_fresh():
    """Every sentence marked in the code (and click's own) is in the catalog, and nothing stale is."""
    extracted = {m.id for m in catalog.extract() if m.id}
    in_po = {m.id for m in _catalog() if m.id}
    assert extracted - in_po == set(), "run: python -m tools.catalog"
    assert in_po - extracted == set(), "stale entries: run python -m tools.catalog"


def test_the_compiled_catalog_matches_its_source():
    mo = gettext.GNUTranslations(PO.with_suffix(".mo").open("rb"))
    for m in _catalog():
        if not m.id:
            continue
        if m.pluralizable:
            assert mo.ngettext(m.id[0], m.id[1], 1) == m.string[0], m.id
            assert mo.ngettext(m.id[0], m.id[1], 2) == m.string[1], m.id
        else:
            assert mo.gettext(m.id) == m.string, m.id


def test_french_typography_uses_non_breaking_spaces():
    for m in _catalog():
        for text in (m.string if m.pluralizable else (m.string,)):
            for mark in ":;?!":
                assert f" {mark}" not in text, (m.id, text)  # a plain space before : ; ? ! is a typo


def test_the_catalog_is_found_where_preincub_is_installed():
    t = i18n.translations("fr")
    assert t.gettext("Show this message and exit.") == "Afficher ce message et quitter."
    assert i18n.translations("en").gettext("Show this message and exit.") == "Show this message and exit."
    assert t.ngettext("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", 2) == \
        "(Vouliez-vous dire l'une de\u00a0: {possibilities}\u00a0?)"


def test_small_integers_are_written_as_babel_writes_them():
    """format_number skips Babel for integers of at most three digits: the same text in every language."""
    from babel.numbers import format_decimal

    from notifications.i18n import LANGS, format_number

    for lang in LANGS:
        for value in (*range(-999, 1000, 7), -999, 999, -1000, 1000, 12345, 2.5):
            assert format_number(value, lang) == format_decimal(value, locale=lang, decimal_quantization=False)
    assert format_number(1000, "fr") == "1\u202f000" and format_number(-1000, "en") == "-1,000"


def test_a_number_too_large_to_round_is_still_written():
    """What someone typed by mistake (--hours 1e26) goes into the refusal, not into an internal error."""
    assert i18n.format_number(1e26, "fr") == "1e+26"
    assert i18n.format_number(float("inf"), "en") == "inf"
    assert i18n.format_number(2.5, "fr") == "2,5"
