"""The directory: agreements take effect at the last signature (docs/domain.md, "Time"; seed 2: 23 and 31
October 2019); people hold roles where they are granted them, and each reader sees the people of their place."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa

from tests.conftest import COORD, ready_team, seed
from workflow.errors import Forbidden, Invalid, NotFound
from workflow.records import GrantRecord
from workflow.store.models import Event


def test_a_programme_signed_twice_takes_effect_at_the_second_signature(wf):
    p = wf.directory.add_programme("Convention 2019", [date(2019, 10, 31), date(2019, 10, 23)])
    assert p.signatures == ("2019-10-23", "2019-10-31")
    assert p.signed_on == "2019-10-31"
    assert p.deadline == "2020-04-30"  # six months from the second signature, a month end clamping


def test_a_later_signature_moves_the_effect_and_the_deadline_an_earlier_one_does_not(wf):
    wf.directory.add_programme("Convention 2019", date(2019, 10, 23))
    p = wf.directory.sign_programme("Convention 2019", date(2019, 10, 31))
    assert (p.signed_on, p.deadline) == ("2019-10-31", "2020-04-30")
    p = wf.directory.sign_programme("Convention 2019", date(2019, 10, 1))
    assert p.signatures == ("2019-10-01", "2019-10-23", "2019-10-31")
    assert (p.signed_on, p.deadline) == ("2019-10-31", "2020-04-30")
    assert wf.directory.programme("Convention 2019") == p
    with wf.store.read() as s:
        signed = s.execute(sa.select(Event.data).where(Event.action == "programme.sign").order_by(Event.id)).scalars()
        assert [json.loads(d)["takes_effect"] for d in signed] == ["2019-10-31", "2019-10-31"]


def test_signatures_are_checked_and_a_refusal_records_nothing(wf):
    with pytest.raises(Invalid):
        wf.directory.add_programme("Sans signature", [])
    with pytest.raises(Invalid):
        wf.directory.add_programme("Trop tôt", [date(2019, 10, 23), date(1800, 1, 1)])
    assert [p.name for p in wf.directory.programmes()] == []
    wf.directory.add_programme("Convention 2019", date(2019, 10, 23))
    with pytest.raises(NotFound):
        wf.directory.sign_programme("Inconnue", date(2019, 10, 31))
    with pytest.raises(Invalid):
        wf.directory.sign_programme("Convention 2019", date(2200, 1, 1))
    assert wf.directory.programme("Convention 2019").signatures == ("2019-10-23",)


def test_a_signature_day_is_recorded_once(wf):
    with pytest.raises(Invalid) as exc:
        wf.directory.add_programme("Convention 2019", [date(2019, 10, 23), date(2019, 10, 23)])
    assert exc.value.code == "signature_twice"
    wf.directory.add_programme("Convention 2019", date(2019, 10, 23))
    with pytest.raises(Invalid) as exc:
        wf.directory.sign_programme("Convention 2019", date(2019, 10, 23))
    assert exc.value.code == "signature_recorded"
    assert wf.directory.programme("Convention 2019").signatures == ("2019-10-23",)


@pytest.mark.parametrize("fact", ["expense", "payment", "notice"])
def test_a_late_signature_cannot_move_the_effect_past_what_was_done_under_the_agreement(wf, fact):
    wf.directory.add_programme("Convention 2019", date(2019, 10, 31))
    wf.directory.add_partner("Grand Est", "Convention 2019", kind="region")
    if fact == "expense":
        wf.funding.add_expense("Convention 2019", "1000", date(2019, 11, 4), "Atelier")
    elif fact == "payment":
        wf.funding.set("Convention 2019", "Grand Est", cap="70000", share="50", payment="on-signature")
        wf.funding.pay("Convention 2019", "Grand Est", date(2019, 11, 4), "70000")
    else:
        wf.notices.add("Convention 2019", "Grand Est", date(2019, 11, 4), "Comité de pilotage non réuni")
    with pytest.raises(Invalid) as exc:
        wf.directory.sign_programme("Convention 2019", date(2019, 11, 5))
    assert exc.value.code == "signature_after_facts" and exc.value.params["when"] == date(2019, 11, 4)
    assert wf.directory.sign_programme("Convention 2019", date(2019, 11, 4)).signed_on == "2019-11-04"  # on the day: fine
    assert wf.directory.sign_programme("Convention 2019", date(2019, 10, 1)).signed_on == "2019-11-04"  # earlier: no move


# ---- people, their grants, and who sees them (step 11) ------------------------------------------------

P1, P2 = "Pré-incubation 2020", "FAST 2019"


def _events(wf, action: str) -> list[dict]:
    with wf.store.read() as s:
        rows = s.execute(sa.select(Event.data).where(Event.action == action).order_by(Event.id)).scalars()
        return [json.loads(d) for d in rows]


@pytest.fixture
def two(wf):
    """Two programmes: P1 (seed: COORD, the administrator, coordinates it) and P2, coordinated by coord2,
    with its partner body Nord and a team there."""
    seed(wf)
    wf.directory.add_person("Coord Deux", "coord2@example.org", ["coach"])
    p = wf.directory.add_programme(P2, date(2020, 6, 1), kind="fast", coordinator="coord2@example.org")
    assert p.name == P2
    c2 = wf.acting_as("coord2@example.org")
    c2.directory.add_partner("Nord", P2)
    c2.teams.add("Gamma", P2, "Nord", intrapreneurs=["agent9@example.org"])
    ready_team(wf, "Alpha")
    return wf


def test_a_programme_s_first_coordinator_is_who_adds_it_or_the_one_named(two):
    assert two.directory.person(COORD).grants == (GrantRecord("admin"), GrantRecord("coordinator", P1))
    assert GrantRecord("coordinator", P2) in two.directory.person("coord2@example.org").grants
    assert [e["role"] for e in _events(two, "person.grant")] == ["coordinator", "coordinator"]
    assert _events(two, "person.grant")[1] == {"email": "coord2@example.org", "role": "coordinator",
                                               "programme": P2, "partner": None}
    with pytest.raises(Forbidden):  # only an administrator adds programmes
        two.acting_as("coord2@example.org").directory.add_programme("Autre", date(2020, 6, 1))
    with pytest.raises(NotFound):
        two.directory.add_programme("Autre", date(2020, 6, 1), coordinator="nobody@example.org")
    assert [p.name for p in two.directory.programmes()] == [P2, P1]


def test_a_programme_role_is_added_in_the_only_programme_or_the_one_given(wf):
    seed(wf)
    p = wf.directory.add_person("Comité", "committee@example.org", ["committee"])  # the only programme
    assert p.grants == (GrantRecord("committee", P1),) and p.roles == ("committee",)
    wf.directory.add_programme(P2, date(2020, 6, 1), kind="fast")
    with pytest.raises(Invalid) as e:
        wf.directory.add_person("Comité Deux", "committee2@example.org", ["committee"])
    assert e.value.code == "needs_programme"
    p = wf.directory.add_person("Comité Deux", "committee2@example.org", ["committee", "coach"], programme=P2)
    assert p.grants == (GrantRecord("committee", P2),) and p.roles == ("coach", "committee")
    with pytest.raises(Invalid) as e:
        wf.directory.add_person("Lecteur", "reader@example.org", ["partner"], programme=P1)
    assert e.value.code == "needs_partner"
    with pytest.raises(Invalid) as e:
        wf.directory.add_person("Lecteur", "reader@example.org", ["coach"], programme=P1, partner="Pas-de-Calais")
    assert e.value.code == "partner_without_role"
    p = wf.directory.add_person("Lecteur", "reader@example.org", ["partner"], programme=P1, partner="Pas-de-Calais")
    assert p.grants == (GrantRecord("partner", P1, "Pas-de-Calais"),)
    assert _events(wf, "person.add")[-1]["roles"][0].startswith("partner:p")
    with pytest.raises(Invalid) as e:
        wf.directory.add_person("Admin", "admin2@example.org", ["admin"], programme=P1)
    assert e.value.code == "admin_scope"
    assert "admin2@example.org" not in [x.email for x in wf.directory.people()]


def test_edit_adds_and_removes_programme_roles_where_given(two):
    d = two.directory
    p = d.edit_person("coach@example.org", add_roles=["committee"], programme=P2)
    assert p.grants == (GrantRecord("committee", P2),)
    p = d.edit_person("coach@example.org", add_roles=["committee"], programme=P1)
    assert set(p.grants) == {GrantRecord("committee", P2), GrantRecord("committee", P1)}
    p = d.edit_person("coach@example.org", remove_roles=["committee"], programme=P2)
    assert p.grants == (GrantRecord("committee", P1),)
    with pytest.raises(Invalid) as e:
        d.edit_person("coach@example.org", remove_roles=["committee"], programme=P2)
    assert e.value.code == "not_granted"
    assert _events(two, "person.edit")[-1]["roles"][:1] == ["coach"]


def test_grant_and_revoke_are_audited_and_checked(two):
    d = two.directory
    p = d.grant("agent3@example.org", "partner", P2, "Nord")
    assert p.grants == (GrantRecord("partner", P2, "Nord"),)
    assert _events(two, "person.grant")[-1] == {"email": "agent3@example.org", "role": "partner", "programme": P2,
                                                "partner": "Nord"}
    for args, code in [(("agent3@example.org", "partner", P2, "Nord"), "already_granted"),
                       (("agent3@example.org", "coach", P2), "invalid"),  # a team role is held on teams, not granted
                       (("agent3@example.org", "admin", P2), "admin_scope"),
                       (("agent3@example.org", "partner", P2), "needs_partner"),
                       (("agent3@example.org", "committee", P2, "Nord"), "partner_without_role"),
                       (("agent3@example.org", "committee"), "needs_programme")]:
        with pytest.raises(Invalid) as e:
            d.grant(*args)
        assert e.value.code == code, args
    with pytest.raises(NotFound) as e:
        d.grant("agent3@example.org", "partner", P2, "Somme")
    assert e.value.code == "unknown_partner"
    with pytest.raises(NotFound):
        d.grant("nobody@example.org", "committee", P2)
    p = d.revoke("agent3@example.org", "partner", P2)
    assert p.grants == ()
    assert _events(two, "person.revoke")[-1] == {"email": "agent3@example.org", "role": "partner", "programme": P2}
    with pytest.raises(Invalid) as e:
        d.revoke("agent3@example.org", "partner", P2)
    assert e.value.code == "not_granted"


def test_the_last_administrator_and_a_programme_s_last_coordinator_stay(two):
    d = two.directory
    with pytest.raises(Invalid) as e:
        d.revoke(COORD, "admin")
    assert e.value.code == "last_admin"
    with pytest.raises(Invalid) as e:
        d.revoke("coord2@example.org", "coordinator", P2)
    assert e.value.code == "last_coordinator" and e.value.params["programme"] == P2
    d.grant("coord2@example.org", "admin")
    d.grant(COORD, "coordinator", P2)
    d.revoke("coord2@example.org", "coordinator", P2)
    assert set(d.revoke(COORD, "admin").grants) == {GrantRecord("coordinator", P1), GrantRecord("coordinator", P2)}
    with pytest.raises(Invalid) as e:
        two.acting_as("coord2@example.org").directory.revoke("coord2@example.org", "admin")
    assert e.value.code == "last_admin"


def test_who_may_grant_what(two):
    c2 = two.acting_as("coord2@example.org").directory
    c2.grant("agent4@example.org", "committee", P2)  # a coordinator: their programme's committee
    with pytest.raises(Forbidden) as e:
        c2.grant("agent4@example.org", "committee", P1)
    assert e.value.code == "grant_needed" and e.value.params["programme"] == P1
    for role in ("coordinator", "admin"):  # coordinators and administrators: an administrator's
        with pytest.raises(Forbidden) as e:
            c2.grant("agent4@example.org", role, None if role == "admin" else P2)
        assert e.value.code == "role_needed" and e.value.params["needed"] == ["admin"]
    with pytest.raises(Forbidden):
        two.acting_as("agent4@example.org").directory.grant("agent5@example.org", "committee", P2)
    assert [g.role for g in two.directory.person("agent4@example.org").grants] == ["committee"]


def test_a_coordinator_edits_only_people_of_their_programmes(two):
    c2 = two.acting_as("coord2@example.org").directory
    with pytest.raises(Forbidden):
        c2.edit_person("agent0@example.org", name="Pas à moi")  # on a team of P1
    c2.edit_person("agent9@example.org", name="Agent Neuf")  # on Gamma, in P2
    c2.add_person("Libre", "free@example.org", ["coach"])
    c2.edit_person("free@example.org", name="Libre Deux")  # in no programme yet


def test_each_reader_sees_the_people_and_grants_of_their_place(two):
    c2 = two.acting_as("coord2@example.org").directory
    two.directory.add_person("Libre", "free@example.org", ["coach"])  # on no team yet
    emails = {p.email for p in c2.people()}
    assert {"coord2@example.org", "agent9@example.org", "free@example.org"} <= emails
    assert not emails & {"agent0@example.org", "coach@example.org"}
    # nobody's grants in P1 are shown to them (the administrator's, of the instance, are)
    assert [g for p in c2.people() for g in p.grants if g.programme == P1] == []
    with pytest.raises(NotFound):
        c2.person("agent0@example.org")
    assert c2.person("coord2@example.org").email == "coord2@example.org"
    agents = c2.complete("person", "agent")  # agent9 on Gamma, and those on no team yet; not agent0 (on Alpha)
    assert "agent9@example.org" in agents and "agent1@example.org" in agents and "agent0@example.org" not in agents
    assert c2.complete("programme") == [P2]
    assert c2.complete("team") == ["Gamma"]
    agent = two.acting_as("agent0@example.org").directory
    assert {p.email for p in agent.people()} == {"agent0@example.org", "coach@example.org"}
    assert agent.complete("person") == ["agent0@example.org", "coach@example.org"]
    assert agent.person("agent0@example.org").roles == ("intrapreneur",)
    with pytest.raises(NotFound):
        agent.person("free@example.org")  # not one who manages: no one outside their team
    # the administrator sees everyone and every grant
    assert len(two.directory.people()) == len({p.email for p in two.directory.people()}) >= 17
    assert two.directory.person("coord2@example.org").grants == (GrantRecord("coordinator", P2),)
    assert two.directory.complete("programme") == [P2, P1]


def test_listing_by_role_counts_only_the_grants_the_reader_sees(two):
    two.directory.grant("coach@example.org", "committee", P2)  # coach of Alpha (P1), committee of P2
    assert "coach@example.org" in [p.email for p in two.directory.people("committee")]
    two.directory.add_person("Coord Un", "coord1@example.org", ["coordinator"], programme=P1)
    c1 = two.acting_as("coord1@example.org").directory
    assert "coach@example.org" in [p.email for p in c1.people("coach")]
    assert "coach@example.org" not in [p.email for p in c1.people("committee")]  # their committee is P2's
    assert c1.person("coach@example.org").roles == ("coach",)
