"""audit: the tamper-evident trail of every change."""

from __future__ import annotations

import click

from notifications.i18n import Np_
from workflow.errors import PreincubError

from commands.context import current_ctx
from commands.output import emit_json, say
from commands.params import json_option
from commands.text import _, labelled, tr


@click.group(short_help="The audit trail, and its check.")
def audit() -> None:
    """The audit trail: every change, hash-chained; verify that none was rewritten."""


@audit.command(name="verify", short_help="Check that no change was rewritten.")
@json_option
def verify(as_json) -> None:
    """Walk the audit trail's hash chain and report its first broken link (coordinators only)."""
    try:
        r = current_ctx().wf().audit.verify()
    except PreincubError as exc:
        if as_json and exc.code == "audit_broken":  # what a script checks, then the one line on stderr
            emit_json({"valid": False, "verified": exc.params["verified"], "event": exc.params["event"],
                       "problem": exc.params["problem"]})
        raise
    if as_json:
        return emit_json({"valid": True, "events": r.events, "erased": r.erased, "last": r.last, "head": r.head})
    say(tr(Np_("audit trail intact: {n!n} event verified", "audit trail intact: {n!n} events verified"), n=r.events))
    if r.erased:
        say(tr(Np_("of which {n!n} with its personal part erased (its digest can no longer be checked)",
                   "of which {n!n} with their personal part erased (their digest can no longer be checked)"),
               n=r.erased))
    if r.last is not None:  # the head: noted elsewhere, it shows a rewrite of the whole trail too
        say(labelled(_("Last event"), tr("#{event}, hash {hash}", event=r.last, hash=r.head)))
