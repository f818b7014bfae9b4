"""Keeping the catalog up to date: extract every sentence (preincub's code, its message templates,
its CLI's help, and click's), merge them into the translations, compile the .mo. The tests fail until
it is done::

    python -m tools.catalog

It reads the whole CLI (every command's module, through the lazy groups), so it sits above it.
"""

from __future__ import annotations

import os

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

import cli
from commands.text import help_texts
from notifications.i18n import DOMAIN, LOCALE_DIR


def sources() -> list[str]:
    """What the catalog is extracted from: preincub's code and click's."""
    root = LOCALE_DIR.parent.parent
    return [str(root / "cli.py"), str(root / "commands"), str(root / "states"), str(root / "workflow"),
            str(root / "notifications"), str(root / "notifications" / "templates"), str(root / "web"),
            str(root / "web" / "templates"), os.path.dirname(click.__file__)]


def extract() -> Catalog:
    """A Babel catalog of every msgid in :func:`sources` (no translations)."""
    keywords = {"_": None, "N_": None, "tr": (1,), "Np_": (1, 2), "gettext": None, "ngettext": (1, 2)}
    catalog = Catalog(project="preincub", domain=DOMAIN)
    templates = {"method_map": [("**.txt", "jinja2.ext:babel_extract"), ("**.html", "jinja2.ext:babel_extract")],
                 "options_map": {"**": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True",
                                        "lstrip_blocks": "True", "keep_trailing_newline": "True"}}}
    for src in sources():
        if src.endswith(".py"):
            found = ((src, *item) for item in extract_from_file("python", src, keywords=keywords))
        elif src.endswith("templates"):
            found = ((os.path.join(src, name), *rest) for name, *rest in
                     extract_from_dir(src, keywords=keywords, **templates))
        else:
            found = ((os.path.join(src, name), *rest) for name, *rest in
                     extract_from_dir(src, method_map=[("**.py", "python")], keywords=keywords))
        for filename, lineno, message, comments, _context in found:
            catalog.add(message, locations=[(os.path.basename(filename), lineno)], auto_comments=comments)
    for text in cli_help():
        catalog.add(text, locations=[("cli help", 0)])
    for text in CLICK_AT_RUNTIME:
        catalog.add(text, locations=[("click", 0)])
    return catalog


# What click translates from a variable (``_(extra["required"])``), so no extractor finds it: an
# option's "[required]" in its help.
CLICK_AT_RUNTIME = ("required",)


def cli_help() -> list[str]:
    """The CLI's help texts: click takes them as plain strings (docstrings, ``help=``), so they are
    read from the command tree itself."""
    return list(help_texts(cli.app))


def update(lang: str = "fr") -> None:
    """Extract, merge into the ``lang`` catalog (keeping every translation), compile the .mo."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    created = catalog.creation_date
    catalog.update(extract(), no_fuzzy_matching=True)
    catalog.creation_date = created  # re-running with nothing new changes nothing
    with po.open("wb") as f:
        write_po(f, catalog, width=100, omit_header=False, ignore_obsolete=True, include_lineno=False)
    with po.with_suffix(".mo").open("wb") as f:
        write_mo(f, catalog)


if __name__ == "__main__":
    update()
