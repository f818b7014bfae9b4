"""Two programmes side by side, for the scope tests of funding, notices, privacy, audit, reports, exports,
calendars and intake: A (partner bodies X and Y, team Alpha of X, coached by COACH_A) and B (partner Z, team
Beta, coached by COACH_B), each with its own coordinator; a committee member of A; a partner reader of X.
The store's administrator (the ``wf`` fixture's COORD, who added both) keeps no grant in either."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from tests.conftest import COORD
from workflow.api import Workflow
from workflow.errors import Forbidden

A, B = "Programme A", "Programme B"
X, Y, Z = "Partenaire X", "Partenaire Y", "Partenaire Z"
COORD_A, COORD_B = "coord.a@example.org", "coord.b@example.org"
COMMITTEE_A, PARTNER_X = "comite.a@example.org", "lecteur.x@example.org"
COACH_A, COACH_B, AGENT_A = "coach.a@example.org", "coach.b@example.org", "agent.a@example.org"
ADMIN = COORD
COUNTED = ("funding", "expense", "statement", "payment", "notice", "event", "team", "person", "person_grant",
           "checkin")


def build(wf: Workflow) -> Workflow:
    """The two programmes, their people, teams, funding, an expense and a formal notice each (to X, Y, Z)."""
    d = wf.directory
    for prog, partners in ((A, (X, Y)), (B, (Z,))):
        d.add_programme(prog, date(2020, 6, 23))
        for p in partners:
            d.add_partner(p, prog)
    d.add_person("Coord A", COORD_A, ["coordinator"], programme=A)
    d.add_person("Coord B", COORD_B, ["coordinator"], programme=B)
    d.add_person("Comité A", COMMITTEE_A, ["committee"], programme=A)
    d.add_person("Lecteur X", PARTNER_X, ["partner"], programme=A, partner=X)
    d.add_person("Coach A", COACH_A, ["coach"])
    d.add_person("Coach B", COACH_B, ["coach"])
    d.add_person("Agent A", AGENT_A, ["intrapreneur"])
    for prog in (A, B):  # the administrator keeps no grant in either: they add programmes, not run them
        d.revoke(ADMIN, "coordinator", prog)
    a, b = wf.acting_as(COORD_A), wf.acting_as(COORD_B)
    a.teams.add("Alpha", A, X, problem="Un problème de A.", intrapreneurs=[AGENT_A], coach=COACH_A, days_per_week=1)
    b.teams.add("Beta", B, Z, problem="Un problème de B.", coach=COACH_B)
    for w, prog, partners in ((a, A, (X, Y)), (b, B, (Z,))):
        for p in partners:
            w.funding.set(prog, p, cap="10 000", payment="after-statement", share=50 if prog == A else 100)
            w.notices.add(prog, p, date(2020, 6, 30), f"Manquement de {p}")
        w.funding.add_expense(prog, "2 000", date(2020, 6, 30), f"Ateliers de {prog}")
    return wf


def counts(w: Workflow) -> dict[str, int]:
    """Rows of the tables a refused write must leave as they were."""
    with w.store.read() as s:
        return {t: s.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in COUNTED}


def refused_in(call, programme: str, *args, **kwargs) -> Forbidden:
    """``call`` refused with the grant it needs, naming ``programme``."""
    try:
        call(*args, **kwargs)
    except Forbidden as exc:
        assert exc.code == "grant_needed" and exc.params["programme"] == programme, (exc.code, exc.params)
        return exc
    raise AssertionError(f"{call} was not refused")
