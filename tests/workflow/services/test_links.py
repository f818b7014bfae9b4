"""What a signed link lets its person do, through the library alone (no web): the check-in, the
committee's opinion and signing in, each from the token to the write."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import select

from tests.conftest import paris, ready_team, seed
from workflow.api import Workflow
from workflow.clock import FixedClock
from tests.workflow.services import scopes
from tests.workflow.services.scopes import A, A1, B, B1
from workflow.errors import Forbidden, Invalid, NotFound
from workflow.errors import ChangedMeanwhile
from workflow.services.links import CheckInText, LinkGone, sign
from workflow.settings import Settings
from workflow.store.models import Event, Person, Team

KEY = "test-secret-key-0123456789abcdef"
TEAM = "Insertion RSA"
COACH = "coach@example.org"
MEMBER = "comite@example.org"
WEEK = "2020-W28"  # 6 to 12 July 2020: the team's first week in investigation


def at(w: Workflow, *args: int) -> Workflow:
    return w.at(FixedClock(paris(*args)))


def ids(w: Workflow, email: str) -> tuple[int, int]:
    with w.store.read() as s:
        return (s.exec(select(Person.id).where(Person.email == email)).one(),
                s.exec(select(Team.id).where(Team.name == TEAM)).one())


@pytest.fixture
def w(wf):
    """A team in investigation since 6 July 2020 (coached by COACH), a committee member, links signed."""
    wf = wf.with_settings(Settings(secret_key=KEY))
    seed(wf)
    wf.directory.add_person("Membre du comité", MEMBER, ["committee"])
    ready_team(wf, TEAM)
    wf = at(wf, 2020, 7, 6, 9, 0)
    wf.transitions.advance(TEAM, "select")
    return at(wf, 2020, 7, 9, 18, 0).through("web")


def checkin_token(w: Workflow, email: str = COACH, week: str = WEEK, *, team: int | None = None) -> tuple[str, int]:
    pid, tid = ids(w, email)
    return sign(KEY, w.clock, "checkin", pid, 0, team or tid, week), tid


def test_a_coach_logs_then_corrects_the_week_from_the_link(w):
    token, tid = checkin_token(w)
    seen = []
    c = w.links.checkin(token, tid, WEEK, CheckInText(notes=" Entretiens\r\navec usagers ", hours="6,5", mood="4"),
                        seen=seen.append)
    assert (c.author, c.on, c.week, c.notes, c.hours, c.mood) == (COACH, "2020-07-09", WEEK, "Entretiens\navec usagers",
                                                                 6.5, 4)
    assert [g.email for g in seen] == [COACH]
    with w.store.read() as s:
        ev = s.exec(select(Event).where(Event.action == "checkin.log")).one()
    assert ev.actor == COACH and json.loads(ev.data)["via"] == "web"
    form = w.links.checkin_form(token, tid, WEEK)
    assert form.mine == c and form.editable and (form.monday, form.sunday) == (date(2020, 7, 6), date(2020, 7, 12))
    assert form.default_on == date(2020, 7, 9) and form.team.name == TEAM and form.previous is None
    # a second submission corrects it (empty fields change nothing)
    again = w.links.checkin(token, tid, WEEK, CheckInText(hours="7"))
    assert again.id == c.id and again.hours == 7 and again.notes == c.notes
    assert len(w.checkins(team=TEAM)) == 1


def test_a_past_week_defaults_to_its_sunday_and_a_day_outside_it_is_refused(w):
    token, tid = checkin_token(w)
    later = at(w, 2020, 7, 20, 9, 0).through("web")
    assert later.links.checkin_form(token, tid, WEEK).default_on == date(2020, 7, 12)
    with pytest.raises(Invalid) as exc:
        later.links.checkin(token, tid, WEEK, CheckInText(on="2020-07-13", notes="x"))
    assert exc.value.code == "not_in_week"
    with pytest.raises(Invalid, match="is not a date"):
        later.links.checkin(token, tid, WEEK, CheckInText(on="13/07", notes="x"))
    for typed in ("lots", "nan", "inf", "1e400", "６", "1_0", "2,5,1"):  # what float() takes is not a number typed
        with pytest.raises(Invalid) as exc:
            later.links.checkin(token, tid, WEEK, CheckInText(notes="x", hours=typed))
        assert exc.value.code == "not_a_number", typed
    assert later.links.checkin(token, tid, WEEK, CheckInText(notes="x", hours="2,5")).hours == 2.5  # as French writes it
    assert later.links.checkin(token, tid, WEEK, CheckInText(notes="y")).on == "2020-07-12"


def test_the_correction_window_closes(w):
    token, tid = checkin_token(w)
    w.links.checkin(token, tid, WEEK, CheckInText(notes="x"))
    late = at(w, 2020, 7, 17, 9, 0).through("web")
    assert not late.links.checkin_form(token, tid, WEEK).editable
    with pytest.raises(Invalid, match="corrections are allowed for 7 days only"):
        late.links.checkin(token, tid, WEEK, CheckInText(notes="y"))


def test_a_missed_week_stays_missed_when_its_reason_is_corrected(w):
    token, tid = checkin_token(w)
    w.links.checkin(token, tid, WEEK, CheckInText(missed=True, reason="Congé"))
    c = w.links.checkin(token, tid, WEEK, CheckInText(reason="Maladie"))
    assert c.missed and c.reason == "Maladie"


def test_the_link_is_checked_before_the_fields(w):
    token, tid = checkin_token(w)
    with pytest.raises(Invalid) as exc:
        w.links.checkin(token[:-2] + "xx", tid, WEEK, CheckInText(hours="lots"))
    assert exc.value.code == "link_invalid"
    expired = at(w, 2020, 7, 24, 9, 0).through("web")
    with pytest.raises(LinkGone):
        expired.links.checkin(token, tid, WEEK, CheckInText(hours="lots"))
    with pytest.raises(Forbidden) as exc:
        w.links.checkin(token, tid, "2020-W29", CheckInText(notes="x"))
    assert exc.value.code == "link_elsewhere"
    assert w.checkins() == []


def test_only_a_coach_of_the_team_and_only_while_it_is_open(w):
    other, tid = checkin_token(w, "agent3@example.org")
    seen = []
    with pytest.raises(Forbidden, match="no longer a coach") as exc:
        w.links.checkin_form(other, tid, WEEK, seen=seen.append)
    assert exc.value.code == "no_longer_coach" and [g.email for g in seen] == ["agent3@example.org"]
    token, tid = checkin_token(w)
    w.transitions.advance(TEAM, "abandon", reason="Fin")
    with pytest.raises(LinkGone, match="is closed") as exc:
        w.links.checkin(token, tid, WEEK, CheckInText(notes="x"))
    assert exc.value.code == "team_closed"
    gone, _ = checkin_token(w, team=tid + 100)
    with pytest.raises(NotFound):
        w.links.checkin_form(gone, tid + 100, WEEK)


def test_a_check_in_logged_meanwhile_is_not_logged_twice(w):
    token, tid = checkin_token(w)
    w.acting_as(COACH).checkins.log(TEAM, notes="from the CLI")
    w.acting_as(COACH).checkins.log(TEAM, notes="again")  # the CLI may log two; the link corrects the last
    c = w.links.checkin(token, tid, WEEK, CheckInText(notes="corrected"))
    assert [x.notes for x in w.checkins(team=TEAM)] == ["from the CLI", "corrected"] and c.notes == "corrected"
    with pytest.raises(ChangedMeanwhile):
        w.acting_as(COACH).checkins.log(TEAM, notes="once more", once=True)


def committee_token(w: Workflow, email: str = MEMBER) -> tuple[str, int]:
    pid, tid = ids(w, email)
    return sign(KEY, w.clock, "committee", pid, 0, tid), tid


def test_the_committee_opinion_from_its_day_on(w):
    w.teams.poc(TEAM, "Un prototype testé.")
    w.teams.committee(TEAM, on=date(2020, 9, 10))
    w = at(w, 2020, 9, 1, 10, 0).through("web")
    w.transitions.advance(TEAM, "present")
    token, tid = committee_token(w)
    form = w.links.committee_form(token, tid)
    assert form.opens == date(2020, 9, 10) and not form.open and form.grant.email == MEMBER
    assert w.links.committee(token, tid, "trop tôt") is None
    assert w.teams.show(TEAM).committee.opinion is None
    w = at(w, 2020, 9, 10, 17, 0).through("web")
    with pytest.raises(Invalid):
        w.links.committee(token, tid, "  ")
    ev = w.links.committee(token, tid, " Avis favorable\r\n ")
    assert ev.actor == MEMBER and ev.data["via"] == "web"
    assert w.teams.show(TEAM).committee.opinion == "Avis favorable"
    coach, _ = committee_token(w, COACH)  # a coach may read the team, not record its opinion
    with pytest.raises(Forbidden):
        w.links.committee(coach, tid, "moi")
    stranger, _ = committee_token(w, "agent5@example.org")  # may not even read it
    with pytest.raises(Forbidden):
        w.links.committee_form(stranger, tid)


def test_signing_in_and_a_session_ended_by_revoking(w):
    url, _ = w.links.signin_url(COACH)
    grant, session_id = w.links.signin(url.rsplit("/", 1)[1])
    assert grant.email == COACH and w.links.session(session_id).email == COACH
    with pytest.raises(Invalid):  # a check-in link does not sign in
        w.links.signin(checkin_token(w)[0])
    w.links.revoke(COACH)
    with pytest.raises(LinkGone):
        w.links.session(session_id)
    url, _ = w.links.signin_url(COACH)
    later = at(w, 2020, 7, 9, 19, 1)
    with pytest.raises(LinkGone):
        later.links.signin(url.rsplit("/", 1)[1])



# ---- whose links one makes and revokes, whose opinion a link takes: two programmes ----------------------


@pytest.fixture
def world(wf):
    return scopes.two_programmes(wf.with_settings(Settings(secret_key=KEY)))


def _generation(w: Workflow, email: str) -> int:
    with w.store.read() as s:
        return s.exec(select(Person.link_generation).where(Person.email == email)).one() or 0


def test_a_coordinator_of_a_signs_in_and_revokes_the_people_of_a_only(world):
    a = world.acting_as(scopes.COORD_A)
    for person in (scopes.COACH_A, scopes.COMMITTEE_A, scopes.PARTNER_X):
        assert a.links.signin_url(person)[1].email == person
    for person in (scopes.COACH_B, scopes.AGENT_B, scopes.COORD_B):
        with pytest.raises(Forbidden) as e:
            a.links.signin_url(person)
        assert (e.value.code, e.value.params["programme"]) == ("grant_needed", B)
        with pytest.raises(Forbidden) as e:
            a.links.revoke(person)
        assert (e.value.code, e.value.params["programme"]) == ("grant_needed", B)
        assert _generation(world, person) == 0  # nothing written
    assert a.links.revoke(scopes.COACH_A) == 1
    b = world.acting_as(scopes.COORD_B)
    assert b.links.signin_url(scopes.COACH_B)[1].email == scopes.COACH_B
    with pytest.raises(Forbidden):
        b.links.signin_url(scopes.COACH_A)
    # The administrator reaches every programme; a reader makes no link at all.
    assert world.links.signin_url(scopes.COACH_B)[1].email == scopes.COACH_B
    with pytest.raises(Forbidden):
        world.acting_as(scopes.COMMITTEE_A).links.signin_url(scopes.COACH_A)


def test_a_person_in_both_programmes_needs_both(world):
    world.acting_as(scopes.COORD_B).teams.edit(B1, intrapreneurs=["agent1@example.org"])  # agent1 is in A2
    with pytest.raises(Forbidden) as e:
        world.acting_as(scopes.COORD_A).links.signin_url("agent1@example.org")
    assert e.value.params["programme"] == B
    with pytest.raises(Forbidden) as e:
        world.acting_as(scopes.COORD_B).links.revoke("agent1@example.org")
    assert e.value.params["programme"] == A
    world.directory.grant(scopes.COORD_B, "coordinator", A)
    assert world.acting_as(scopes.COORD_B).links.revoke("agent1@example.org") == 1


def test_a_committee_link_of_a_team_of_another_programme_takes_nothing(world):
    def token(email: str, team: str) -> tuple[str, int]:
        with world.store.read() as s:
            pid = s.exec(select(Person.id).where(Person.email == email)).one()
            tid = s.exec(select(Team.id).where(Team.name == team)).one()
        return sign(KEY, world.clock, "committee", pid, 0, tid), tid

    mine = world.links.committee_form(*token(scopes.COMMITTEE_A, A1))
    assert mine.team.name == A1
    for who in (scopes.COMMITTEE_A, scopes.COORD_A):
        with pytest.raises(Forbidden) as e:
            world.links.committee_form(*token(who, B1))
        assert (e.value.code, e.value.params["programme"]) == ("grant_needed", B)
        with pytest.raises(Forbidden):
            world.links.committee(*token(who, B1), "Favorable")
    assert world.acting_as(scopes.COORD_B).teams.show(B1).committee.opinion is None
