"""The web's CLI commands (serve is covered end to end in tests/scenarios/test_browser_checkin.py) and the links in reminders."""

from __future__ import annotations

from datetime import datetime

import pytest
from click.testing import CliRunner
from tests.web.helpers import BASE, COORD, HELENE, JULIEN, KEY, RSA, WEEK, csrf
# The web tests' demo store and app: these commands make the links that app opens.
from tests.web.conftest import app, client, demo_store, store, wf  # noqa: F401
from sqlmodel import select

from workflow.api import Workflow

from workflow.clock import FixedClock
from workflow.clock import PARIS
from workflow.store.models import Outbox


@pytest.fixture
def cli_app():
    """The real CLI, which registers serve, web and person revoke-links."""
    import cli

    return cli.app


def run(app, store, *args, env=None, actor=COORD):
    env = {"PREINCUB_BASE_URL": BASE, "PREINCUB_SECRET_KEY": KEY, **(env or {})}
    r = CliRunner().invoke(app, ["--db", str(store), "--now", "2020-11-16T18:00", "--as", actor, *args], env=env)
    return r


def test_web_link_prints_a_working_signin_link(cli_app, store, client):
    r = run(cli_app, store, "web", "link", JULIEN)
    assert r.exit_code == 0, r.output
    url = r.output.strip()
    assert url.startswith(BASE + "/signin/")
    path = url.removeprefix(BASE)
    assert client.post(path, data={"csrf_token": csrf(client, path)}).status_code == 303


def test_web_link_needs_a_base_url(cli_app, store):
    r = run(cli_app, store, "web", "link", JULIEN, env={"PREINCUB_BASE_URL": ""})
    assert r.exit_code == 1 and "PREINCUB_BASE_URL" in r.output


def test_web_link_is_for_coordinators(cli_app, store):
    r = run(cli_app, store, "web", "link", JULIEN, actor=JULIEN)
    assert r.exit_code == 1


def test_web_link_send_goes_through_the_persons_channels(cli_app, store, wf):
    r = run(cli_app, store, "web", "link", JULIEN, "--send")  # e-mail is not configured here
    assert r.exit_code == 1 and "PREINCUB_SMTP_URL" in r.output
    wf.directory.edit_person(JULIEN, channels=["console"])
    r = run(cli_app, store, "web", "link", JULIEN, "--send")
    assert r.exit_code == 0, r.output
    assert BASE + "/signin/" in r.output and "console" in r.output.splitlines()[-1]


def test_revoke_links_kills_earlier_links(cli_app, store, wf, client):
    from tests.web.helpers import checkin_url

    url = checkin_url(wf)
    assert client.get(url).status_code == 200
    r = run(cli_app, store, "person", "revoke-links", JULIEN)
    assert r.exit_code == 0, r.output
    assert client.get(url).status_code == 410
    r = run(cli_app, store, "person", "revoke-links", JULIEN, actor=JULIEN)
    assert r.exit_code == 1


def test_secret_key_file_is_created_0600(tmp_path, monkeypatch):
    import os

    from workflow.services.links import secret_key, secret_path
    from workflow.settings import Settings

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    key = secret_key(Settings())
    path = secret_path()
    assert path.is_file() and os.stat(path).st_mode & 0o777 == 0o600 and len(key) >= 32
    assert secret_key(Settings()) == key  # read back, not remade
    assert secret_key(Settings(secret_key="from-the-environment-xyz")) == "from-the-environment-xyz"


def _bodies(wf: Workflow, kind: str) -> dict[str, Outbox]:
    with wf.store.read() as s:
        return {o.recipient: o for o in s.exec(select(Outbox).where(Outbox.kind == kind))}


def test_the_weekly_reminder_carries_the_checkin_link(wf, client):
    assert wf.reminders.enqueue() > 0
    msg = _bodies(wf, "coaching")[JULIEN]
    line = next(ln for ln in msg.body_text.splitlines() if ln.startswith(BASE))
    assert f"/{WEEK}/" in line and "checkin log" in msg.body_text
    assert f'<a href="{line}">' in msg.body_html
    r = client.get(line.removeprefix(BASE))
    assert r.status_code == 200 and RSA in r.text


def test_no_link_without_a_base_url(store):
    from workflow.settings import Settings

    w = Workflow.open(str(store), clock=FixedClock(datetime(2020, 11, 16, 18, 0, tzinfo=PARIS)), actor=COORD,
                      settings=Settings(secret_key=KEY))
    w.reminders.enqueue()
    assert "http" not in _bodies(w, "coaching")[JULIEN].body_text
    w.close()


def test_the_committee_reminder_carries_the_opinion_link_for_those_who_may_give_it(wf):
    w = wf.at(FixedClock(datetime(2020, 12, 3, 10, 0, tzinfo=PARIS)))
    w.reminders.enqueue()
    msgs = _bodies(w, "committee_soon")
    assert "/committee/" in msgs[COORD].body_text
    assert "/committee/" not in msgs[JULIEN].body_text  # a coach may not record the opinion
    assert "/committee/" in msgs[HELENE].body_text  # the committee members are told, with the link


@pytest.fixture
def busy_port():
    """A port some other program listens on."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as other:
        yield other.getsockname()[1]


def test_serve_on_a_busy_port_is_one_line_naming_it_at_once(cli_app, store, busy_port):
    import time

    from tests.cli_helpers import fails

    started = time.monotonic()
    r = run(cli_app, store, "--lang", "en", "serve", "--port", str(busy_port))
    assert time.monotonic() - started < 5, "a busy port is known when binding, not after start-up"
    line = fails(r, 1, str(busy_port), "--port")
    assert line == (f"preincub: port {busy_port} is already in use on 127.0.0.1: stop what uses it, or choose another "
                    "port with --port")
    french = fails(run(cli_app, store, "serve", "--port", str(busy_port)), 1, str(busy_port), "--port")
    assert "Address already in use" not in french and french != line  # needs the catalog's French sentence


def test_serve_says_it_serves_only_once_it_holds_its_port(cli_app, store, monkeypatch):
    """The announcement comes after the bind: a client that reads it can connect at once."""
    import socket

    import waitress

    import commands.web as web

    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # free once probe is closed below
    reachable, held = [], []

    def announce(text: str) -> None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            reachable.append(text)
        except OSError:
            reachable.append(None)

    class Server:
        def run(self) -> None:
            """Stop at once instead of serving."""

    def create_server(app, sockets=(), **kw):
        held.extend(sockets)
        return Server()

    monkeypatch.setattr(web, "say", announce)
    monkeypatch.setattr(waitress, "create_server", create_server)
    monkeypatch.setattr(waitress, "serve", lambda *a, **k: None)  # what serve called before it bound first
    r = run(cli_app, store, "--lang", "en", "serve", "--port", str(port))
    for sock in held:
        sock.close()
    assert r.exit_code == 0, r.output
    assert len(reachable) == 1 and reachable[0] is not None and f":{port}" in reachable[0], reachable
