"""Message rendering: one Jinja template per kind, written in English and translated through the
gettext catalog (jinja's i18n extension, plurals included); the first line is the subject.

Every reminder ends with the same footer (:class:`Footer`), after a "-- " line: why its reader receives
it (their role, in which team or programme) and how to stop that kind, or why it cannot be stopped.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from markupsafe import Markup

from notifications import i18n
from notifications.i18n import N_

# Each kind of reminder as a person names what they stop receiving (the footer, the unsubscribe page).
KIND_LABELS = {"coaching": N_("the weekly check-in reminders"),
               "missed_coaching": N_("the alerts about missed check-ins"),
               "deadline": N_("the reminders of the programme's deadline"),
               "deadline_passed": N_("the reminders of a passed deadline"),
               "committee_soon": N_("the reminders of the strategic committee"),
               "notice_terminable": N_("the alerts about unanswered formal notices")}

# Why one receives a message: their role, held in a team (team, programme) or in the programme.
_WHY = {"coach": N_('You receive this message as a coach of the team "{team}" (programme {programme}).'),
        "intrapreneur": N_('You receive this message as an intrapreneur of the team "{team}" '
                           '(programme {programme}).'),
        "partner": N_('You receive this message as a reader for the partner body of the team "{team}" '
                      '(programme {programme}).'),
        "committee": N_("You receive this message as a member of the strategic committee of the programme "
                        "{programme}."),
        "coordinator": N_("You receive this message as a coordinator of the programme {programme}.")}
_STOP_LINK = N_("To stop receiving {what}, open this link and confirm:")
_STOP_CLI = N_("To stop receiving {what}: preincub person edit {email} --mute {kind}")
_STOP_ASK = N_("To stop receiving {what}, ask a coordinator of the programme {programme}.")
_CANNOT_STOP = N_("It cannot be stopped: a programme's coordinators are always told of its deadline and of its "
                  "unanswered formal notices.")
_SIGNIN = N_("You receive this message because a sign-in link was asked for you. It is sent only when asked: "
             "if you did not ask for it, ignore it.")


@dataclass(frozen=True, slots=True)
class Footer:
    """Why a person receives a reminder and how they stop its kind: its last line."""

    kind: str  # the reminder kind (workflow.rules.due.REMINDER_KINDS)
    role: str  # coach, intrapreneur, partner (a team's); committee, coordinator (the programme's)
    programme: str
    team: str | None = None
    mutable: bool = True
    url: str | None = None  # its one-click link, when PREINCUB_BASE_URL makes web links
    email: str | None = None  # set for one who runs the CLI (a coordinator): the ``person edit --mute`` form

    def sentences(self, lang: str) -> tuple[str, str | None]:
        """(why and how to stop, in ``lang``; the link that stops it, if any)."""
        params = {"team": self.team, "programme": self.programme, "kind": self.kind, "email": self.email,
                  "what": i18n.text(lang, KIND_LABELS[self.kind])}
        why = i18n.text(lang, _WHY[self.role], params)
        if not self.mutable:
            return f"{why} {i18n.text(lang, _CANNOT_STOP)}", None
        if self.url:
            return f"{why} {i18n.text(lang, _STOP_LINK, params)}", self.url
        return f"{why} {i18n.text(lang, _STOP_CLI if self.email else _STOP_ASK, params)}", None


def shell_quote(value: str) -> str:
    """Quoted for a POSIX shell, so a command can be pasted as is.

    Double quotes keep French apostrophes readable; a name with "!" (which interactive bash
    would expand from history even inside double quotes) gets single quotes instead.
    """
    value = str(value)
    if "!" in value:
        return shlex.quote(value)
    return '"' + _SHELL_SPECIAL.sub(r"\\\g<0>", value) + '"'  # a backslash before each of " \ $ `


_SHELL_SPECIAL = re.compile(r'["\\$`]')


def new_environment(lang: str) -> Any:
    """A jinja environment over notifications/templates in ``lang``: HTML autoescaped, the catalog
    installed. Messages (below) and documents (documents.py) each add their own filters."""
    # jinja2: loaded by the first message or document rendered, not by every command that imports
    # the library (`status` renders none).
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("notifications", "templates"), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True, auto_reload=False, extensions=["jinja2.ext.i18n"])
    i18n.install_gettext(env, lambda: lang)
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
            blocks.append(("pre", "\n".join(line.strip() for line in p.strip().split("\n"))))
        elif p.startswith(("https://", "http://")):
            blocks.append(("link", p.strip()))
        else:
            blocks.append(("p", _BR.join(p.split("\n"))))  # Markup.join escapes each line
    return blocks


def render(kind: str, lang: str, context: dict, footer: Footer | None = None) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of a ``kind`` message in ``lang`` (fr or en), ending with ``footer``
    (a sign-in message: its own, it is sent only when asked)."""
    lang = lang if lang in i18n.LANGS else i18n.DEFAULT_LANG
    return render_in(environment(lang), kind, lang, context, footer)


def render_in(env: Any, kind: str, lang: str, context: dict, footer: Footer | None = None) -> tuple[str, str, str]:
    """:func:`render` through ``env``: the compiler of message shapes (notifications/compiled.py) renders
    its probes through this same code, with an environment whose filters mark their values."""
    text = env.get_template(f"{kind}.txt").render(**context)
    subject, _, body = text.partition("\n")
    body = body.strip("\n") + "\n"
    if footer is not None:
        why, url = footer.sentences(lang)
    elif kind == "signin":
        why, url = i18n.text(lang, _SIGNIN), None
    else:
        why = url = None
    html = env.get_template("message.html").render(subject=subject.strip(), paragraphs=paragraphs(body), lang=lang,
                                                   footer=why, footer_url=url)
    if why is not None:
        body += "\n-- \n" + why + "\n" + (url + "\n" if url else "")
    return subject.strip(), body, html
