"""Sessions and HTTP, through Flask's test client on a real SQLite store: sign-out and revoking end a
session on the server (a copied cookie opens nothing after), a sign-in link works once (by its page's
button: opening the page, as a mail scanner does, uses nothing), tokens are
canonical, a week out of range is a 400 page, a 405 names what is allowed, redirects never name the
Host header's server, https is known behind a trusted proxy, and a team one may not read answers as one
that does not exist."""

from __future__ import annotations

import pytest
from sqlmodel import func, select
from tests.web.helpers import BASE, COORD, CSRF, JULIEN, KEY, RSA, checkin_url, csrf, ids, signin
from tests.workflow.services.test_links_sessions import respelled

from workflow.clock import FixedClock
from workflow.services.links import checkin_path, sign
from workflow.settings import Settings
from workflow.store.models import SpentLink, WebSession


def create(wf, **extra):
    from web import create_app

    return create_app(wf.with_settings(Settings(**{"base_url": BASE, "secret_key": KEY, **extra})), testing=True)


def cookie(client) -> str:
    return client.get_cookie("preincub").value


def token_of(client) -> str:
    return CSRF.search(client.get("/").text).group(1)


def sessions(wf) -> int:
    with wf.store.read() as s:
        return s.exec(select(func.count()).select_from(WebSession)).one()


def test_a_copied_cookie_opens_nothing_after_sign_out(app, client, wf):
    signin(client, wf, JULIEN)
    copy = app.test_client()
    copy.set_cookie("preincub", cookie(client))
    assert copy.get("/").status_code == 200  # the same session, from another browser
    r = client.post("/signout", data={"csrf_token": token_of(client)})
    assert r.status_code == 303 and r.headers["Location"] == "/signed-out"
    r = copy.get("/")
    assert r.status_code == 410 and "Insertion RSA" not in r.text
    assert copy.get("/").status_code == 403  # the cookie was emptied: sign in first


def test_revoke_links_ends_the_sessions_on_the_server(app, client, wf):
    signin(client, wf, JULIEN)
    copy = app.test_client()
    copy.set_cookie("preincub", cookie(client))
    wf.links.revoke(JULIEN)
    assert client.get("/").status_code == 410 and copy.get("/").status_code == 410


def test_the_revoke_links_command_ends_the_sessions(client, wf, store):
    from click.testing import CliRunner

    import cli

    signin(client, wf, JULIEN)
    assert sessions(wf) == 1
    r = CliRunner().invoke(cli.app, ["--db", str(store), "--now", "2020-11-16T18:00", "--as", COORD, "person",
                                     "revoke-links", JULIEN], env={"PREINCUB_SECRET_KEY": KEY})
    assert r.exit_code == 0, r.output
    assert sessions(wf) == 0  # deleted on the server, not only refused
    assert client.get("/").status_code == 410


def test_a_sign_in_link_works_once(client, wf, app):
    url = wf.links.signin_url(JULIEN)[0].removeprefix(BASE)
    signed = client.post(url, data={"csrf_token": csrf(client, url)})
    assert signed.status_code == 303 and client.get("/").status_code == 200
    other = app.test_client()
    token = csrf(other, wf.links.signin_url(JULIEN)[0].removeprefix(BASE))  # another link's page: a form's token
    for again in (other.get(url), other.post(url, data={"csrf_token": token})):
        assert again.status_code == 410 and "<main" in again.text and "Insertion RSA" not in again.text
        assert "signin" not in again.text and url.rsplit("/", 1)[1] not in again.text
    assert "déjà été utilisé" in other.get(url).text  # in the person's language: the link is theirs


def test_opening_a_sign_in_link_uses_nothing(client, wf, app):
    """A mail scanner fetches every link of a message: its GETs show the page and sign no one in, and
    the person's own click still works."""
    url = wf.links.signin_url(JULIEN)[0].removeprefix(BASE)
    scanner = app.test_client()
    for _ in range(2):
        page = scanner.get(url)
        assert page.status_code == 200 and "Julien Moreau" in page.text and JULIEN in page.text
        assert 'method="post"' in page.text and "Insertion RSA" not in page.text
        assert scanner.get("/").status_code == 403 and sessions(wf) == 0
    assert client.post(url, data={"csrf_token": csrf(client, url)}).status_code == 303
    assert client.get("/").status_code == 200 and sessions(wf) == 1
    assert client.post(url, data={"csrf_token": token_of(client)}).status_code == 410  # used: a POST after a POST
    assert sessions(wf) == 1


def test_a_sign_in_without_the_forms_token_is_refused_and_uses_nothing(client, wf):
    url = wf.links.signin_url(JULIEN)[0].removeprefix(BASE)
    assert client.post(url).status_code == 400
    assert client.post(url, data={"csrf_token": "forged"}).status_code == 400
    assert sessions(wf) == 0 and client.get("/").status_code == 403
    with wf.store.read() as s:
        assert s.exec(select(func.count()).select_from(SpentLink)).one() == 0
    assert client.post(url, data={"csrf_token": csrf(client, url)}).status_code == 303  # still usable


def test_a_sign_in_page_escapes_the_persons_name(client, wf):
    wf.directory.edit_person(JULIEN, name="<script>alert(1)</script> Julien")
    page = client.get(wf.links.signin_url(JULIEN)[0].removeprefix(BASE))
    assert page.status_code == 200 and "<script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Julien &lt;" + JULIEN + "&gt;" in page.text


def test_respelled_tokens_are_400(client, wf):
    pid, tid = ids(wf, JULIEN, RSA)
    token = sign(KEY, wf.clock, "checkin", pid, 0, tid, "2020-W47")
    assert client.get(checkin_path(token, tid, "2020-W47")).status_code == 200
    for other in respelled(token):
        assert client.get(checkin_path(other, tid, "2020-W47")).status_code == 400
    url = wf.links.signin_url(JULIEN)[0].removeprefix(BASE)
    token = csrf(client, url)
    for other in respelled(url):
        assert client.get(other).status_code == 400
        assert client.post(other, data={"csrf_token": token}).status_code == 400
    assert client.post(url, data={"csrf_token": token}).status_code == 303


def test_a_week_whose_days_are_not_all_dates_is_a_400_page(client, wf):
    for method in (client.get, client.post):
        r = method(checkin_url(wf, week="9999-W52"), data={"notes": "x"})
        assert r.status_code == 400 and "<main" in r.text
    assert wf.checkins(team=RSA)[-1].week != "9999-W52"


def test_a_405_names_the_methods_allowed(client, wf):
    r = client.get("/signout")
    assert r.status_code == 405 and set(r.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}
    r = client.put(checkin_url(wf))
    assert r.status_code == 405 and set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_redirects_never_name_the_host_headers_server(client, wf):
    r = client.get("/team//x", headers={"Host": "evil.example"})
    assert r.status_code == 308 and r.headers["Location"] == BASE + "/team/x"
    bare = create(wf, base_url=None).test_client()
    r = bare.get("/team//x", headers={"Host": "evil.example"})
    assert r.status_code == 308 and r.headers["Location"] == "/team/x"
    r = bare.get("/team//x?week=2020-W47", headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    assert r.headers["Location"] == "/team/x?week=2020-W47"
    from web.app import own_location

    assert own_location("http://evil.example//evil.example/x", None) == "/evil.example/x"  # never "//server"


def test_behind_a_trusted_proxy_https_is_known_and_the_referer_is_checked(wf):
    https = {"X-Forwarded-Proto": "https"}
    proxied = create(wf, trusted_proxies=1).test_client()
    signin(proxied, wf, JULIEN)
    page = proxied.get("/", headers=https)
    assert page.status_code == 200
    token = CSRF.search(page.text).group(1)
    assert proxied.post("/signout", data={"csrf_token": token}, headers=https).status_code == 400  # no Referer
    r = proxied.post("/signout", data={"csrf_token": token}, headers={**https, "Referer": "https://evil.example/"})
    assert r.status_code == 400
    r = proxied.post("/signout", data={"csrf_token": token}, headers={**https, "Referer": "https://localhost/"})
    assert r.status_code == 303
    # Without the setting, the header is not trusted: the request is plain http, and no Referer is asked for.
    direct = create(wf).test_client()
    signin(direct, wf, JULIEN)
    token = token_of(direct)
    assert direct.post("/signout", data={"csrf_token": token}, headers=https).status_code == 303


def test_trusted_proxies_must_be_a_small_number(wf):
    from workflow.errors import Invalid

    for bad in ("-1", "many", "11"):
        with pytest.raises(Invalid) as e:
            create(wf, trusted_proxies=bad)
        assert "PREINCUB_TRUSTED_PROXIES" in e.value.text("en")


def test_a_team_one_may_not_read_answers_as_one_that_does_not_exist(client, wf):
    signin(client, wf, JULIEN)  # coaches Insertion RSA, not Dossiers MDPH
    hidden, missing = client.get("/team/Dossiers MDPH"), client.get("/team/Dossiers MDPI")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text == missing.text and "MDP" not in hidden.text
    assert client.get(f"/team/{RSA}").status_code == 200
    coord = create(wf).test_client()
    signin(coord, wf, COORD)
    assert coord.get("/team/Dossiers MDPH").status_code == 200


def test_an_idle_session_ends_on_the_server(app, client, wf):
    from datetime import timedelta

    signin(client, wf, JULIEN)
    later = create(wf.at(FixedClock(wf.clock.now() + timedelta(hours=8, minutes=1)))).test_client()
    later.set_cookie("preincub", cookie(client))
    assert later.get("/").status_code == 410
