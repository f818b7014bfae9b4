"""Two programmes side by side, for the scope tests of teams, transitions, listing, check-ins and links
(and the web board's): who sees and changes what.

Programme A ("Pré-incubation 2020", the seed's) has partners Pas-de-Calais and Nord; programme B
("Seed 2", its own coordinator) has partner Somme. Teams: A1 (A, Pas-de-Calais, in investigation,
coached by coach@), A2 (A, Nord, in the call for projects), B1 (B, Somme, in investigation, coached
by coachb@). People: COORD (the bootstrap administrator, coordinator of A since they added it),
coorda@ (coordinator of A only), coordb@ (coordinator of B), comma@ (committee of A), partnerx@
(partner reader of Nord in A), agentb@ (intrapreneur of B1 only).
"""

from __future__ import annotations

from datetime import date

from tests.conftest import paris, ready_team, seed
from workflow.api import Workflow
from workflow.clock import FixedClock

A, B = "Pré-incubation 2020", "Seed 2"
A1, A2, B1 = "Equipe A1", "Equipe A2", "Equipe B1"
COORD_A, COORD_B = "coorda@example.org", "coordb@example.org"
COMMITTEE_A, PARTNER_X = "comma@example.org", "partnerx@example.org"
COACH_A, COACH_B, AGENT_B = "coach@example.org", "coachb@example.org", "agentb@example.org"
SELECTED = paris(2020, 7, 6, 9, 0)  # A1 and B1 enter investigation then (a Monday)


def two_programmes(wf: Workflow) -> Workflow:
    """The world above, built by the administrator (who coordinates A), as of ``SELECTED``."""
    seed(wf)
    d = wf.directory
    d.add_partner("Nord", A)
    d.add_person("Coord A", COORD_A, ["coordinator"], programme=A)
    d.add_person("Coord B", COORD_B, ["coach"])
    d.add_programme(B, date(2020, 6, 23), coordinator=COORD_B)
    d.add_partner("Somme", B)
    d.add_person("Comité A", COMMITTEE_A, ["committee"], programme=A)
    d.add_person("Partenaire X", PARTNER_X, ["partner"], programme=A, partner="Nord")
    d.add_person("Coach B", COACH_B, ["coach"])
    d.add_person("Agent B", AGENT_B, ["intrapreneur"])
    ready_team(wf, A1)
    wf.teams.add(A2, A, "Nord", problem="Un autre problème.", intrapreneurs=["agent1@example.org"])
    b = wf.acting_as(COORD_B)
    b.teams.add(B1, B, "Somme", problem="Un problème de B.", intrapreneurs=[AGENT_B], coach=COACH_B,
                days_per_week=1)
    b.transitions.advance(B1, "submit")
    b.teams.assess(B1, real=True, major=True, actionable=True)
    b.teams.agree(B1, "partner")
    b.teams.agree(B1, "operator")
    w = wf.at(FixedClock(SELECTED))
    w.transitions.advance(A1, "select")
    w.acting_as(COORD_B).transitions.advance(B1, "select")
    return w


def names(rows) -> set[str]:
    """The team names of status rows (or of gaps)."""
    return {getattr(r, "name", None) or r.team for r in rows}
