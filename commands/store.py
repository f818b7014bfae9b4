"""The store: init, demo, backup and restore of its SQLite file."""

from __future__ import annotations

import click

from notifications.i18n import Np_
from workflow import demo
from workflow.clock import FixedClock
from workflow.formats.backup import restore
from workflow.formats.dump import ORIGIN_TEXT
from workflow.store.engine import HEAD_REVISION

from commands.context import current_ctx
from commands.output import emit_json, progress, say
from commands.params import FilePath, json_option
from commands.teams import status_table
from commands.text import _, tr


@click.command(short_help="Create or upgrade the store.")
def init() -> None:
    """Create the store, or upgrade it to this version's schema."""
    wf = current_ctx().wf(create=True)
    say(tr("store ready: {where} (schema {revision})", where=wf.store.where, revision=HEAD_REVISION))


@click.command(name="demo", short_help="Fill a fresh store with the demo.")
@json_option
def demo_cmd(as_json: bool) -> None:
    """Fill a fresh store with the 2020 programme of seed 1 and the 2019 FAST agreement of seed 2 beside it,
    then show seed 1's status."""
    c = current_ctx()
    wf = c.wf(create=True)
    fresh = not demo.exists(wf)
    if fresh:
        with progress(_("Building the demo"), demo.STEPS) as advance:
            demo.build(wf, advance)
    if c.now is None:
        wf = wf.at(FixedClock(demo.AS_OF))  # the demo's own date, unless --now says otherwise
    rows = wf.teams.status(demo.PROGRAMME)
    if as_json:
        return emit_json(rows)
    if fresh:
        say(tr("demo programme {programme!q} created in {where}", programme=demo.PROGRAMME, where=wf.store.where))
    else:
        say(tr("demo programme {programme!q} already there in {where}", programme=demo.PROGRAMME,
               where=wf.store.where))
    status_table(rows, f"{demo.PROGRAMME} — {wf.clock.today().isoformat()}")
    say(tr("a second programme, {programme!q} (seed 2), has its own coordinator, who sees only it: "
           "preincub --as {email} status", programme=demo.FAST, email=demo.FAST_COORDINATOR[1]))
    if c.now is None:
        day = demo.AS_OF.date()
        say(tr("(as of {day!d}; add --now {iso} to the next commands to stay on that day)", day=day,
               iso=day.isoformat()))


@click.command(name="backup", short_help="Copy the SQLite store to a file.")
@click.argument("file", metavar="FILE", type=FilePath())
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@json_option
def backup_cmd(file: str, force: bool, as_json: bool) -> None:
    """Copy the SQLite store to FILE (0600), consistent even while the daemon or serve runs (coordinators).

    The copy is one self-contained file; 'preincub restore FILE' puts it back. An existing FILE is
    refused unless --force. Example: preincub backup ~/sauvegardes/preincub-$(date +%F).db
    """
    rec = current_ctx().wf().backup.copy(file, force=force)
    if as_json:
        return emit_json(rec)
    say(tr(Np_("store copied to {path!q} ({n!n} byte, schema {schema})",
               "store copied to {path!q} ({n!n} bytes, schema {schema})"),
           path=rec.file, n=rec.bytes, schema=rec.schema))


@click.command(name="restore", short_help="Put a backup copy back as the store.")
@click.argument("file", metavar="FILE", type=FilePath())
@click.option("--no-keep", "no_keep", is_flag=True,
              help="Do not keep a copy of the store being replaced (kept by default: STORE.before-restore-TIME).")
@click.option("--require-signature", is_flag=True,
              help="Refuse a copy that is not signed by this instance (its secret key).")
@json_option
def restore_cmd(file: str, no_keep: bool, require_signature: bool, as_json: bool) -> None:
    """Put a copy made by 'preincub backup' back as the SQLite store, once checked (coordinators).

    The copy's integrity, schema and audit trail are checked first, and its signature tells whether it
    comes from this instance; the store is replaced in one step, never while the daemon or another
    process has it open, and the replaced store is kept beside it.
    Example: preincub restore ~/sauvegardes/preincub-2020-11-16.db
    """
    c = current_ctx()
    rec = restore(c.db, file, actor=c.actor, clock=FixedClock(c.now) if c.now else None, keep=not no_keep,
                  require_signature=require_signature)
    if as_json:
        return emit_json(rec)
    say(tr(Np_("{path!q} restored into {where} (schema {schema}, {n!n} audit event verified)",
               "{path!q} restored into {where} (schema {schema}, {n!n} audit events verified)"),
           path=rec.source, where=rec.where, schema=rec.schema, n=rec.events))
    say(tr("the copy is {origin!t}", origin=ORIGIN_TEXT[rec.origin]))
    if rec.upgraded_from:
        say(tr("its schema was upgraded from {revision}", revision=rec.upgraded_from))
    if rec.kept:
        say(tr("the replaced store is kept in {path}", path=rec.kept))  # whole: it is the way back
