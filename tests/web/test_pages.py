"""What a bad request gets: a short page in the person's language, the right status, no one's data,
nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.web.helpers import JULIEN, KEY, NOW, RSA, SARAH, WEEK, checkin_url, csrf, ids, settings

from workflow.api import Workflow

from workflow.clock import FixedClock
from workflow.services.links import checkin_path, sign
from workflow.store.models import CheckIn, Event

NOTES = {"notes": "Une note"}


def counts(wf: Workflow) -> tuple[int, int]:
    from sqlmodel import func, select

    with wf.store.read() as s:
        return s.exec(select(func.count()).select_from(CheckIn)).one(), s.exec(
            select(func.count()).select_from(Event)).one()


def refused(r, status: int, *words: str) -> None:
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert "Insertion RSA" not in r.text or status == 403  # no data of anyone beyond the name of the link
    assert "@" not in r.text.split("<main")[1]  # no e-mail address of anyone
    for w in words:
        assert w in r.text


def test_tampered_link_is_400(client, wf):
    url = checkin_url(wf)
    before = counts(wf)
    bad = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    refused(client.get(bad), 400, "pas valide")
    refused(client.post(bad, data=NOTES), 400)
    assert counts(wf) == before


def test_token_of_another_kind_is_400(client, wf):
    pid, tid = ids(wf, JULIEN, RSA)
    token = sign(KEY, wf.clock, "signin", pid, 0, tid, WEEK)
    refused(client.get(checkin_path(token, tid, WEEK)), 400)


def test_token_signed_with_another_key_is_400(client, wf):
    pid, tid = ids(wf, JULIEN, RSA)
    token = sign("another-key-0123456789abcdefghij", wf.clock, "checkin", pid, 0, tid, WEEK)
    refused(client.get(checkin_path(token, tid, WEEK)), 400)


def test_expired_link_is_410(client, wf):
    old = FixedClock(NOW - timedelta(days=15))
    refused(client.get(checkin_url(wf, clock=old)), 410, "expiré")


def test_fresh_enough_link_of_13_days_works(client, wf):
    r = client.get(checkin_url(wf, clock=FixedClock(NOW - timedelta(days=13))))
    assert r.status_code == 200


def test_revoked_link_is_410(client, wf):
    url = checkin_url(wf)
    token = csrf(client, url)
    assert wf.links.revoke(JULIEN) == 1
    before = counts(wf)
    refused(client.get(url), 410, "révoqué")
    refused(client.post(url, data={**NOTES, "csrf_token": token}), 410)
    assert counts(wf) == before
    assert client.get(checkin_url(wf, gen=1)).status_code == 200  # a new link works


def test_link_used_for_another_team_or_week_is_403(client, wf):
    _, other = ids(wf, SARAH, "Dossiers MDPH")
    refused(client.get(checkin_url(wf, url_team=other)), 403, "autre équipe")
    refused(client.get(checkin_url(wf, url_week="2020-W46")), 403, "autre semaine")
    assert client.get(checkin_url(wf, url_week="not-a-week")).status_code == 400  # bad input, as a week out of range


def test_person_no_longer_the_coach_is_403(client, wf):
    url = checkin_url(wf)
    wf.teams.edit(RSA, coach=SARAH)
    before = counts(wf)
    r = client.get(url)
    assert r.status_code == 403
    assert client.post(url, data=NOTES).status_code in (400, 403)
    assert counts(wf) == before


def test_post_without_csrf_token_is_400(wf):
    from web import create_app

    app = create_app(wf)  # not testing: CSRF on, as in production
    client = app.test_client()
    url = checkin_url(wf)
    before = counts(wf)
    r = client.post(url, data=NOTES)
    refused(r, 400, "formulaire")
    r = client.post(url, data={**NOTES, "csrf_token": "forged"})
    refused(r, 400)
    assert counts(wf) == before
    token = csrf(client, url)
    assert client.post(url, data={**NOTES, "csrf_token": token}).status_code == 303


def test_oversized_body_is_413(client, wf):
    url = checkin_url(wf)
    token = csrf(client, url)
    before = counts(wf)
    r = client.post(url, data={"csrf_token": token, "notes": "x" * 200_000})
    refused(r, 413, "volumineux")
    assert counts(wf) == before


def test_closed_team_is_410(client, wf):
    name = "Cantines des collèges"  # abandoned, coached by Julien
    pid, tid = ids(wf, JULIEN, name)
    url = checkin_path(sign(KEY, wf.clock, "checkin", pid, 0, tid, WEEK), tid, WEEK)
    refused(client.get(url), 410, "close")


def test_unknown_page_is_404_in_english_for_an_english_browser(client):
    r = client.get("/nowhere", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert r.status_code == 404 and 'lang="en"' in r.text and "no such page" in r.text


def test_errors_never_echo_the_token(client, wf):
    url = checkin_url(wf, clock=FixedClock(NOW - timedelta(days=20)))
    token = url.rsplit("/", 1)[1]
    r = client.get(url)
    assert r.status_code == 410 and token not in r.text


def test_exceptions_are_logged_without_the_path(app, wf, caplog):
    url = checkin_url(wf)
    token = url.rsplit("/", 1)[1]

    @app.get("/boom/<token>")
    def boom(token):
        raise RuntimeError("boom")

    app.config["TESTING"] = False
    app.testing = False
    r = app.test_client().get("/boom/" + token)
    assert r.status_code == 500 and token not in r.text
    assert token not in caplog.text and "path withheld" in caplog.text


def test_healthz(client, wf):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json == {"status": "ok"}


def test_healthz_when_the_store_is_gone(tmp_path):
    from web import create_app

    wf = Workflow.open(str(tmp_path / "s.db"), clock=FixedClock(NOW), create=True, settings=settings())
    app = create_app(wf, testing=True)
    (tmp_path / "s.db").unlink()
    r = app.test_client().get("/healthz")
    assert r.status_code == 503


@pytest.mark.parametrize("path", ["/checkin/1/2020-W47/x", "/committee/1/x", "/signin/x"])
def test_garbage_tokens_are_400(client, path):
    assert client.get(path).status_code == 400
