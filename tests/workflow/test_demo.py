"""The demo: the seed-1 programme with five months of history, every phase populated, built through the
library at its own dates and people; once there, it is not built again."""

from __future__ import annotations

from collections import Counter

from workflow import demo


def test_the_demo_populates_every_phase_once(wf):
    assert not demo.exists(wf)
    steps = []
    assert demo.build(wf, lambda: steps.append(1)) == demo.PROGRAMME
    assert demo.exists(wf) and len(steps) == demo.STEPS
    phases = Counter(r.phase for r in wf.teams.status(demo.PROGRAMME))
    assert sum(phases.values()) == len(demo.TEAMS)
    assert {"investigation", "poc_committee", "incubated", "abandoned"} <= set(phases)
    assert {p.email for p in wf.directory.people("coach")} == {email for _, email in demo.COACHES}
