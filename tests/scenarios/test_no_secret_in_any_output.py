"""No secret in any output, log line, stored error or message: an SMTP password (which a hostile or
careless server echoes back in its refusal) and a webhook URL whose token is its path."""

from __future__ import annotations

import base64
import logging
import socket

import pytest

from tests.delivery_fixtures import coaching_key, investigation, raw_tcp_server, run_cli
from tests.workflow.services.test_delivery import coach, dump

PASSWORD = "hunter2-S3cret!"
TOKEN = "tok3n0123456789abcdefXYZ"
FORMS = {  # every form the password travels in (AUTH PLAIN and AUTH LOGIN send base64)
    PASSWORD,
    base64.b64encode(PASSWORD.encode()).decode(),
    base64.b64encode(b"\0bot\0" + PASSWORD.encode()).decode(),
    TOKEN,
}


@pytest.fixture
def echoing_smtp():
    """An SMTP server that refuses every login, quoting what it got: the base64 and the decoded password."""
    def serve(conn: socket.socket) -> None:
        f = conn.makefile("rb")
        conn.sendall(b"220 echo.example ESMTP\r\n")
        while line := f.readline():
            words = line.decode(errors="replace").split()
            verb = " ".join(words[:2]).upper()
            if verb.startswith(("EHLO", "HELO")):
                conn.sendall(b"250-echo.example\r\n250 AUTH PLAIN LOGIN\r\n")
            elif verb == "AUTH PLAIN":
                token = words[2] if len(words) > 2 else ""
                plain = base64.b64decode(token).decode(errors="replace").replace("\0", " ")
                conn.sendall(f"535 5.7.8 refused {token} ({plain})\r\n".encode())
            elif verb == "AUTH LOGIN":
                if len(words) < 3:
                    conn.sendall(b"334 VXNlcm5hbWU6\r\n")
                    f.readline()
                conn.sendall(b"334 UGFzc3dvcmQ6\r\n")
                pw = f.readline().strip().decode()
                conn.sendall(f"535 5.7.8 bad password {pw} = {base64.b64decode(pw).decode()}\r\n".encode())
            elif verb.startswith("QUIT"):
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"502 5.5.2 no\r\n")

    with raw_tcp_server(serve) as port:
        yield port


def test_no_secret_anywhere_with_a_failing_smtp_server_and_webhook(wf, db_url, echoing_smtp, webhook, caplog):
    caplog.set_level(logging.DEBUG)
    webhook.status[""] = 500  # every post refused
    wf, ids = investigation(wf, [("Alpha", coach(wf)), ("Beta", coach(wf, "Coach Deux", "coach2@example.org",
                                                                         channels=["chat"]))])
    mail_key = coaching_key(wf, ids["Alpha"], "coach@example.org", "email")
    wf.close()
    env = {"PREINCUB_SMTP_URL": f"smtp://bot@127.0.0.1:{echoing_smtp}", "PREINCUB_SMTP_PASSWORD": PASSWORD,
           "PREINCUB_WEBHOOK_URL": f"http://127.0.0.1:{webhook.port}/hooks/{TOKEN}",
           "PREINCUB_RETRY_BASE_SECONDS": "0"}
    outputs = []

    def cli(*args, code=0, now="2020-07-13 10:00", **extra):
        r = run_cli(*args, db=db_url, now=now, env={**env, **extra})
        outputs.append(r.stdout + r.stderr)
        assert r.exit_code == code, r.stdout + r.stderr
        return r

    assert cli("remind", "run").stdout == "2 mis en file, 0 envoyé, 2 à réessayer, 0 en échec\n"
    cli("remind", "run")
    cli("daemon", "--once")
    mail = {r["key"]: r for r in __import__("json").loads(cli("outbox", "list", "--json").stdout)}[mail_key]
    # The server did echo the password: what is stored says so without it.
    assert "535" in mail["last_error"] and "***" in mail["last_error"], mail["last_error"]
    cli("outbox", "list")
    cli("status")
    cli("daemon", "status", "--json", code=0)
    cli("remind", "run", now="2020-07-20 08:00")  # stale: failed
    cli("daemon", "status", code=1)
    cli("outbox", "retry", "--status", "failed", now="2020-07-20 08:05")
    cli("remind", "run", now="2020-07-20 08:10")
    cli("daemon", "--once", now="2020-07-20 08:15")
    # A password in the URL, or a broken webhook URL with its token: refused without quoting them.
    cli("remind", "run", code=1, PREINCUB_SMTP_URL=f"smtp://bot:{PASSWORD}@127.0.0.1:99999")
    cli("daemon", "--once", code=1, PREINCUB_WEBHOOK_URL=f"htp://chat.example/hooks/{TOKEN}")

    assert len(webhook.requests) >= 3 and all(TOKEN in q["path"] for q in webhook.requests)  # it was used
    logs = "\n".join(f"{rec.getMessage()} {rec.exc_text or ''}" for rec in caplog.records)
    assert "tick: enqueued" in logs
    stored = dump(db_url)
    assert mail_key in stored
    for secret in FORMS:
        assert not [o for o in outputs if secret in o], secret
        assert secret not in logs, secret
        assert secret not in stored, secret


DS_TOKEN = "dsT0ken-0123456789abcdefXYZ"  # Démarches Simplifiées' API token (PREINCUB_DS_TOKEN)


def test_no_ds_token_anywhere_even_when_ds_echoes_it(demo_db, caplog, monkeypatch):
    """`intake ds sync` and the daemon's scheduled sync, with DS answering an error that quotes the token,
    and with a wrong token: the token is in no output, log line or stored error."""
    from tests.cli_helpers import invoke
    from tests.ds_server import DsServer, dossiers_fixture
    from workflow.formats.ds import DsClient

    monkeypatch.setitem(DsClient.__init__.__kwdefaults__, "sleep", lambda seconds: None)
    caplog.set_level(logging.DEBUG)
    outputs = []
    with DsServer(dossiers_fixture(8), token=DS_TOKEN) as ds:
        prog = "Pré-incubation 2020"
        env = {"PREINCUB_DS_URL": ds.url, "PREINCUB_DS_TOKEN": DS_TOKEN, "PREINCUB_DS_SYNC_EVERY": "1h",
               "PREINCUB_DS_DEMARCHES": f"{ds.demarche}={prog}"}

        def cli(*args, code=0, now="2020-11-16 10:00", **extra):
            r = invoke(*args, db=demo_db, now=now, env={**env, **extra})
            outputs.append(r.stdout + r.stderr)
            assert r.exit_code == code, r.stdout + r.stderr
            return r

        sync = ("intake", "ds", "sync", "--demarche", str(ds.demarche), "--programme", prog)
        cli(*sync)
        cli(*sync, "--json")
        ds.fixture.touch(ds.fixture.dossiers[0]["number"])
        ds.fail.update({"errors_on_page": 1, "error_message": f"Bearer {DS_TOKEN} is not allowed here"})
        cli(*sync, code=1)
        cli("daemon", "--once", "--console", now="2020-11-16 12:00")  # due: fails, recorded
        cli("daemon", "status", "--json", code=1, now="2020-11-16 12:05")
        cli("daemon", "status", code=1, now="2020-11-16 12:05")
        ds.fail.clear()
        cli(*sync, code=1, PREINCUB_DS_TOKEN=DS_TOKEN[::-1])  # a wrong token: DS refuses it
    assert len(ds.requests) >= 4
    logs = "\n".join(f"{rec.getMessage()} {rec.exc_text or ''}" for rec in caplog.records)
    assert "DS sync of démarche" in logs
    stored = dump(f"sqlite:///{demo_db}")
    for secret in (DS_TOKEN, DS_TOKEN[::-1]):
        assert not [o for o in outputs if secret in o], secret
        assert secret not in logs, secret
        assert secret not in stored, secret
