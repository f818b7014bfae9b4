"""The audit trail's append-only triggers, as the migrations create them, on both stores: an event can be
neither deleted nor have a hashed column changed, even by SQL written outside preincub."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from workflow.store.models import Event


def refused(wf, statement) -> str:
    with pytest.raises(Exception) as e:
        with wf.store.core_write() as conn:
            conn.execute(statement)
    return str(e.value)


def test_an_event_cannot_be_deleted(wf):
    assert "append-only" in refused(wf, sa.delete(Event))
    with wf.store.read() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(Event)).scalar_one() >= 1


def test_a_hashed_column_cannot_be_changed(wf):
    assert "append-only" in refused(wf, sa.update(Event).values(action="forged"))
    with wf.store.read() as s:
        assert "forged" not in s.execute(sa.select(Event.action)).scalars().all()
