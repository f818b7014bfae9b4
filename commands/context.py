"""The per-invocation context: the global options and the Workflow, opened on first use; and the
shell completion of names, read from the store the command line names."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import datetime

import click

from workflow.api import Workflow
from workflow.clock import FixedClock, clock_from

from commands.errors import show_warning


class Ctx:
    """The global options of this invocation and its Workflow, opened by the first command that needs it."""

    def __init__(self, db: str | None, actor: str | None, now: datetime | None, lang: str,
                 _wf: Workflow | None = None) -> None:
        self.db, self.actor, self.now, self.lang, self._wf = db, actor, now, lang, _wf

    def __repr__(self) -> str:
        return f"Ctx(db={self.db!r}, actor={self.actor!r}, now={self.now!r}, lang={self.lang!r})"

    def wf(self, create: bool = False) -> Workflow:
        if self._wf is None:
            clock = FixedClock(self.now) if self.now else clock_from(None)
            self._wf = _open(self.db, clock=clock, actor=self.actor, create=create)
        return self._wf

    def close(self) -> None:
        if self._wf is not None:
            self._wf.close()


def _open(db: str | None, **kwargs) -> Workflow:
    """The store, its warnings (a store open to other users) shown as one line, like an error."""
    warnings.showwarning = show_warning
    return Workflow.open(db, **kwargs)


def current_ctx() -> Ctx:
    """The context of the command being run, made from the root's options (cli.app) on first use
    and closed with the root."""
    root = click.get_current_context().find_root()
    ctx = root.meta.get("preincub.ctx")
    if ctx is None:
        p = root.params
        ctx = root.meta["preincub.ctx"] = Ctx(p.get("db"), p.get("actor"), p.get("now"), p.get("lang"))
        root.call_on_close(ctx.close)
    return ctx


def complete(kind: str) -> Callable[[click.Context, click.Parameter, str], list[str]]:
    """Shell completion of team and programme names and e-mails, read from the store the command
    line names (--db, --as), with what the acting person may read; nothing when it cannot be read."""
    def names(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[str]:
        root = ctx.find_root().params
        try:
            wf = _open(root.get("db"), actor=root.get("actor"))
            try:
                return wf.directory.complete(kind, incomplete)
            finally:
                wf.close()
        except Exception:  # noqa: BLE001 - a completion never breaks the shell
            return []
    return names
