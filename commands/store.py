"""The store: init, demo."""

from __future__ import annotations

import click

from commands.context import current_ctx
from commands.output import emit_json, progress, say
from commands.params import json_option
from commands.teams import status_table
from commands.text import _, tr


@click.command()
def init() -> None:
    """Create the store, or upgrade it to this version's schema."""
    wf = current_ctx().wf(create=True)
    from workflow.db import HEAD_REVISION

    say(tr("store ready: {where} (schema {revision})", where=wf.store.where, revision=HEAD_REVISION))


@click.command(name="demo")
@json_option
def demo_cmd(as_json: bool) -> None:
    """Fill a fresh store with the 2020 programme of seed 1, then show its status."""
    from workflow import demo
    from workflow.clock import FixedClock

    c = current_ctx()
    wf = c.wf(create=True)
    fresh = not demo.exists(wf)
    if fresh:
        with progress(_("Building the demo"), demo.STEPS) as advance:
            demo.build(wf, advance)
    if c.now is None:
        wf = wf.at(FixedClock(demo.AS_OF))  # the demo's own date, unless --now says otherwise
    rows = wf.status(demo.PROGRAMME)
    if as_json:
        return emit_json(rows)
    if fresh:
        say(tr("demo programme {programme!q} created in {where}", programme=demo.PROGRAMME, where=wf.store.where))
    else:
        say(tr("demo programme {programme!q} already there in {where}", programme=demo.PROGRAMME,
               where=wf.store.where))
    status_table(rows, f"{demo.PROGRAMME} — {wf.clock.today().isoformat()}")
    if c.now is None:
        day = demo.AS_OF.date()
        say(tr("(as of {day!d}; add --now {iso} to the next commands to stay on that day)", day=day,
               iso=day.isoformat()))
