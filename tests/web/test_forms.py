"""The weekly check-in form a coach opens from the reminder."""

from __future__ import annotations

import json


from sqlmodel import select

from workflow.store.models import Event
from datetime import datetime, timedelta
from workflow.clock import FixedClock
from workflow.clock import PARIS
import threading
from tests.conftest import ready_team, seed
from tests.web.helpers import CSRF, HELENE, JULIEN, KEY, NOW, RSA, SARAH, WEEK, checkin_url, committee_url, csrf, settings
from workflow.api import Workflow
from workflow.services.links import checkin_path, sign


def test_form_shows_team_partner_week_and_last_checkin(client, wf):
    r = client.get(checkin_url(wf))
    assert r.status_code == 200
    page = r.text
    assert RSA in page and "Nord" in page and WEEK in page
    last = [c for c in wf.checkins(team=RSA) if not c.missed][-1]
    assert last.next_steps and last.next_steps.split("\n")[0][:20] in page
    assert 'lang="fr"' in page and "Point hebdomadaire" in page
    assert r.headers["Cache-Control"] == "no-store"
    assert "script-src" not in r.headers["Content-Security-Policy"]  # no script at all (default-src 'none')


def test_submit_logs_as_the_coach_through_the_web(client, wf):
    url = checkin_url(wf)
    token = csrf(client, url)
    r = client.post(url, data={"csrf_token": token, "notes": "Entretiens avec trois usagers.",
                               "blockers": "Accès aux données", "next_steps": "Prototype", "hours": "6,5",
                               "mood": "4"})
    assert r.status_code == 303
    rows = [c for c in wf.checkins(team=RSA, week=WEEK)]
    assert len(rows) == 1 and rows[0].author == JULIEN and rows[0].hours == 6.5 and rows[0].mood == 4
    with wf.store.read() as s:
        ev = s.exec(select(Event).where(Event.action == "checkin.log").order_by(Event.id.desc())).first()
    assert ev.actor == JULIEN and json.loads(ev.data)["via"] == "web"
    # reopening shows what was logged, and lets the coach correct it
    r = client.get(url)
    assert "Entretiens avec trois usagers." in r.text and "corriger" in r.text.lower()
    r = client.post(url, data={"csrf_token": token, "notes": "Entretiens avec quatre usagers.", "hours": "7"})
    assert r.status_code == 303
    rows = wf.checkins(team=RSA, week=WEEK)
    assert len(rows) == 1 and rows[0].notes == "Entretiens avec quatre usagers." and rows[0].hours == 7


def test_missed_week_needs_a_reason_shown_on_the_form_in_french(client, wf):
    url = checkin_url(wf)
    token = csrf(client, url)
    r = client.post(url, data={"csrf_token": token, "missed": "yes"})
    assert r.status_code == 422
    assert "raison" in r.text and wf.checkins(team=RSA, week=WEEK) == []
    r = client.post(url, data={"csrf_token": token, "missed": "yes", "reason": "Coach en congé"})
    assert r.status_code == 303
    [c] = wf.checkins(team=RSA, week=WEEK)
    assert c.missed and c.reason == "Coach en congé"
    # reopened: the reason is corrected, the week stays missed
    r = client.post(url, data={"csrf_token": token, "reason": "Coach malade"})
    assert r.status_code == 303
    [c] = wf.checkins(team=RSA, week=WEEK)
    assert c.missed and c.reason == "Coach malade"


def test_errors_are_in_the_persons_language(client, wf):
    wf.directory.edit_person(JULIEN, lang="en")
    url = checkin_url(wf)
    token = csrf(client, url)
    r = client.post(url, data={"csrf_token": token, "hours": "lots"})
    assert r.status_code == 422 and 'lang="en"' in r.text and "Nothing was saved" in r.text
    r = client.post(url, data={"csrf_token": token, "notes": "x", "hours": "99"})
    assert r.status_code == 422 and "between" in r.text
    assert wf.checkins(team=RSA, week=WEEK) == []


def test_a_day_outside_the_week_is_refused(client, wf):
    url = checkin_url(wf)
    token = csrf(client, url)
    r = client.post(url, data={"csrf_token": token, "notes": "x", "on": "2020-11-09"})
    assert r.status_code == 422 and wf.checkins(team=RSA, week=WEEK) == []


def test_double_submit_logs_once(client, wf):
    url = checkin_url(wf)
    token = csrf(client, url)
    wf.acting_as(JULIEN).checkins.log(RSA, notes="from the CLI meanwhile")
    from workflow.errors import ChangedMeanwhile
    import pytest

    with pytest.raises(ChangedMeanwhile):
        wf.acting_as(JULIEN).checkins.log(RSA, notes="again", once=True)
    assert len(wf.checkins(team=RSA, week=WEEK)) == 1


def test_hostile_text_is_escaped(client, wf):
    url = checkin_url(wf)
    token = csrf(client, url)
    evil = '<script>alert(1)</script> [/] [bold]x[/bold] "\' &amp;'
    wf.directory.edit_person(JULIEN, name=evil)  # shown in the page's header
    r = client.post(url, data={"csrf_token": token, "notes": evil, "blockers": evil, "next_steps": evil})
    assert r.status_code == 303
    page = client.get(url).text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; [/] [bold]x[/bold]" in page
    assert "&amp;amp;" in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # the name and the three fields


def test_hostile_reason_is_escaped(client, wf):
    url = checkin_url(wf)
    token = csrf(client, url)
    evil = "<script>alert(1)</script>[/]"
    assert client.post(url, data={"csrf_token": token, "missed": "yes", "reason": evil}).status_code == 303
    page = client.get(url).text
    assert "<script>" not in page and 'value="&lt;script&gt;alert(1)&lt;/script&gt;[/]"' in page


def test_sarah_cannot_use_a_link_for_a_team_she_does_not_coach(client, wf):
    r = client.get(checkin_url(wf, email=SARAH))
    assert r.status_code == 403 and "Insertion RSA" in r.text or r.status_code == 403


# The committee's opinion, from the link of the "committee soon" reminder.

TEAM = "Transport scolaire adapté"  # in poc_committee; its committee sits on 2020-12-10


def app_at(wf, when):
    from web import create_app

    return create_app(wf.at(FixedClock(when)), testing=True).test_client()


def test_before_the_date_the_page_says_when_it_opens(client, wf):
    r = client.get(committee_url(wf))
    assert r.status_code == 200 and "10 décembre 2020" in r.text and "<textarea" not in r.text
    client.application.config["WTF_CSRF_ENABLED"] = False
    assert client.post(committee_url(wf), data={"opinion": "trop tôt"}).status_code == 409
    assert wf.teams.show(TEAM).committee.opinion is None


def test_after_the_date_the_opinion_is_recorded_as_the_member(wf):
    url = committee_url(wf)
    client = app_at(wf, datetime(2020, 12, 10, 17, 0, tzinfo=PARIS))
    token = csrf(client, url)
    r = client.post(url, data={"csrf_token": token, "opinion": "Avis favorable <b>unanime</b>"})
    assert r.status_code == 303
    assert wf.teams.show(TEAM).committee.opinion == "Avis favorable <b>unanime</b>"
    [ev] = [e for e in wf.transitions.history(TEAM) if e.action == "committee"][-1:]
    assert ev.actor == HELENE and ev.data["via"] == "web"
    page = client.get(url).text
    assert "&lt;b&gt;unanime&lt;/b&gt;" in page


def test_a_coach_may_not_record_it(wf):
    url = committee_url(wf, email=JULIEN)
    client = app_at(wf, datetime(2020, 12, 10, 17, 0, tzinfo=PARIS))
    token = csrf(client, url)
    r = client.post(url, data={"csrf_token": token, "opinion": "moi"})
    assert r.status_code == 403
    assert wf.teams.show(TEAM).committee.opinion is None


def test_empty_opinion_is_shown_on_the_form(wf):
    url = committee_url(wf)
    client = app_at(wf, datetime(2020, 12, 11, 9, 0, tzinfo=PARIS))
    r = client.post(url, data={"csrf_token": csrf(client, url), "opinion": "  "})
    assert r.status_code == 422 and "Rien n'a été enregistré" in r.text


def test_committee_link_expires_after_30_days(wf):
    url = committee_url(wf)
    client = app_at(wf, NOW + timedelta(days=31))
    assert client.get(url).status_code == 410


# The check-in form on both stores (SQLite and, with PREINCUB_TEST_DATABASE_URL, PostgreSQL), and two
# submissions racing on the same week: one check-in, never two.

COORD = "coord@example.org"
COACH = "coach@example.org"


def world(db_url: str) -> tuple[Workflow, str]:
    early = Workflow.open(db_url, clock=FixedClock(datetime(2020, 7, 1, 10, 0, tzinfo=PARIS)), actor=COORD,
                          create=True, settings=settings())
    seed(early)
    ready_team(early, "Équipe A")
    early.transitions.advance("Équipe A", "select")
    wf = early.at(FixedClock(datetime(2020, 7, 9, 18, 0, tzinfo=PARIS)))  # Thursday of 2020-W28
    with wf.store.read() as s:
        from sqlmodel import select

        from workflow.store.models import Person, Team

        pid = s.exec(select(Person.id).where(Person.email == COACH)).one()
        tid = s.exec(select(Team.id).where(Team.name == "Équipe A")).one()
    return wf, checkin_path(sign(KEY, wf.clock, "checkin", pid, 0, tid, "2020-W28"), tid, "2020-W28")


def test_submit_and_race_on_each_store(db_url):
    from web import create_app

    wf, url = world(db_url)
    try:
        app = create_app(wf, testing=True)
        clients = [app.test_client() for _ in range(6)]
        tokens = [CSRF.search(c.get(url).text).group(1) for c in clients]
        barrier = threading.Barrier(len(clients))
        statuses: list[int] = []

        def submit(i: int) -> None:
            barrier.wait()
            r = clients[i].post(url, data={"csrf_token": tokens[i], "notes": f"Point {i}", "hours": "5"})
            statuses.append(r.status_code)

        threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(clients))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert set(statuses) == {303}, statuses
        rows = wf.checkins(team="Équipe A", week="2020-W28")
        assert len(rows) == 1 and rows[0].author == COACH
    finally:
        wf.close()


def test_a_week_out_of_range_is_a_400_page_whatever_the_link(client, wf):
    """A week that is no ISO week (week 60, year 0) is refused as bad input (400), not as an unknown
    page (404), with a signed link of that very week as with the coach's link of another week."""
    before, token = wf.checkins(team=RSA), csrf(client, checkin_url(wf))
    for week in ("2020-W60", "0000-W01", "2020-W00", "9999-W52"):
        for url in (checkin_url(wf, week=week), checkin_url(wf, url_week=week)):
            for r in (client.get(url), client.post(url, data={"csrf_token": token, "notes": "x"})):
                assert r.status_code == 400 and "<main" in r.text, (week, url, r.status_code)
                assert week in r.text, r.text  # the library's words: what is wrong with which week
    assert wf.checkins(team=RSA) == before
