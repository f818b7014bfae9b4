"""Translations: gettext catalogs (Babel) under ``notifications/locale``, one domain, ``preincub``.

They live here, the lowest layer every client reaches (cli.py and web/ through workflow/, which
imports notifications/), so the CLI, the library's errors and the messages share one catalog.

The source language is English; ``locale/fr/LC_MESSAGES/preincub.po`` is the French translation,
compiled to ``preincub.mo`` beside it (both ship in the wheel and serve the editable install). The
catalog also holds click's own sentences ("Usage:", "Missing argument"…), which click marks with
the standard library's global gettext: :func:`use_for_click` points that at this catalog.

To refresh the catalog after changing a sentence (tests fail until it is done)::

    python -m notifications.i18n   # extract, update the .po (keeping translations), compile the .mo
"""

from __future__ import annotations

import gettext
import os
from functools import cache
from pathlib import Path

DOMAIN = "preincub"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGS = ("fr", "en")
DEFAULT_LANG = "fr"
KEYWORDS = ("_", "N_", "gettext", "ngettext:1,2")


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark for extraction, translate later"
    return message


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog for ``lang``; English (the source) and unknown languages need none."""
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def use_for_click(lang: str) -> None:
    """Make click's own sentences follow ``lang``: click calls ``gettext.gettext``, which reads the
    process's text domain and the LANGUAGE variable."""
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = lang


def sources() -> list[str]:
    """What the catalog is extracted from: preincub's code and click's."""
    import click

    root = LOCALE_DIR.parent.parent
    return [str(root / "cli.py"), str(root / "states"), str(root / "workflow"), str(root / "notifications"),
            os.path.dirname(click.__file__)]


def extract():
    """A Babel catalog of every msgid in :func:`sources` (no translations)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir, extract_from_file

    keywords = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
    catalog = Catalog(project="preincub", domain=DOMAIN)
    for src in sources():
        if src.endswith(".py"):
            found = ((src, *item) for item in extract_from_file("python", src, keywords=keywords))
        else:
            found = ((os.path.join(src, name), *rest) for name, *rest in
                     extract_from_dir(src, method_map=[("**.py", "python")], keywords=keywords))
        for filename, lineno, message, comments, _context in found:
            catalog.add(message, locations=[(os.path.basename(filename), lineno)], auto_comments=comments)
    return catalog


def update(lang: str = "fr") -> None:
    """Extract, merge into the ``lang`` catalog (keeping every translation), compile the .mo."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po, write_po

    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    catalog.update(extract(), no_fuzzy_matching=True)
    with po.open("wb") as f:
        write_po(f, catalog, width=100, omit_header=False, ignore_obsolete=True, include_lineno=False)
    with po.with_suffix(".mo").open("wb") as f:
        write_mo(f, catalog)


if __name__ == "__main__":
    update()
