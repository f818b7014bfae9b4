"""The workflow definition: phases, triggers and guards. Pure Python, no I/O (the ``transitions``
library, for a run of the machine or its diagram, is loaded by states.machine when one is made)."""

from __future__ import annotations

from states.guards import ProgrammeView, TeamView, Unmet
from states.machine import (
    TRIGGERS, Blocked, InvalidTrigger, Move, StateError, Trigger, attempt, check, fire, triggers_from, unmet,
)
from states.phases import HOLDS_A_PLACE, INITIAL, NON_TERMINAL, PHASES, TERMINAL, Phase
from states.rules import PARTNER_KINDS, PROGRAMME_KINDS, KindRules
from states.terms import CRITERIA, PARTIES

__all__ = ["CRITERIA", "HOLDS_A_PLACE", "INITIAL", "NON_TERMINAL", "PARTIES", "PARTNER_KINDS", "PHASES",
           "PROGRAMME_KINDS", "TERMINAL", "TRIGGERS", "Blocked", "InvalidTrigger", "KindRules", "Move", "Phase",
           "ProgrammeView", "StateError", "TeamView", "Trigger", "Unmet", "attempt", "check", "fire", "triggers_from", "unmet"]
