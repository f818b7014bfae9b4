"""The words of a team's record: the criteria its problem is assessed on and the parties of its
agreement (stable ids, and how each reads in a sentence as a catalog msgid).

Plain data, apart from the guards and the phases (not even a dataclass): the CLI builds its choices
and hints from them at start-up without loading the others."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a sentence for the message catalog (notifications/locale); clients translate it where
    they show it. states/ stays pure: it names sentences, it never picks a language."""
    return message


CRITERIA: tuple[str, ...] = ("real", "major", "actionable")
# How a criterion and a party read in a sentence (catalog msgids; "réel", "majeur", "actionnable").
CRITERIA_LABELS = {"real": N_("real"), "major": N_("major"), "actionable": N_("actionable")}
PARTIES: tuple[str, ...] = ("partner", "operator")
PARTY_LABELS = {"partner": N_("the partner body"), "operator": N_("the operator")}
# How a programme's kind reads (its id is what --kind takes).
PROGRAMME_KIND_LABELS = {"preincubation": N_("pre-incubation"), "fast": N_("FAST")}
