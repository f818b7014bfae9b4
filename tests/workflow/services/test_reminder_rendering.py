"""The reminders a tick writes are rendered from compiled shapes (notifications/compiled.py): on the demo
store's six months, every message is byte for byte jinja's, and nearly all of them are compiled."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from notifications import compiled
from notifications.render import render
from tests.conftest import COORD, paris
from workflow import demo
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.store.models import Outbox


@pytest.fixture
def checked(monkeypatch) -> Counter:
    """Every message the reminders render, compared with jinja's render; counts how each was made."""
    made: Counter = Counter()
    compiled_render = compiled.render_compiled

    def both(kind, lang, context, footer=None):
        got = compiled_render(kind, lang, context, footer)
        assert got == render(kind, lang, context, footer), (kind, lang, context, footer)
        made["compiled" if compiled.fill(kind, lang, context, footer) is not None else "jinja"] += 1
        return got

    monkeypatch.setattr(compiled, "render_compiled", both)  # what the reminders service renders with
    return made


@pytest.mark.parametrize("links", [False, True], ids=["plain", "links and replies"])
def test_the_demo_s_six_months_of_reminders_are_jinja_s_bytes(db_url, checked, links):
    wf = Workflow.open(db_url, clock=FixedClock(paris(2020, 6, 23, 10, 0)), actor=COORD, create=True)
    try:
        demo.build(wf)
        if links:  # the signed links (check-in form, mute, committee) and the reply lines
            wf = wf.with_settings(wf.settings.replace(base_url="https://preincub.example.org",
                                                      reply_address="points@preincub.example.org"))
        wf = wf.at(FixedClock(paris(2020, 6, 23, 0, 0)))
        rows = wf.reminders.preview(paris(2020, 12, 31, 23, 59, 59))
        assert {r.kind for r in rows} >= {"coaching", "deadline", "deadline_passed", "committee_soon"}
        # Real ticks too, when each kind first falls due: what they write is what the compiled shapes gave.
        firsts = sorted({r.kind: datetime.fromisoformat(r.at) for r in reversed(rows)}.values())
        assert sum(wf.at(FixedClock(at + timedelta(minutes=1))).reminders.enqueue() for at in firsts) > 0
        with wf.store.read() as s:
            written = s.exec(select(Outbox)).all()
        assert written and all(r.body_html.startswith("<!DOCTYPE html>") for r in written)
    finally:
        wf.close()
    assert checked["compiled"] > 0.9 * sum(checked.values()), checked
