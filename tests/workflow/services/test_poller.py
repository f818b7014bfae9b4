"""The mailbox poller against a real IMAP server (Dovecot, tests/dovecot.py): mails APPENDed to INBOX, polled,
moved to the done or refused folder by what the inbox made of them; a mail the store could not take left in
place; a server that cannot be reached or refuses the login recorded in one line, the password never in it."""

from __future__ import annotations

import logging
import shutil
import socket
import ssl
import subprocess
import threading
from urllib.parse import quote

import pytest

from tests.dovecot import PASSWORD, dovecot, free_port  # noqa: F401 - dovecot is a fixture
from workflow.errors import Forbidden, Invalid, StoreError
from workflow.formats.imap import Mailbox
from workflow.records import PollResult, Received
from workflow.services.daemon import poll_mailbox, serve
from workflow.services.inbox import Inbox
from workflow.settings import Settings

REPLY = "points@programme.example"


def mail(n: int, outcome: str = "logged") -> bytes:
    return (f"From: Coach <coach@example.org>\r\nTo: points+k{n}@programme.example\r\nSubject: Re: point {n}\r\n"
            f"Message-ID: <m{n}@example.org>\r\nX-Test-Outcome: {outcome}\r\n\r\nHeures : {n}\r\n").encode()


@pytest.fixture
def outcomes(monkeypatch):
    """Inbox.receive replaced by one that answers what the mail's X-Test-Outcome header says ("store": the
    store cannot be written); the mails it was given, in order."""
    seen: list[bytes] = []

    def fake(self, raw: bytes, *, via: str, recipients=()) -> Received:
        assert via == "imap" and recipients == ()
        seen.append(raw)
        outcome = raw.split(b"X-Test-Outcome: ", 1)[1].split(b"\r\n", 1)[0].decode()
        if outcome == "store":
            raise StoreError("the store is read-only", code="store_readonly")
        return Received(outcome, reason="wrong_sender" if outcome == "refused" else None)

    monkeypatch.setattr(Inbox, "receive", fake)
    return seen


def polling(wf, url: str, **extra):
    return wf.with_settings(Settings(reply_address=REPLY, imap_url=url, **extra))


def folder(server, name: str) -> list[bytes]:
    with Mailbox(server.url(name)) as box:
        return [raw for _uid, raw in box.messages()]


def put(server, *raws: bytes) -> None:
    with Mailbox(server.url()) as box:
        for raw in raws:
            box.append(raw)


def test_poll_moves_each_mail_by_what_became_of_it(wf, dovecot, outcomes):
    w = polling(wf, dovecot.url())
    put(dovecot, mail(1), mail(2, "duplicate"), mail(3, "refused"), mail(4, "ignored"), mail(5, "corrected"))
    assert w.poller.state() is None
    r = w.poller.poll()
    assert r == PollResult(found=5, logged=1, corrected=1, refused=1, ignored=1, duplicate=1)
    assert folder(dovecot, "INBOX") == []
    assert sorted(m.split(b"Message-ID: ")[1][:5] for m in folder(dovecot, "preincub-handled")) == [
        b"<m1@e", b"<m2@e", b"<m5@e"]
    assert sorted(m.split(b"Message-ID: ")[1][:5] for m in folder(dovecot, "preincub-refused")) == [
        b"<m3@e", b"<m4@e"]
    assert outcomes[0] == mail(1)  # the bytes as sent
    st = w.poller.state()
    assert st.error is None and st.handled == 5 and st.ok_at == st.polled_at == "2020-07-01T10:00:00+02:00"
    assert w.poller.poll() == PollResult(found=0)  # nothing left: nothing read twice


def test_folders_of_the_settings_are_used_and_created(wf, dovecot, outcomes):
    w = polling(wf, dovecot.url(), imap_done_folder="Points/Faits", imap_refused_folder="Refusés")
    put(dovecot, mail(1), mail(2, "refused"))
    assert w.poller.poll().found == 2
    assert len(folder(dovecot, "Points/Faits")) == 1 and len(folder(dovecot, "Refusés")) == 1


def test_store_trouble_leaves_the_mail_in_place_and_stops_the_poll(wf, dovecot, outcomes):
    w = polling(wf, dovecot.url())
    put(dovecot, mail(1), mail(2, "store"), mail(3))
    with pytest.raises(StoreError):
        w.poller.poll()
    assert len(outcomes) == 2  # the third was not read
    assert [m.split(b"Message-ID: ")[1][:5] for m in folder(dovecot, "INBOX")] == [b"<m2@e", b"<m3@e"]
    st = w.poller.state()
    assert st.ok_at is None and st.polled_at and st.error == "the store is read-only"


def test_an_unreachable_server_is_recorded_in_one_line_without_the_password(wf, dovecot, outcomes, caplog):
    caplog.set_level(logging.DEBUG)
    port = free_port()  # nothing listens there
    w = polling(wf, dovecot.url(port=port))
    with pytest.raises(Invalid) as exc:
        w.poller.poll()
    assert exc.value.code == "imap_refused"
    assert str(exc.value) == f"IMAP server 127.0.0.1:{port}: connection refused"
    st = w.poller.state()
    assert st.error == str(exc.value) and "\n" not in st.error
    # a success clears the error, and keeps its time
    put(dovecot, mail(1))
    polling(wf, dovecot.url()).poller.poll()
    st = w.poller.state()
    assert st.error is None and st.handled == 1
    assert PASSWORD not in caplog.text and "p%40ss" not in caplog.text


@pytest.mark.parametrize("how, code, fragment", [
    ("password", "imap_login", "login failed for the user 'coach-box'"),
    ("folder", "imap_folder", "there is no folder 'Nulle part'"),
    ("tls", "imap_tls", "the TLS handshake failed"),
])
def test_a_refusal_of_the_server_says_what_failed(wf, dovecot, outcomes, how, code, fragment):
    url = {"password": dovecot.url(password=PASSWORD + "x"), "folder": dovecot.url("Nulle part"),
           "tls": dovecot.url().replace("imap://", "imaps://")}[how]
    w = polling(wf, url)
    with pytest.raises(Invalid) as exc:
        w.poller.poll()
    assert exc.value.code == code and fragment in str(exc.value)
    assert PASSWORD not in str(exc.value) and PASSWORD not in w.poller.state().error
    assert w.poller.state().error == str(exc.value)


def test_nothing_is_read_without_url_reply_address_or_right(wf, dovecot, outcomes):
    put(dovecot, mail(1))
    with pytest.raises(Invalid, match="set PREINCUB_IMAP_URL"):
        wf.with_settings(Settings(reply_address=REPLY)).poller.poll()
    with pytest.raises(Invalid, match="set PREINCUB_REPLY_ADDRESS"):
        wf.with_settings(Settings(imap_url=dovecot.url())).poller.poll()
    with pytest.raises(Invalid, match="PREINCUB_IMAP_URL is not usable: it must start with imaps://"):
        polling(wf, "https://u:p@h/INBOX").poller.poll()
    wf.directory.add_person("Coach Deux", "coach2@example.org", ["coach"])
    with pytest.raises(Forbidden):
        polling(wf, dovecot.url()).acting_as("coach2@example.org").poller.poll()
    assert wf.poller.state() is None  # none of them polled
    assert len(folder(dovecot, "INBOX")) == 1


def test_stop_ends_the_poll_between_two_mails(wf, dovecot, outcomes):

    w = polling(wf, dovecot.url())
    put(dovecot, mail(1), mail(2))
    stop = threading.Event()
    stop.set()
    assert w.poller.poll(stop) == PollResult(found=0)
    assert len(folder(dovecot, "INBOX")) == 2 and outcomes == []


def test_the_daemon_polls_only_while_it_holds_the_lease_and_survives_a_failure(wf, dovecot, outcomes, caplog):
    w = polling(wf, dovecot.url())
    put(dovecot, mail(1))
    assert w.lease.acquire("other-daemon")
    assert poll_mailbox(w, "this-daemon") is None  # another live daemon holds the lease: it polls
    assert outcomes == [] and w.poller.state() is None
    w.lease.release("other-daemon")
    assert poll_mailbox(w, "this-daemon") == PollResult(found=1, logged=1)
    caplog.set_level(logging.INFO)
    bad = polling(wf, dovecot.url(password="nope-" + PASSWORD))
    assert poll_mailbox(bad, "this-daemon") is None  # logged and recorded, never raised
    assert "mailbox poll failed: IMAP server" in caplog.text and "login failed" in caplog.text
    assert "nope-" not in caplog.text and PASSWORD not in caplog.text
    assert "login failed" in bad.poller.state().error


def test_the_daemon_refuses_to_start_a_poller_that_cannot_work(wf):
    with pytest.raises(Invalid, match="set PREINCUB_REPLY_ADDRESS"):
        serve(wf.with_settings(Settings(imap_url="imaps://u:p@imap.example.org/INBOX")), once=True)
    with pytest.raises(Invalid, match="PREINCUB_IMAP_URL is not usable"):
        serve(wf.with_settings(Settings(reply_address=REPLY, imap_url="imaps://imap.example.org/INBOX")), once=True)
    assert wf.lease.current() is None  # refused before the lease was taken


def test_an_imaps_server_is_trusted_only_with_a_valid_certificate(tmp_path):
    """imaps:// verifies the server's certificate (imaplib alone would not): a self-signed one is refused
    before the password is sent."""

    if shutil.which("openssl") is None:
        pytest.skip("openssl is missing: it makes this test's self-signed certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-subj", "/CN=127.0.0.1", "-days", "1"], check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    heard: list[bytes] = []

    def serve() -> None:
        conn, _addr = listener.accept()
        try:
            with ctx.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"* OK IMAP4rev1 ready\r\n")
                heard.append(tls.recv(1000))
        except (ssl.SSLError, OSError):
            pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        with pytest.raises(Invalid) as exc:
            with Mailbox(f"imaps://u:{quote(PASSWORD, safe='')}@127.0.0.1:{port}/INBOX", timeout=5):
                pass
    finally:
        t.join(5)
        listener.close()
    assert exc.value.code == "imap_tls" and "CERTIFICATE_VERIFY_FAILED" in str(exc.value)
    assert heard == []  # nothing, the password least of all, was sent
