"""The committee's opinion, from the link of the "committee soon" reminder."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.web.helpers import HELENE, JULIEN, NOW, committee_url, csrf

from workflow.clock import FixedClock
from workflow.clock import PARIS

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
