"""Reminders, the outbox and the daemon."""

from __future__ import annotations

import logging
import sys
import time
from datetime import timedelta

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from notifications.i18n import N_, Np_
from notifications.message import OutboxStatus
from notifications.visible import shown
from workflow.api import Workflow
from workflow.clock import until_datetime
from workflow.errors import Forbidden
from workflow.records import plain
from workflow.rules.due import REMINDER_NAMES
from workflow.services.daemon import ds_states, health, serve
from workflow.services.outbox import tick_line

from commands.context import current_ctx
from commands.output import console, emit_json, progress, say, styled, table, when_cell
from commands.params import DATE, ID, json_option
from commands.start import fail
from commands.text import _, current_lang, labelled, tr


PROGRESS_AFTER = 1.5  # seconds: a delivery batch quicker than this shows no progress bar


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


class _DeliveryProgress:
    """A progress bar (rich, on stderr) for a delivery batch, on a terminal only, and only once the
    batch has taken PROGRESS_AFTER seconds; the library just calls ``update(done, total)``."""

    def __init__(self) -> None:
        self.clock, self.start, self.bar, self.task = time.monotonic, time.monotonic(), None, None

    def update(self, done: int, total: int) -> None:
        if self.bar is None:
            if self.clock() - self.start < PROGRESS_AFTER:
                return
            self.bar = Progress(TextColumn(_("Delivering")), BarColumn(), MofNCompleteColumn(),
                                TimeRemainingColumn(), console=Console(file=sys.stderr, force_terminal=True),
                                transient=True)
            self.bar.start()
            self.task = self.bar.add_task("", total=total)
        self.bar.update(self.task, completed=done, total=total)

    def __enter__(self):
        return self.update if _stderr_is_terminal() else None

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def _outbox_warning(wf: Workflow) -> str | None:
    """One line while messages failed or have been retrying for over an hour (for those who may see the outbox)."""
    try:
        h = wf.outbox.health()
    except Forbidden:
        return None
    if h.healthy:
        return None
    return tr(Np_("⚠ outbox: {n!n} message failed, {over!n} failing for over an hour "
                  "(see 'preincub outbox list', then 'preincub outbox retry --status failed')",
                  "⚠ outbox: {n!n} messages failed, {over!n} failing for over an hour "
                  "(see 'preincub outbox list', then 'preincub outbox retry --status failed')"),
              n=h.failed, over=h.retrying_over_an_hour)


def warn_outbox(wf: Workflow) -> None:
    """The warning lines of `status`'s text output: who gets no message, and the outbox's health."""
    if nobody := wf.reminders.unreachable():
        say(tr(Np_("⚠ no message goes to {who}: a placeholder address, not a real one",
                   "⚠ no message goes to {who}: placeholder addresses, not real ones"), n=len(nobody),
               who=", ".join(nobody)))
    if warning := _outbox_warning(wf):
        say(warning)


_CONSOLE = click.option("--console", "to_console", is_flag=True,
                        help="Print every message here instead of sending it (to try things out); marked sent.")


@click.group(short_help="Reminders: preview, or run one tick.")
def remind() -> None:
    """Reminders: weekly coaching, missed coaching, deadline, committee."""


# How a message's status reads in a table (the ids stay in --json and in the options).
STATUS_NAMES = {"pending": N_("pending"), "sending": N_("sending"), "sent": N_("sent"), "failed": N_("failed"),
                "cancelled": N_("cancelled")}


def _named(names: dict[str, str], value: str) -> str:
    return _(names[value]) if value in names else value


@remind.command(name="preview", short_help="What would be sent, up to a day.")
@click.option("--until", type=DATE, help="Up to this day [default: 30 days from now].")
@json_option
def remind_preview(until, as_json) -> None:
    """What would be enqueued from now (the clock) up to DATE, in order; writes nothing."""
    wf = current_ctx().wf()
    end = until_datetime(until) if until else wf.clock.now() + timedelta(days=30)
    with progress(_("Computing the reminders")):  # a bar that pulses while a large programme is computed
        rows = wf.reminders.preview(end)
    if as_json:
        return emit_json(rows)
    t = table(_("Due"), _("Action"), _("To"), _("Reminders"), _("Subject"))
    for r in rows:
        t.add_row(when_cell(r.at), _named(REMINDER_NAMES, r.kind), r.to or _("no address"), r.channel, r.subject)
    console().print(t)


@remind.command(name="run", short_help="One tick: enqueue, then deliver.")
@_CONSOLE
def remind_run(to_console) -> None:
    """One tick: enqueue what is due now, then deliver pending messages.

    A message on a channel not configured here (PREINCUB_SMTP_URL, PREINCUB_WEBHOOK_URL) waits.
    """
    wf = current_ctx().wf()
    with _DeliveryProgress() as progress:
        r = wf.reminders.tick(console=to_console, progress=progress)
    click.echo(tick_line(r, current_lang()))
    if warning := _outbox_warning(wf):
        click.echo(f"preincub: {shown(warning)}", err=True)


@click.group(short_help="The outbox: reminder messages.")
def outbox() -> None:
    """The outbox: every reminder message, its status and its attempts."""


@outbox.command(name="list", short_help="List messages and their status.")
@click.option("--status", type=click.Choice([s.value for s in OutboxStatus]))
@json_option
def outbox_list(status, as_json) -> None:
    """List messages; --status failed shows why each failed."""
    rows = current_ctx().wf().outbox(status)
    if as_json:
        return emit_json(rows)
    t = table(_("ID"), _("Due"), _("Action"), _("To"), _("Reminders"), _("Status"), _("Attempts"), _("Reason"))
    for r in rows:
        via = r.channel if r.sent_via in (None, r.channel) else f"{r.channel} → {r.sent_via}"
        t.add_row(str(r.id), when_cell(r.due_at), _named(REMINDER_NAMES, r.kind), r.to, via,
                  styled((_named(STATUS_NAMES, r.status), "red" if r.status == "failed" else "")), str(r.attempts),
                  r.last_error or "")
    console().print(t)


@outbox.command(name="retry", short_help="Send a message again at the next tick.")
@click.argument("row_id", metavar="[ID]", type=ID, required=False)
@click.option("--status", type=click.Choice(["failed", "cancelled"]),
              help="Every message with this status (after an outage: failed), instead of one ID.")
@click.option("--since", type=DATE, help="With --status: only messages due on or after this day.")
def outbox_retry(row_id, status, since) -> None:
    """Send a failed or cancelled message (or all of them: --status failed) again at the next tick."""
    if since is not None and status is None:
        raise click.UsageError(_("--since goes with --status"))
    if (row_id is None) == (status is None):
        raise click.UsageError(_("give one message ID, or --status failed for every failed message"))
    wf = current_ctx().wf()
    if row_id is not None:
        wf.outbox.retry(row_id)
        click.echo(tr("message #{id} will be sent again at the next tick", id=row_id))
        return
    ids = wf.outbox.retry_all(status, since)
    click.echo(tr(Np_("{n!n} message will be sent again at the next tick",
                      "{n!n} messages will be sent again at the next tick"), n=len(ids)))


@outbox.command(name="cancel", short_help="Cancel a pending or failed message.")
@click.argument("row_id", metavar="ID", type=ID)
def outbox_cancel(row_id) -> None:
    """Never send a pending or failed message."""
    current_ctx().wf().outbox.cancel(row_id)
    click.echo(tr("message #{id} cancelled", id=row_id))


@click.group(invoke_without_command=True, short_help="Send the reminders on a schedule.")
@click.option("--once", is_flag=True, help="One tick (with the lease), then exit: a liveness check.")
@_CONSOLE
@click.pass_context
def daemon(ctx: click.Context, once, to_console) -> None:
    """Tick on a cron schedule in Europe/Paris (PREINCUB_TICK_CRON); stops cleanly on SIGTERM/SIGINT.

    'preincub daemon status' says whether it ticks and the outbox is healthy.
    """
    if ctx.invoked_subcommand is not None:
        if once or to_console:
            raise click.UsageError(_("--once and --console go with 'preincub daemon' alone"))
        return

    class _LogFormatter(logging.Formatter):
        """Log lines carry names and errors from the store: controls and bidi overrides made visible,
        so a journal viewer or terminal shows them, and one record stays one line."""

        def format(self, record: logging.LogRecord) -> str:
            return shown(super().format(record))

    handler = logging.StreamHandler()
    handler.setFormatter(_LogFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    wf = current_ctx().wf()
    r = serve(wf, once=once, console=to_console)
    if once:
        if r is None:
            raise click.ClickException(_("the tick failed (see the log above)"))
        if r.skipped:  # a live daemon holds the lease: that is the answer to "is it alive?"
            t, lease = wf.lease.last_tick(), wf.lease.current()
            if t:
                say(tr("daemon {holder} is alive: it holds the lease until {until}; its last tick: {tick}",
                       holder=t.lease_holder, until=when_cell(t.lease_until), tick=when_cell(t.wall)))
            elif lease:  # in its first tick: no last tick yet, but its heartbeat
                say(tr("daemon {holder} is alive: it holds the lease until {until}; its first tick is running "
                       "(last heartbeat {at})", holder=lease.holder, until=when_cell(lease.until),
                       at=when_cell(lease.heartbeat_at)))
            else:
                say(_("another daemon holds the lease"))
            return
        click.echo(tick_line(r, current_lang()))


@daemon.command(name="status", short_help="Whether the daemon ticks; the outbox.")
@json_option
def daemon_status(as_json) -> None:
    """The daemon's last tick, the lease's holder and its last heartbeat, and the outbox's pending,
    retrying and failed messages.

    Exits 1 when unhealthy (for monitoring): the daemon never ticked or is late (a daemon that holds
    the lease is ticking), or messages failed or have been failing for over an hour.
    """
    wf = current_ctx().wf()
    h = health(wf)
    syncs = ds_states(wf)  # Démarches Simplifiées: each démarche's last sync and failure
    if as_json:
        emit_json({**plain(h), "ds": plain(syncs)})
    else:
        t = h.last_tick
        last = f"{when_cell(t.wall)} ({t.holder})" if t else "—"
        if t and t.next_tick:
            last += tr("; next due {at}", at=when_cell(t.next_tick))
        say(labelled(_("Daemon's last tick"), last))
        if h.holder:  # from the first tick on: a tick in progress shows here
            held = (tr("{holder}, last heartbeat {at}", holder=h.holder, at=when_cell(h.heartbeat_at))
                    if h.heartbeat_at else h.holder)
            say(labelled(_("Lease holder"), held if h.lease_held else tr("{held} (not held now)", held=held)))
        say(labelled(_("Outbox"), tr("{pending!n} pending ({retrying!n} retrying, {over!n} for over an hour), "
                                     "{failed!n} failed", pending=h.pending, retrying=h.retrying,
                                     over=h.retrying_over_an_hour, failed=h.failed)))
        for d in syncs:
            line = tr("{programme!q}, last sync {at}", programme=d.programme, at=when_cell(d.synced_at))
            if d.failed_at and (d.synced_at is None or d.failed_at > d.synced_at):
                line += tr("; failed {at}: {error}", at=when_cell(d.failed_at), error=d.error or "—")
            say(labelled(tr("Démarche {number}", number=d.demarche), line))
        if h.poller:  # the IMAP mailbox poller, from its first poll on
            from commands.inbox import poller_line

            say(poller_line(h.poller))
        say(labelled(_("health"), ", ".join(_(HEALTH_PROBLEMS[p]) for p in h.problems) or _("healthy")))
    if not h.healthy:  # exit 1 for monitoring, with the contract's one line on stderr
        fail(labelled(_("the daemon is unhealthy"), ", ".join(_(HEALTH_PROBLEMS[p]) for p in h.problems)), 1)


# What makes the daemon unhealthy (workflow.services.daemon.health's problems), as `daemon status` says it.
HEALTH_PROBLEMS = {"never_ticked": N_("the daemon never ticked"), "late": N_("the daemon is late"),
                   "failed": N_("messages failed"), "retrying": N_("messages failing for over an hour"),
                   "ds_failed": N_("a Démarches Simplifiées sync failed"),
                   "imap_failed": N_("the last poll of the mailbox failed")}
