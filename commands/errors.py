"""The library's errors as the user sees them: one line on stderr (commands.start.fail), the command
to run next, the exit code: 1 refused, not found or invalid; 3 changed concurrently (retry)."""

from __future__ import annotations

import re
import sys
import warnings

import click

import states
from notifications import i18n
from notifications.i18n import N_, Np_
from workflow.errors import ChangedMeanwhile, PreincubError, Refused, StoreWarning

from commands.start import MAX_ERROR
from commands.text import _, colon, current_lang, labelled, tr


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
    "needs_programme": N_("see 'preincub programme list'"),
    "needs_partner": N_("see the partners in 'preincub programme show PROGRAMME'"),
    "team_role": N_("preincub person edit EMAIL --add-role {role}"),
    "already_granted": N_("see 'preincub person show {email}'"),
    "not_granted": N_("see 'preincub person show {email}'"),
    "last_admin": N_("grant it to someone else first: preincub person grant EMAIL admin"),
    "last_coordinator": N_("grant it to someone else first: preincub person grant EMAIL coordinator --programme "
                           "{programme!q}"),
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
    """3 changed concurrently (retry), 1 refused, not found or invalid."""
    return 3 if isinstance(exc, ChangedMeanwhile) else 1


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


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A library's warning (a store open to other users) is one line on stderr, like an error."""
    if isinstance(message, StoreWarning):
        click.echo("preincub: " + labelled(_("warning"), message.text(current_lang())), err=True)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def explain(exc: Exception) -> tuple[str, int, str] | None:
    """What a command raised, as (line, exit code, hint) for :func:`fail`; None for a bug."""
    lang = current_lang()
    if isinstance(exc, Refused):
        return refusal(exc, lang), exit_code(exc), ""
    if isinstance(exc, PreincubError):
        return exc.text(lang), exit_code(exc), error_hint(exc, lang)
    if isinstance(exc, UnicodeError):
        return _("some text is not valid UTF-8 (standard input, a file or the terminal); check its encoding"), 1, ""
    if isinstance(exc, OverflowError):
        return _("a number is out of range; give a smaller one"), 1, ""
    if isinstance(exc, OSError):
        return (f"{exc.strerror or exc}{colon()}{exc.filename}" if exc.filename else str(exc.strerror or exc)), 1, ""
    sa_errors = sys.modules.get("sqlalchemy.exc")  # the store's driver errors (only the store imports it)
    if sa_errors is not None and isinstance(exc, sa_errors.SQLAlchemyError):
        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
        return tr("database error: {detail}", detail=first), 1, ""
    return None
