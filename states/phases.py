"""The phases a team goes through (docs/domain.md, "The phases").

Ids are stable: they are stored in the database and printed in JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

from states.terms import N_  # defined there, where nothing else is loaded; imported from here too


@dataclass(frozen=True, slots=True)
class Phase:
    id: str
    label: str  # English, a catalog msgid
    terminal: bool
    order: int


_TABLE = (
    ("call_for_projects", N_("Call for projects"), False),
    ("selection", N_("Selection"), False),
    ("investigation", N_("Investigation"), False),
    ("poc_committee", N_("Proof-of-concept committee"), False),
    ("incubation_decision", N_("Incubation decision"), False),
    ("incubated", N_("Incubated"), True),
    ("not_incubated", N_("Not incubated"), True),
    ("not_selected", N_("Not selected"), True),
    ("abandoned", N_("Abandoned"), True),
)

PHASES: dict[str, Phase] = {
    pid: Phase(pid, label, terminal, order) for order, (pid, label, terminal) in enumerate(_TABLE)
}
INITIAL = "call_for_projects"
NON_TERMINAL: tuple[str, ...] = tuple(p.id for p in PHASES.values() if not p.terminal)
TERMINAL: tuple[str, ...] = tuple(p.id for p in PHASES.values() if p.terminal)
# Teams that hold one of the programme's places: selected and not dropped (docs/domain.md, "The two
# programme kinds").
HOLDS_A_PLACE: tuple[str, ...] = (
    "investigation",
    "poc_committee",
    "incubation_decision",
    "incubated",
    "not_incubated",
)

