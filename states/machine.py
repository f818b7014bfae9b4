"""The workflow definition and the one shared ``transitions.Machine`` that enforces it.

The Machine is built once per process with ``model=None``. A team is *bound* for a single
operation: a small token carrying its phase and view is passed straight to the event's
``trigger``, so binding is O(1) whatever the number of teams (no ``add_model``, whose
membership check is O(n), and never one Machine per team).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from typing import TYPE_CHECKING


from states.guards import (
    G_AGREEMENTS,
    G_COACH,
    G_COMMITTEE_DATE,
    G_CRITERIA,
    G_DEADLINE,
    G_INTRAPRENEUR,
    G_OPINION,
    G_PARTNER,
    G_POC,
    G_PROBLEM,
    G_REASON,
    G_ROOM,
    G_SPONSOR,
    G_TIME,
    Guard,
    TeamView,
    Unmet,
)
from states.phases import INITIAL, NON_TERMINAL, PHASES, N_

if TYPE_CHECKING:
    from transitions import Machine


@dataclass(frozen=True, slots=True)
class Trigger:
    name: str
    sources: tuple[str, ...]
    dest: str
    guards: tuple[Guard, ...]
    label: str  # what the move means, English catalog msgid

    @property
    def needs_reason(self) -> bool:
        return any(g.about == "input" for g in self.guards)


TRIGGERS: dict[str, Trigger] = {
    t.name: t
    for t in (
        Trigger("submit", ("call_for_projects",), "selection", (G_PROBLEM, G_PARTNER, G_INTRAPRENEUR),
                N_("application complete")),
        Trigger("select", ("selection",), "investigation",
                (*G_CRITERIA, *G_AGREEMENTS, G_COACH, G_SPONSOR, G_TIME, G_ROOM, G_DEADLINE),
                N_("selected for pre-incubation")),
        Trigger("reject", ("selection",), "not_selected", (G_REASON,), N_("not selected")),
        Trigger("present", ("investigation",), "poc_committee", (G_POC, G_COMMITTEE_DATE),
                N_("proof of concept presented")),
        Trigger("hear", ("poc_committee",), "incubation_decision", (G_OPINION,),
                N_("committee heard it")),
        Trigger("incubate", ("incubation_decision",), "incubated", (G_REASON,), N_("incubated")),
        Trigger("decline", ("incubation_decision",), "not_incubated", (G_REASON,), N_("not incubated")),
        Trigger("abandon", NON_TERMINAL, "abandoned", (G_REASON,), N_("abandoned")),
    )
}


class StateError(Exception):
    """A move the workflow does not allow."""


class InvalidTrigger(StateError):
    def __init__(self, trigger: str, phase: str, valid: list[str]) -> None:
        self.trigger, self.phase, self.valid = trigger, phase, valid
        known = "" if trigger in TRIGGERS else "unknown "
        super().__init__(
            f"{known}trigger {trigger[:40]!r} is not possible from {phase}; "
            f"valid here: {', '.join(valid) if valid else 'none (final phase)'}"
        )


class Blocked(StateError):
    def __init__(self, trigger: str, unmet: list[Unmet]) -> None:
        self.trigger, self.unmet = trigger, unmet
        super().__init__(f"{trigger} refused: " + "; ".join(u.code for u in unmet))


def triggers_from(phase: str) -> list[str]:
    """Trigger names the table allows from a phase, in table order."""
    return [t.name for t in TRIGGERS.values() if phase in t.sources]


def unmet(trigger: str, view: TeamView, *, include_input: bool = True) -> list[Unmet]:
    """Every unmet condition of ``trigger`` for this view (empty when it may fire)."""
    out: list[Unmet] = []
    for g in TRIGGERS[trigger].guards:
        if g.about == "input" and not include_input:
            continue
        res = g(view)
        if res is not None:
            out.append(res)
    return out


def check(view: TeamView) -> tuple[list[str], dict[str, list[Unmet]]]:
    """Which triggers may fire now, and every unmet team condition of the others.

    A reason is an input, not a condition of the team, so triggers that only need one count
    as available.
    """
    available, blocked = [], {}
    for name in triggers_from(view.phase):
        reasons = unmet(name, view, include_input=False)
        if reasons:
            blocked[name] = reasons
        else:
            available.append(name)
    return available, blocked


class _Token:
    """What the Machine sees of a team during one operation: its phase, and whether the move is
    allowed (the guards were evaluated once, before firing)."""

    __slots__ = ("allowed", "state")

    def __init__(self, phase: str, allowed: bool) -> None:
        self.state = phase
        self.allowed = allowed


def _allowed(event) -> bool:  # transitions condition, send_event=True
    return event.model.allowed


@cache
def machine() -> Machine:
    """The one Machine of this workflow, built on first use (transitions is imported then, so
    reading the definition, e.g. for the CLI's help, costs no Machine)."""
    from transitions import Machine

    return Machine(
        model=None,
        states=[{"name": p.id, "final": p.terminal} for p in PHASES.values()],
        transitions=[
            {"trigger": t.name, "source": list(t.sources), "dest": t.dest, "conditions": [_allowed]}
            for t in TRIGGERS.values()
        ],
        initial=None,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )


@dataclass(frozen=True, slots=True)
class Move:
    """A move the Machine made: the new phase, and the unmet conditions a forced move overrode."""

    dest: str
    overridden: tuple[Unmet, ...] = ()


def attempt(trigger: str, view: TeamView, *, reason: str | None = None, force: bool = False) -> Move:
    """Bind the team, fire ``trigger`` through the Machine; each guard is evaluated once.

    Raises :class:`InvalidTrigger` for a move outside the table (even forced) and
    :class:`Blocked` with every unmet condition otherwise. A forced move still needs its reason:
    that is what makes the override auditable.
    """
    m = machine()
    valid = triggers_from(view.phase)
    if trigger not in valid:
        raise InvalidTrigger(trigger, view.phase, valid)
    reasons = unmet(trigger, replace(view, reason=reason))
    blocking = [u for u in reasons if u.code == "reason"] if force else reasons
    token = _Token(view.phase, not blocking)
    from transitions import MachineError

    try:
        ok = m.events[trigger].trigger(token)
    except MachineError as exc:  # the table and the Machine disagree: never expected
        raise InvalidTrigger(trigger, view.phase, valid) from exc
    if not ok:
        raise Blocked(trigger, blocking)
    return Move(token.state, tuple(reasons) if force else ())


def fire(trigger: str, view: TeamView, *, reason: str | None = None, force: bool = False) -> str:
    """:func:`attempt`, returning only the new phase."""
    return attempt(trigger, view, reason=reason, force=force).dest


def mermaid(translate: Callable[[str], str] = str) -> str:
    """The workflow as a Mermaid state diagram, drawn by transitions' GraphMachine; ``translate``
    turns its title (a catalog msgid) into the reader's language."""
    from transitions.extensions.diagrams import GraphMachine

    class _Initial:
        pass

    graph = GraphMachine(
        model=_Initial(),
        states=[{"name": p.id, "final": p.terminal} for p in PHASES.values()],
        transitions=[{"trigger": t.name, "source": list(t.sources), "dest": t.dest} for t in TRIGGERS.values()],
        initial=INITIAL,
        auto_transitions=False,
        graph_engine="mermaid",
        title=translate(N_("A team's path (preincub)")),
        show_state_attributes=False,
    )
    return graph.get_graph().draw(None)
