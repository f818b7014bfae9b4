"""Message rendering: one Jinja template per kind, written in English and translated through the
gettext catalog (jinja's i18n extension, plurals included); the first line is the subject."""

from __future__ import annotations

import shlex
from datetime import date
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from notifications import i18n


def shell_quote(value: str) -> str:
    """Quoted for a POSIX shell, so a command can be pasted as is.

    Double quotes keep French apostrophes readable; a name with "!" (which interactive bash
    would expand from history even inside double quotes) gets single quotes instead.
    """
    value = str(value)
    if "!" in value:
        return shlex.quote(value)
    escaped = "".join("\\" + ch if ch in '"\\$`' else ch for ch in value)
    return f'"{escaped}"'


def new_environment(lang: str) -> Environment:
    """A jinja environment over notifications/templates in ``lang``: HTML autoescaped, the catalog
    installed. Messages (below) and documents (documents.py) each add their own filters."""
    env = Environment(loader=PackageLoader("notifications", "templates"), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True, auto_reload=False, extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)
    return env


@cache
def environment(lang: str) -> Environment:
    """One environment per language for messages (built once, templates cached)."""
    env = new_environment(lang)
    env.filters["sh"] = shell_quote
    env.filters["day"] = lambda iso: i18n.format_day(date.fromisoformat(iso), lang)
    return env


def render(kind: str, lang: str, context: dict) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of a ``kind`` message in ``lang`` (fr or en)."""
    lang = lang if lang in i18n.LANGS else i18n.DEFAULT_LANG
    env = environment(lang)
    text = env.get_template(f"{kind}.txt").render(**context)
    subject, _, body = text.partition("\n")
    body = body.strip("\n") + "\n"
    html = env.get_template("message.html").render(subject=subject.strip(), paragraphs=body.strip().split("\n\n"),
                                                   lang=lang)
    return subject.strip(), body, html
