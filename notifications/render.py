"""Message rendering: one Jinja template per kind, written in English and translated through the
gettext catalog (jinja's i18n extension, plurals included); the first line is the subject."""

from __future__ import annotations

import shlex
from datetime import date
from functools import cache
from typing import Any

from markupsafe import Markup

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


def new_environment(lang: str) -> Any:
    """A jinja environment over notifications/templates in ``lang``: HTML autoescaped, the catalog
    installed. Messages (below) and documents (documents.py) each add their own filters."""
    # jinja2: loaded by the first message or document rendered, not by every command that imports
    # the library (`status` renders none).
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("notifications", "templates"), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True, auto_reload=False, extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)
    return env


@cache
def environment(lang: str) -> Any:
    """One environment per language for messages (built once, templates cached)."""
    env = new_environment(lang)
    env.filters["sh"] = shell_quote
    env.filters["day"] = lambda iso: i18n.format_day(date.fromisoformat(iso), lang)
    return env


_BR = Markup("<br>")


def paragraphs(body: str) -> list[tuple[str, str | Markup]]:
    """The plain text's paragraphs as the HTML shows them: ("pre", an indented command), ("link", a
    URL alone) or ("p", its lines escaped and joined by <br>). Made here, not in the template: a
    tick renders ~10,000 messages, and jinja's inner loop over lines was half of the HTML's cost."""
    blocks: list[tuple[str, str | Markup]] = []
    for p in body.strip().split("\n\n"):
        if p.startswith("    "):
            blocks.append(("pre", p.strip()))
        elif p.startswith(("https://", "http://")):
            blocks.append(("link", p.strip()))
        else:
            blocks.append(("p", _BR.join(p.split("\n"))))  # Markup.join escapes each line
    return blocks


def render(kind: str, lang: str, context: dict) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of a ``kind`` message in ``lang`` (fr or en)."""
    lang = lang if lang in i18n.LANGS else i18n.DEFAULT_LANG
    env = environment(lang)
    text = env.get_template(f"{kind}.txt").render(**context)
    subject, _, body = text.partition("\n")
    body = body.strip("\n") + "\n"
    html = env.get_template("message.html").render(subject=subject.strip(), paragraphs=paragraphs(body), lang=lang)
    return subject.strip(), body, html
