"""The board and the forms of two programmes side by side (tests/workflow/services/scopes.py): each
signed-in person sees exactly what the library lets them read, and a link of a team out of their
scope takes nothing. In-process (Flask's test client); the Chromium cases are tests/web/browser."""

from __future__ import annotations

import html
import re

import pytest
from sqlmodel import select

from tests.conftest import COORD, paris
from tests.web.helpers import BASE, CSRF, KEY, settings
from tests.workflow.services import scopes
from tests.workflow.services.scopes import A, A1, A2, B, B1
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.services.links import checkin_path, committee_path, sign
from workflow.store.models import Person, Team


@pytest.fixture
def world(tmp_path):
    wf = Workflow.open(str(tmp_path / "scopes.db"), clock=FixedClock(paris(2020, 7, 1, 10, 0)), actor=COORD,
                       create=True, settings=settings())
    w = scopes.two_programmes(wf).at(FixedClock(paris(2020, 7, 8, 18, 0)))
    yield w
    wf.close()


@pytest.fixture
def client(world):
    from web import create_app

    return create_app(world, testing=True).test_client()


def ids(w: Workflow, email: str, team: str) -> tuple[int, int]:
    with w.store.read() as s:
        return (s.exec(select(Person.id).where(Person.email == email)).one(),
                s.exec(select(Team.id).where(Team.name == team)).one())


def sign_in(client, w: Workflow, email: str) -> None:
    path = w.links.signin_url(email)[0].removeprefix(BASE)  # made by the administrator
    page = client.get(path)  # the link's page uses nothing; its button signs in
    assert client.post(path, data={"csrf_token": CSRF.search(page.text).group(1)}).status_code == 303


def csrf_token(client, w: Workflow) -> str:
    """A form's token for this client: the one of coach A's own check-in form (A1, week 2020-W28)."""
    pid, tid = ids(w, scopes.COACH_A, A1)
    page = client.get(checkin_path(sign(KEY, w.clock, "checkin", pid, 0, tid, "2020-W28"), tid, "2020-W28"))
    return CSRF.search(page.text).group(1)


def teams_on(page: str) -> set[str]:
    return {html.unescape(m) for m in re.findall(r'<a href="/team/[^"]+">([^<]+)</a>', page)}


@pytest.mark.parametrize("who, teams, programmes", [
    (scopes.COORD_A, {A1, A2}, {A}), (scopes.COORD_B, {B1}, {B}), (scopes.COMMITTEE_A, {A1, A2}, {A}),
    (scopes.PARTNER_X, {A2}, {A}), (scopes.COACH_B, {B1}, {B})])
def test_the_board_shows_each_person_their_scope(client, world, who, teams, programmes):
    sign_in(client, world, who)
    page = client.get("/")
    assert page.status_code == 200
    assert teams_on(page.text) == teams
    for name in (A, B):
        assert (html.escape(name) in page.text) == (name in programmes), name
    for team in {A1, A2, B1} - teams:
        r = client.get(f"/team/{team}")
        assert r.status_code == 404 and html.escape(team) not in teams_on(r.text)  # as one that does not exist
    for team in teams:
        assert client.get(f"/team/{team}").status_code == 200


def test_a_partner_readers_board_counts_only_their_teams(client, world):
    sign_in(client, world, scopes.PARTNER_X)
    page = client.get("/").text
    row = re.search(r"<tr><td>" + re.escape(html.escape(A)) + r"</td>.*?</tr>", page).group(0)
    assert row.endswith('<td class="num">1</td></tr>')  # A2 only, not A's two teams


def test_a_committee_link_of_another_programmes_team_is_refused_and_takes_nothing(client, world):
    pid, tid = ids(world, scopes.COMMITTEE_A, B1)
    url = committee_path(sign(KEY, world.clock, "committee", pid, 0, tid), tid)
    r = client.get(url)
    assert r.status_code == 403 and "Un problème de B" not in r.text
    r = client.post(url, data={"csrf_token": csrf_token(client, world), "opinion": "Favorable"})
    assert r.status_code == 403
    assert world.acting_as(scopes.COORD_B).teams.show(B1).committee.opinion is None


def test_a_check_in_link_of_a_team_one_does_not_coach_is_refused_and_writes_nothing(client, world):
    pid, tid = ids(world, scopes.COACH_A, B1)
    url = checkin_path(sign(KEY, world.clock, "checkin", pid, 0, tid, "2020-W28"), tid, "2020-W28")
    assert client.get(url).status_code == 403
    r = client.post(url, data={"csrf_token": csrf_token(client, world), "notes": "Par le coach de A"})
    assert r.status_code == 403
    assert world.acting_as(scopes.COORD_B).checkins(team=B1) == []


def test_an_administrator_who_coordinates_nothing_sees_the_programmes_but_no_team(client, world):
    world.directory.grant(scopes.COORD_A, "admin")
    world.acting_as(scopes.COORD_A).directory.revoke(COORD, "coordinator", A)
    sign_in(client, world.acting_as(scopes.COORD_A), COORD)
    page = client.get("/")
    assert page.status_code == 200 and teams_on(page.text) == set()
    assert client.get(f"/team/{A1}").status_code == 404
