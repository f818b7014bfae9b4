"""The demo: the seed-1 programme with five months of history, every phase populated, and the seed-2 FAST
agreement beside it with its own coordinator, built through the library at its own dates and people;
once there, it is not built again. Each coordinator sees their own programme only."""

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
    # Seed 1's people as its coordinator sees them: its coaches, not seed 2's (its coordinator coaches it).
    camille = wf.acting_as(demo.COORDINATOR[1])
    assert {p.email for p in camille.directory.people("coach")} == {email for _, email in demo.COACHES}
    nadia = wf.acting_as(demo.FAST_COORDINATOR[1])
    assert [r.name for r in nadia.teams.status()] == [demo.FAST_TEAM]
    assert [p.name for p in nadia.directory.programmes()] == [demo.FAST]
    assert [r.phase for r in nadia.teams.status()] == ["incubated"]
    assert demo.FAST_TEAM not in {r.name for r in camille.teams.status()}
