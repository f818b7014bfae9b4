"""The one-click unsubscribe link (RFC 8058) on the demo: a GET shows a button and mutes nothing; the POST a
mail provider sends (no cookie, no CSRF token) mutes; every other form keeps its CSRF check."""

from __future__ import annotations

from tests.web.helpers import BASE, JULIEN, NOW, checkin_url, ids
from workflow.services.mutes import Mutes

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def link(wf, email: str = JULIEN, kind: str = "coaching", gen: int = 0) -> str:
    pid, _ = ids(wf, email)
    return Mutes(wf.ctx).url(pid, gen, kind, NOW).removeprefix(BASE)


def test_get_shows_a_button_and_mutes_nothing(wf, client):
    r = client.get(link(wf))
    assert r.status_code == 200
    assert '<form method="post">' in r.text and 'name="List-Unsubscribe" value="One-Click"' in r.text
    assert JULIEN in r.text and r.headers["Cache-Control"] == "no-store"
    assert wf.directory.person(JULIEN).muted == ()


def test_the_one_click_post_mutes_without_cookie_or_csrf_token(wf, app):
    path = link(wf, kind="committee_soon")
    r = app.test_client().post(path, data=ONE_CLICK)
    assert r.status_code == 200, r.text
    assert wf.directory.person(JULIEN).muted == ("committee_soon",)
    # the page says so; the form now says it is done
    assert 'name="List-Unsubscribe"' not in app.test_client().get(path).text
    # the exemption is that POST's alone: a check-in form without its token is still refused
    assert app.test_client().post(checkin_url(wf), data={"notes": "x"}).status_code == 400


def test_a_bad_body_or_link_is_refused_and_writes_nothing(wf, client):
    path = link(wf)
    assert client.post(path, data={}).status_code == 400
    assert client.post(path + "x", data=ONE_CLICK).status_code == 400
    assert client.post("/unsubscribe/not-a-token", data=ONE_CLICK).status_code == 400
    assert client.post(link(wf, gen=1), data=ONE_CLICK).status_code == 410  # another generation
    assert client.put(path, data=ONE_CLICK).status_code == 405
    assert wf.directory.person(JULIEN).muted == ()


def test_hostile_names_are_escaped_on_the_page(wf, client):
    wf.directory.edit_person(JULIEN, name='<script>alert(1)</script> "J"')
    r = client.get(link(wf))
    assert r.status_code == 200 and "<script>alert" not in r.text and "&lt;script&gt;" in r.text
