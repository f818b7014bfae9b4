"""A migration taken back and forward again on the demo store: what each migration's test shares."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa

from workflow import demo
from workflow.api import Workflow
from workflow.clock import PARIS, FixedClock
from workflow.store.engine import alembic_config, make_engine, upgrade

CLOCK = FixedClock(datetime(2020, 11, 30, 9, 0, tzinfo=PARIS))


def demo_down_and_up(db_url: str, revision: str, check: Callable[[sa.Inspector, bool], None]) -> Workflow:
    """The demo built at head, taken down to ``revision`` and up again (``check(inspector, up)`` after
    each); the store opened again, its teams all there and its audit chain verified. The caller closes it."""
    from alembic import command

    w = Workflow.open(db_url, clock=CLOCK, create=True)
    try:
        demo.build(w)
        teams = len(w.teams.status())
    finally:
        w.close()
    engine = make_engine(db_url)
    try:
        command.downgrade(alembic_config(engine), revision)
        check(sa.inspect(engine), False)
        upgrade(engine)
        check(sa.inspect(engine), True)
    finally:
        engine.dispose()
    w = Workflow.open(db_url, clock=CLOCK)
    assert len(w.teams.status()) == teams and w.audit.verify().events > 0
    return w
