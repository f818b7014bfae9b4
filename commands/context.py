"""The per-invocation context: the global options and the Workflow, opened on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from datetime import datetime

    from workflow import Workflow


class Ctx:
    """The global options of this invocation (a plain class: dataclasses is one more module for
    `--help` to load) and its Workflow, opened by the first command that needs it."""

    def __init__(self, db: str | None, actor: str | None, now: datetime | None, lang: str,
                 _wf: Workflow | None = None) -> None:
        self.db, self.actor, self.now, self.lang, self._wf = db, actor, now, lang, _wf

    def __repr__(self) -> str:
        return f"Ctx(db={self.db!r}, actor={self.actor!r}, now={self.now!r}, lang={self.lang!r})"

    def wf(self, create: bool = False) -> Workflow:
        if self._wf is None:
            from workflow.clock import FixedClock, clock_from  # zoneinfo: only for a command that reads the store

            clock = FixedClock(self.now) if self.now else clock_from(None)
            from workflow import Workflow

            self._wf = Workflow.open(self.db, clock=clock, actor=self.actor, create=create)
        return self._wf

    def close(self) -> None:
        if self._wf is not None:
            self._wf.close()


def current_ctx() -> Ctx:
    """The context of the command being run (set by the root group, cli.app)."""
    return click.get_current_context().find_object(Ctx)
