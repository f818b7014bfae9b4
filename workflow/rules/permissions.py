"""Who may do what, and where: the one table of actions × roles × scopes.

A person holds roles *in* something (a :class:`Grant`): ``admin`` of the instance; ``coordinator`` or
``committee`` of a programme; ``partner`` reader of one partner body in a programme; ``coach``,
``intrapreneur`` or ``sponsor`` of the teams they are members of. For an action, the table says how far
each role reaches (its scope); :func:`reach` adds up what a person's grants give, and :meth:`Reach.covers`
answers for one team, partner or programme. Pure: the context reads the grants, the store turns a
:class:`Reach` into a filter.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from notifications.i18n import N_

# The scopes, widest first.
INSTANCE = "instance"  # everything in the instance
PROGRAMME = "programme"  # everything of the programmes the role is granted in
PARTNER = "partner"  # the teams (and funding) of the partner body the role is granted for
TEAM = "team"  # the teams the person is a member of in that role
OWN = "own"  # the person's own data only

INSTANCE_ROLES = ("admin",)
PROGRAMME_ROLES = ("coordinator", "committee", "partner")  # granted in a programme (partner: and a partner body)
TEAM_ROLES = ("intrapreneur", "coach", "sponsor")  # held by people named on teams
ROLES = INSTANCE_ROLES + PROGRAMME_ROLES + TEAM_ROLES
# How a role reads where people see it (its id is what --role and `person grant` take).
ROLE_LABELS = {"admin": N_("administrator"), "coordinator": N_("coordinator"), "committee": N_("committee member"),
               "partner": N_("partner reader"), "intrapreneur": N_("intrapreneur"), "coach": N_("coach"),
               "sponsor": N_("sponsor")}

# action: what a refusal says the person may not do (catalog msgids: errors translate them)
ACTIONS: dict[str, str] = {
    "programmes": N_("add programmes or grant their coordinators"),
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
    "programmes": {"admin": INSTANCE},
    "manage": {"admin": INSTANCE, "coordinator": PROGRAMME},
    "decide": {"coordinator": PROGRAMME},
    "opinion": {"coordinator": PROGRAMME, "committee": PROGRAMME},
    "checkin": {"coordinator": PROGRAMME, "coach": TEAM},
    "read": {"coordinator": PROGRAMME, "committee": PROGRAMME, "partner": PARTNER,
             "coach": TEAM, "intrapreneur": TEAM, "sponsor": TEAM},
    "remind": {"admin": INSTANCE, "coordinator": PROGRAMME},
    "privacy": {"admin": INSTANCE, "coordinator": PROGRAMME,  # and everyone: their own data
                **{r: OWN for r in PROGRAMME_ROLES[1:] + TEAM_ROLES}},
    "agreements": {"coordinator": PROGRAMME},
    "agreements_read": {"coordinator": PROGRAMME, "committee": PROGRAMME, "partner": PARTNER},
    "audit": {"admin": INSTANCE, "coordinator": PROGRAMME},  # one chain: a coordinator sees its counts, no content
}


@dataclass(frozen=True, slots=True, order=True)
class Grant:
    """One role held in one place: the instance (admin), a programme, or a partner body of a programme.
    A team role's grant has no place: the team memberships say which teams."""

    role: str
    programme_id: int | None = None
    partner_id: int | None = None

    @property
    def figure(self) -> str:
        """How the audit chain records it among a person's roles: ``coach``, ``admin``,
        ``coordinator:p3``, ``partner:p3:b5``."""
        if self.programme_id is None:
            return self.role
        return f"{self.role}:p{self.programme_id}" + ("" if self.partner_id is None else f":b{self.partner_id}")


@dataclass(frozen=True, slots=True)
class Reach:
    """How far one person reaches for one action: everything, some programmes, some partner bodies,
    the teams they are members of in some roles, their own data."""

    everything: bool = False
    programmes: frozenset[int] = frozenset()
    partners: frozenset[int] = frozenset()
    team_roles: frozenset[str] = frozenset()
    own: bool = False

    @property
    def anything(self) -> bool:
        """Whether it reaches any team or programme at all (own data aside)."""
        return self.everything or bool(self.programmes or self.partners or self.team_roles)

    def covers(self, programme_id: int | None, partner_id: int | None = None,
               ties: Collection[str] = ()) -> bool:
        """Whether it reaches a team of ``programme_id`` and ``partner_id`` the person is tied to in the
        roles ``ties`` (a partner: no ties; a programme: no partner either)."""
        return (self.everything or programme_id in self.programmes
                or (partner_id is not None and partner_id in self.partners)
                or not self.team_roles.isdisjoint(ties))


def reach(action: str, grants: Iterable[Grant]) -> Reach:
    """What ``grants`` together give for ``action``."""
    rules = TABLE[action]
    everything, own = False, False
    programmes: set[int] = set()
    partners: set[int] = set()
    team_roles: set[str] = set()
    for g in grants:
        scope = rules.get(g.role)
        if scope == INSTANCE:
            everything = True
        elif scope == PROGRAMME and g.programme_id is not None:
            programmes.add(g.programme_id)
        elif scope == PARTNER and g.partner_id is not None:
            partners.add(g.partner_id)
        elif scope == TEAM:
            team_roles.add(g.role)
        elif scope == OWN:
            own = True
    return Reach(everything, frozenset(programmes), frozenset(partners), frozenset(team_roles), own or everything)


def roles_allowed(action: str) -> list[str]:
    """The roles that may do ``action`` somewhere (their own data aside), in :data:`ROLES` order."""
    return [r for r in ROLES if TABLE[action].get(r) not in (None, OWN)]


def grantor_action(role: str) -> str:
    """The action whose scope one needs to grant or revoke ``role``: an administrator grants
    administrators and coordinators; a coordinator grants their programme's committee and partner readers."""
    return "programmes" if role in ("admin", "coordinator") else "manage"
