"""Who may do what: the one table of roles and actions.

Pure rules; the API resolves the acting person, their roles and their ties to a team, then asks here.
"""

from __future__ import annotations

from collections.abc import Collection

from notifications.i18n import N_

ANY = "any"  # every team
OWN = "own"  # only teams the person is tied to in that role (coach → coaches, intrapreneur → member...)

ROLES = ("coordinator", "coach", "intrapreneur", "sponsor", "committee")

# action: what a refusal says the person may not do (catalog msgids: errors translate them)
ACTIONS: dict[str, str] = {
    "manage": N_("add or edit programmes, partners, people and teams"),
    "decide": N_("assess, agree, advance or force teams"),
    "opinion": N_("record the committee's opinion"),
    "checkin": N_("log or edit check-ins"),
    "read": N_("read status, history and check-ins"),
    "remind": N_("preview or run reminders and handle the outbox"),
    "privacy": N_("export or erase a person's data, or purge old notes"),
    "agreements": N_("record the programmes' funding, expenses, payments and formal notices"),
    "agreements_read": N_("read the programmes' funding, expenses and formal notices"),
    "audit": N_("verify the audit trail"),
}

TABLE: dict[str, dict[str, str]] = {
    "manage": {"coordinator": ANY},
    "decide": {"coordinator": ANY},
    "opinion": {"coordinator": ANY, "committee": ANY},
    "checkin": {"coordinator": ANY, "coach": OWN},
    "read": {"coordinator": ANY, "committee": ANY, "coach": OWN, "intrapreneur": OWN, "sponsor": OWN},
    "remind": {"coordinator": ANY},
    "privacy": {"coordinator": ANY},  # a person also exports their own data (workflow.services.privacy)
    "agreements": {"coordinator": ANY},
    "agreements_read": {"coordinator": ANY, "committee": ANY},  # whole programmes: those who read every team
    "audit": {"coordinator": ANY},
}


def scope(action: str, roles: Collection[str]) -> str | None:
    """The widest scope any of ``roles`` gives for ``action``: ANY, OWN or None."""
    scopes = {TABLE[action].get(r) for r in roles}
    return ANY if ANY in scopes else OWN if OWN in scopes else None


def allowed(action: str, roles: Collection[str], ties: Collection[str] = ()) -> bool:
    """May a person with ``roles``, tied to the team in the roles ``ties`` (none: no team), do ``action``?"""
    rules = TABLE[action]
    return any(rules.get(r) == ANY or (rules.get(r) == OWN and r in ties) for r in roles)


def roles_allowed(action: str, every_team: bool = False) -> list[str]:
    """The roles that may do ``action`` (on every team, with ``every_team``)."""
    return [r for r in ROLES if TABLE[action].get(r) == ANY or (r in TABLE[action] and not every_team)]
