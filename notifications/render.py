"""Message rendering: one Jinja template per kind and language; the first line is the subject."""

from __future__ import annotations

import shlex
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


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


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("notifications", "templates"), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True, auto_reload=False)  # templates ship with the code
    env.filters["sh"] = shell_quote
    return env


def render(kind: str, lang: str, context: dict) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of a ``kind`` message in ``lang`` (fr or en)."""
    env = environment()
    lang = lang if lang in ("fr", "en") else "fr"
    text = env.get_template(f"{lang}/{kind}.txt").render(**context)
    subject, _, body = text.partition("\n")
    body = body.strip("\n") + "\n"
    html = env.get_template("message.html").render(subject=subject.strip(), paragraphs=body.strip().split("\n\n"),
                                                   lang=lang)
    return subject.strip(), body, html
