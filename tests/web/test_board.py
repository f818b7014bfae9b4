"""Sign-in links, the session, and the read-only board under the permission table, role by role."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from tests.web.helpers import AURELIE, BASE, COORD, CSRF, HELENE, JULIEN, NOW, RSA, SARAH, signin

from workflow.clock import FixedClock

ALL_TEAMS = 10
JULIEN_TEAMS = {"Insertion RSA", "Transport scolaire adapté", "Informations préoccupantes", "Cantines des collèges",
                "Ouvrages d'art"}


def team_links(page: str) -> set[str]:
    import html
    import re

    return {html.unescape(m) for m in re.findall(r'<a href="/team/[^"]+">([^<]+)</a>', page)}


def test_board_needs_a_session(client):
    r = client.get("/")
    assert r.status_code == 403 and "connectez-vous" in r.text


def test_signin_sets_a_safe_cookie_and_shows_the_board(client, wf):
    url, _ = wf.links.signin_url(COORD)
    assert url.startswith(BASE + "/signin/")
    page = client.get(url.removeprefix(BASE))
    assert page.status_code == 200 and client.get("/").status_code == 403  # the page signs no one in
    r = client.post(url.removeprefix(BASE), data={"csrf_token": CSRF.search(page.text).group(1)})
    assert r.status_code == 303
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie  # base URL is https
    from email.utils import parsedate_to_datetime
    from datetime import datetime, timezone

    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    assert abs((expires - datetime.now(timezone.utc)).total_seconds() - 8 * 3600) < 120  # 8 idle hours
    board = client.get("/")
    assert board.status_code == 200
    assert "Pré-incubation 2020" in board.text and "23 décembre 2020" in board.text and ">37<" in board.text
    assert len(team_links(board.text)) == ALL_TEAMS


@pytest.mark.parametrize("email,teams", [(COORD, None), (HELENE, None), (JULIEN, JULIEN_TEAMS),
                                         (AURELIE, {"Insertion RSA"})])
def test_each_role_sees_what_the_table_allows(client, wf, email, teams):
    signin(client, wf, email)
    page = client.get("/").text
    seen = team_links(page)
    if teams is None:
        assert len(seen) == ALL_TEAMS
    else:
        assert seen == teams
        other = next(n for n in ("Dossiers MDPH", "Signalements voirie") if n not in teams)
        r = client.get(f"/team/{other}")
        assert r.status_code == 404 and "Aucun point" not in r.text  # as a team that does not exist


def test_a_coach_of_no_team_sees_no_team(client, wf):
    wf.directory.add_person("Nouveau coach", "new.coach@example.org", ["coach"])
    signin(client, wf, "new.coach@example.org")
    r = client.get("/")
    assert r.status_code == 200 and team_links(r.text) == set() and "Aucune équipe" in r.text


def test_team_page_has_timeline_people_checkins_poc_and_committee(client, wf):
    signin(client, wf, HELENE)
    r = client.get("/team/Transport scolaire adapté")
    assert r.status_code == 200
    page = r.text
    assert "<svg" in page and "Comité stratégique" in page and "<script" not in page
    assert "Inès Haddad" in page and "julien.moreau@beta.example" in page
    assert "Prototype testé" in page and "10 décembre 2020" in page
    assert "2020-W" in page  # check-ins listed by week
    assert client.get("/team/Nope").status_code == 404


def test_signin_link_expires_after_an_hour(client, wf):
    url, _ = wf.links.signin_url(JULIEN)
    later = create(wf, FixedClock(NOW + timedelta(hours=1, minutes=1)))
    r = later.test_client().get(url.removeprefix(BASE))
    assert r.status_code == 410


def create(wf, clock):
    from web import create_app

    return create_app(wf.at(clock), testing=True)


def test_revoking_ends_the_session(client, wf):
    signin(client, wf, JULIEN)
    assert client.get("/").status_code == 200
    wf.links.revoke(JULIEN)
    assert client.get("/").status_code == 410
    assert client.get("/").status_code == 403  # the session is gone


def test_signout(client, wf):
    signin(client, wf, JULIEN)
    page = client.get("/").text
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/signout", data={"csrf_token": token}).status_code == 303
    assert client.get("/").status_code == 403


def test_only_coordinators_make_signin_links(wf):
    from workflow.errors import Forbidden

    with pytest.raises(Forbidden):
        wf.acting_as(JULIEN).links.signin_url(SARAH)


def test_board_in_english_for_an_english_person(client, wf):
    wf.directory.edit_person(AURELIE, lang="en")
    signin(client, wf, AURELIE)
    page = client.get("/").text
    assert 'lang="en"' in page and "Days left" in page and RSA in page


def test_hostile_names_are_escaped_on_the_board(client, wf):
    evil = '<script>alert(1)</script>[/]'
    wf.teams.add(evil, "Pré-incubation 2020", "Nord", problem=evil)
    signin(client, wf, COORD)
    page = client.get("/").text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;[/]" in page
    from urllib.parse import quote

    r = client.get("/team/" + quote(evil))
    assert r.status_code == 200 and "<script>" not in r.text and "&lt;script&gt;" in r.text


def test_the_board_flags_a_terminable_agreement_to_those_who_read_every_team(client, wf):
    """An unanswered formal notice past its month: the board says so, as `status` does (escaped), to a
    coordinator; a coach, who does not read the agreements, sees no flag."""
    from datetime import date

    wf.notices.add("Pré-incubation 2020", "Pas-de-Calais", date(2020, 9, 1), "Aucune salle <b>fournie</b>.")
    signin(client, wf, COORD)
    import html

    page = client.get("/").text
    flag = re.search(r'<section class="error" role="alert">\s*<p>(.*?)</p>', page).group(1)
    assert html.unescape(flag) == ("⚠ convention de 'Pré-incubation 2020' avec 'Pas-de-Calais' résiliable depuis le "
                                   "2 octobre 2020\u00a0: mise en demeure n°\u00a01 du 1er septembre 2020 sans réponse")
    assert "'" not in flag  # escaped as the page's other text
    client.post("/signout")
    signin(client, wf, JULIEN)
    assert 'role="alert"' not in client.get("/").text
