"""The per-invocation context: the global options and the Workflow, opened on first use."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import click

from workflow.clock import FixedClock, clock_from

if TYPE_CHECKING:
    from workflow import Workflow


@dataclass
class Ctx:
    db: str | None
    actor: str | None
    now: datetime | None
    lang: str
    _wf: Workflow | None = field(default=None, repr=False)

    def wf(self, create: bool = False) -> Workflow:
        if self._wf is None:
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
