"""The workflow definition: phases, triggers and guards. Pure Python, no I/O.

Names are imported on first use (PEP 562): ``import states`` costs nothing, and ``states.PHASES``
loads the phases alone, so the CLI's start-up (``--help``, a usage error) never builds the guards
or the triggers it does not use."""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    **dict.fromkeys(("CRITERIA", "PARTIES"), "terms"),
    **dict.fromkeys(("ProgrammeView", "TeamView", "Unmet"), "guards"),
    **dict.fromkeys(("TRIGGERS", "Blocked", "InvalidTrigger", "Move", "StateError", "Trigger", "attempt", "check",
                     "fire", "triggers_from", "unmet"), "machine"),
    **dict.fromkeys(("HOLDS_A_PLACE", "INITIAL", "NON_TERMINAL", "PHASES", "TERMINAL", "Phase"), "phases"),
    **dict.fromkeys(("KINDS", "PARTNER_KINDS", "KindRules"), "rules"),
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    """A public name, from its module on first use (then cached as a plain attribute)."""
    if name not in _WHERE:
        raise AttributeError(f"module 'states' has no attribute {name!r}")
    value = getattr(import_module(f"states.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
