"""The phases a team goes through (DESIGN.md, "The state machine").

Ids are stable: they are stored in the database and printed in JSON.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Phase:
    id: str
    fr: str
    en: str
    terminal: bool
    order: int

    def label(self, lang: str = "fr") -> str:
        return self.fr if lang == "fr" else self.en


_TABLE = (
    ("call_for_projects", "Appel à projets", "Call for projects", False),
    ("selection", "Sélection", "Selection", False),
    ("investigation", "Investigation", "Investigation", False),
    ("poc_committee", "Comité stratégique", "Proof-of-concept committee", False),
    ("incubation_decision", "Décision d'incubation", "Incubation decision", False),
    ("incubated", "Incubée", "Incubated", True),
    ("not_incubated", "Non incubée", "Not incubated", True),
    ("not_selected", "Non sélectionnée", "Not selected", True),
    ("abandoned", "Abandonnée", "Abandoned", True),
)

PHASES: dict[str, Phase] = {
    pid: Phase(pid, fr, en, terminal, order) for order, (pid, fr, en, terminal) in enumerate(_TABLE)
}
INITIAL = "call_for_projects"
NON_TERMINAL: tuple[str, ...] = tuple(p.id for p in PHASES.values() if not p.terminal)
TERMINAL: tuple[str, ...] = tuple(p.id for p in PHASES.values() if p.terminal)
# Teams that hold one of the programme's places: selected and not dropped (DESIGN.md, `select`).
HOLDS_A_PLACE: tuple[str, ...] = (
    "investigation",
    "poc_committee",
    "incubation_decision",
    "incubated",
    "not_incubated",
)

