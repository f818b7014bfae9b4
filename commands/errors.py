"""Errors as the user sees them: one line on stderr, the command to run next, DESIGN.md's exit codes;
arguments checked for UTF-8 and --lang read before click parses."""

from __future__ import annotations

import os
import re
import sys
import warnings
from typing import TYPE_CHECKING

import click

import states
from notifications import i18n
from notifications.i18n import N_, Np_, QUOTE_LIMIT
from commands.output import labelled, shown
from commands.text import _, current_lang, tr

if TYPE_CHECKING:
    from workflow.errors import PreincubError, Refused


MAX_ERROR = 300  # one readable line, whatever the user typed


# What to run next, keyed by the library error's code (catalog msgids; {name}: the error's params).
ERROR_HINTS = {
    "unknown_programme": N_("see 'preincub programme list'"),
    "unknown_team": N_("see 'preincub team list'"),
    "unknown_person": N_("add them with 'preincub person add'"),
    "no_such_person": N_("see 'preincub person list'"),
    "unknown_partner": N_("preincub partner add"),
    "unknown_actor": N_("preincub person add"),
    "unknown_checkin": N_("see 'preincub checkin list'"),
    "unknown_outbox_message": N_("see 'preincub outbox list'"),
    "unknown_notice": N_("see 'preincub notice list'"),
    "nothing_to_change": N_("see 'preincub {command} --help'"),
    "missing_role": N_("person add ... --role {role}"),
    "still_member": N_("team edit"),
    "no_store": N_("'preincub init', or 'preincub demo'"),
    "store_empty": N_("preincub init"),
    "store_outdated": N_("preincub init"),
    "audit_broken": N_("compare with a backup: preincub --db NEW.db import-all BACKUP.json"),
    "audit_head_missing": N_("preincub audit verify"),
    "backup_audit_broken": N_("nothing was restored; restore an earlier backup, one that was not edited"),
    "backup_not_signed": N_("use a backup this instance made, or leave out --require-signature"),
    "no_funding": N_("preincub funding set"),
    "payment_before_statement": N_("preincub funding statement"),
    "store_damaged": N_("preincub restore COPY.db, a copy made by 'preincub backup'"),
    "backup_not_sqlite": N_("use pg_dump, or 'preincub export json -o FILE.json'"),
    "restore_not_sqlite": N_("use pg_restore, or 'preincub import-all FILE.json' into an empty database"),
    "copy_exists": N_("add --force to replace it"),
    "daemon_running": N_("see 'preincub daemon status'"),
    "copy_audit_broken": N_("restore an older copy; 'preincub --db COPY.db audit verify' shows the same"),
}


def error_hint(exc: PreincubError, lang: str) -> str:
    """`` (the command to run)`` for an error whose code has one, else nothing."""
    hint = ERROR_HINTS.get(exc.code)
    return "" if hint is None else " (" + i18n.text(lang, hint, exc.params) + ")"


def exit_code(exc: PreincubError) -> int:
    """DESIGN.md's exit codes: 3 changed concurrently (retry), 1 refused, not found or invalid."""
    from workflow.errors import ChangedMeanwhile

    return 3 if isinstance(exc, ChangedMeanwhile) else 1


def fail(message: str, code: int, hint: str = "") -> None:
    """One line on stderr, controls made visible, cut to MAX_ERROR characters (the hint kept whole)."""
    line, room = shown(message), MAX_ERROR - len("preincub: ") - len(hint)
    if len(line) > room:
        line = line[: room - 1] + "…"
    click.echo(f"preincub: {line}{hint}", err=True)
    sys.exit(code)


LONG_WORD = re.compile(r"(\S{%d})\S+" % QUOTE_LIMIT)


_HINT = re.compile(r" \([^()]*\)$")


# Where to record what a guard finds missing, keyed by the Unmet's code (states/guards.py).
UNMET_HINTS = {
    "problem": "team edit --problem", "partner": "team edit --partner",
    "intrapreneur": "team edit --intrapreneur EMAIL", "coach": "team edit --coach EMAIL",
    "sponsor": "team edit --sponsor EMAIL", "time": "team edit --days-per-week N",
    **{f"criterion_{c}": "team assess" for c in states.CRITERIA},
    **{f"agreement_{p}": f"team agree --party {p}" for p in states.PARTIES},
    "poc": "team poc --summary TEXT", "committee_date": "team committee --on DATE",
    "opinion": "team committee --opinion TEXT", "reason": "--reason TEXT",
}


def unmet_text(u: states.Unmet, lang: str) -> str:
    """An unmet condition in ``lang``, with the command that records what is missing."""
    hint = UNMET_HINTS.get(u.code) if u.missing else None
    return i18n.text(lang, u.message, u.params) + (f" ({hint})" if hint else "")


def refusal(exc: Refused, lang: str) -> str:
    """The head and as many unmet conditions as fit in one line; `check` names the rest."""
    texts = [unmet_text(u, lang) for u in exc.reasons]
    for i in range(len(texts) - 1):  # "x (team assess); y (team assess)" -> "x; y (team assess)"
        hint = _HINT.search(texts[i])
        if hint and texts[i + 1].endswith(hint.group()):
            texts[i] = texts[i][: hint.start()]
    head = exc.head(lang) + i18n.colon(lang)
    for n in range(len(texts), 0, -1):
        rest = len(texts) - n
        more = "" if not rest else i18n.text(lang, Np_("; and {n} more: preincub check {team!q}",
                                                       "; and {n} more: preincub check {team!q}"),
                                             {"n": rest, "team": exc.team})
        line = head + "; ".join(texts[:n]) + more
        if len(line) <= MAX_ERROR - len("preincub: "):
            return line
    return exc.text(lang)


def undecodable(args: list[str]) -> str | None:
    """What was typed that is not valid UTF-8 (Python hands it over as lone surrogates), in this
    invocation's language."""
    for i, a in enumerate(args, 1):
        if not _is_utf8(a):
            return tr("argument {i} ({value}) is not valid UTF-8; check the terminal's or the file's encoding",
                      i=i, value=_bytes_shown(a)[:80])
    for k, v in os.environ.items():
        if k.startswith("PREINCUB_") and not _is_utf8(v):
            return tr("the environment variable {name} is not valid UTF-8; check the terminal's or the file's "
                      "encoding", name=k)
    return None


def _bytes_shown(text: str) -> str:
    """Undecodable bytes as \\xNN, the rest as typed."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


_VALUED = {"--db", "--as", "--now", "--lang"}  # the global options that take a value


def chosen_lang(args: list[str]) -> str:
    """--lang (or PREINCUB_LANG) read before click parses, so its own errors are in that language
    too; only the global options count (``person add --lang`` is that person's language)."""
    lang = os.environ.get("PREINCUB_LANG")
    it = iter(args)
    for a in it:
        if a == "--lang":
            lang = next(it, lang)
        elif a.startswith("--lang="):
            lang = a.split("=", 1)[1]
        elif a in _VALUED:
            next(it, None)
        elif not a.startswith("-") or a == "--":
            break
    return lang if lang in i18n.LANGS else i18n.DEFAULT_LANG


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A library's warning (a store open to other users) is one line on stderr, like an error."""
    from workflow.errors import StoreWarning

    if isinstance(message, StoreWarning):
        click.echo("preincub: " + labelled(_("warning"), message.text(current_lang())), err=True)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))
