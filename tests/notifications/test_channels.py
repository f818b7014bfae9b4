"""Channels one by one, with the messages the templates make: console, SMTP (real aiosmtpd), shell-pasteable commands."""

from __future__ import annotations

import html
import json
import re
import shlex
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.channels import ConsoleChannel, EmailChannel
from notifications.message import DeliveryError, Message
from notifications.render import render
from tests.conftest import paris
from tests.delivery_fixtures import investigation, run_cli
from workflow.rules import due
from workflow.store import reminders as reminder_rows

TEAM = 'L\'équipe "Zéro papier"'
PROG = 'Pré-incubation d\'été "2020"'
SCENARIO_KINDS = (  # the reminder kinds this scenario produces (no notice: no partner breach)
    "coaching", "missed_coaching", "deadline", "deadline_passed", "committee_soon")
NOW = paris(2020, 7, 27, 10, 0)  # 2020-W31: weeks 29 and 30 had no check-in

NB = "\u00a0"  # French typography: a non-breaking space before ":"
SUBJECTS = {
    ("coaching", "fr"): f"Point hebdomadaire 2020-W31{NB}: {TEAM}",
    ("coaching", "en"): f"Weekly check-in 2020-W31: {TEAM}",
    ("missed_coaching", "fr"): f"Points hebdomadaires manqués{NB}: {TEAM}",
    ("missed_coaching", "en"): f"Missed weekly check-ins: {TEAM}",
    ("deadline", "fr"): f"Échéance dans 30 jours{NB}: {PROG}",
    ("deadline", "en"): f"Deadline in 30 days: {PROG}",
    ("deadline_passed", "fr"): f"Échéance dépassée de 1 jour{NB}: {PROG}",
    ("deadline_passed", "en"): f"Deadline passed 1 day ago: {PROG}",
    ("committee_soon", "fr"): f"Comité stratégique dans 7 jours{NB}: {TEAM}",
    ("committee_soon", "en"): f"Strategic committee in 7 days: {TEAM}",
}
COMMANDS = {
    "coaching": ["preincub", "checkin", "log", TEAM, "--notes", "…"],
    "missed_coaching": ["preincub", "checkin", "gaps", "--programme", PROG],
    "deadline": ["preincub", "status", "--programme", PROG],
    "deadline_passed": ["preincub", "status", "--programme", PROG],
    "committee_soon": ["preincub", "check", TEAM],
}


@pytest.fixture
def dues(wf):
    """The first reminder of each kind the store really produces over the six months (real contexts)."""
    wf.directory.add_person("Coach Un", "coach@example.org", ["coach"])
    wf, _ = investigation(wf, [(TEAM, "coach@example.org")], programme=PROG)
    wf.teams.committee(TEAM, on=date(2020, 12, 1))
    with wf.store.read() as s:
        planned = due.planned(reminder_rows.snapshot(s, NOW - timedelta(days=60)), NOW,
                              paris(2021, 1, 10, 23, 0), wf.settings)
    first = {}
    for d in planned:
        first.setdefault(d.kind, d)
    assert sorted(first) == sorted(SCENARIO_KINDS)
    return first


def unescaped(pattern: str, body_html: str) -> str:
    (found,) = re.findall(pattern, body_html)
    return html.unescape(found)


def command_line(text: str) -> str:
    (line,) = [ln for ln in text.splitlines() if ln.strip().startswith("preincub ")]
    assert line.startswith("    preincub ")  # an indented block: a <pre> in HTML
    return line.strip()


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("kind", SCENARIO_KINDS)
def test_every_kind_and_language_renders(dues, kind, lang):
    subject, text, body_html = render(kind, lang, {**dues[kind].context, "name": "Inès Haddad", "cli": True})
    assert subject == SUBJECTS[(kind, lang)]
    assert "\n" not in subject and "\r" not in subject
    assert text.splitlines()[0] == ("Bonjour Inès Haddad," if lang == "fr" else "Hello Inès Haddad,")
    assert "{{" not in text and "{%" not in text and text.endswith("\n") and not text.endswith("\n\n")
    # The command to act, pasted as is, gives back the exact names (apostrophe, double quote, accents).
    assert shlex.split(command_line(text)) == COMMANDS[kind]
    # HTML: the same subject and command, escaped; the document's language.
    assert f'<html lang="{lang}">' in body_html
    assert unescaped(r"<title>(.*?)</title>", body_html) == subject
    assert unescaped(r'<h1 style="font-size: 1.2em">(.*?)</h1>', body_html) == subject
    assert unescaped(r'<pre style="background: #f3f3f3; padding: .5em">(.*?)</pre>', body_html) == command_line(text)
    assert '"' not in re.sub(r"<[^>]*>", "", body_html) and "'" not in re.sub(r"<[^>]*>", "", body_html)


def test_pasted_commands_run_in_the_cli(wf, db_url, dues):
    """Each message's command, pasted, is a real command that succeeds on the store."""
    wf.close()
    for kind in SCENARIO_KINDS:
        _, text, _ = render(kind, "fr", {**dues[kind].context, "name": "x", "cli": True})
        argv = shlex.split(command_line(text))
        r = run_cli(*argv[1:], db=db_url, now="2020-07-27T18:00")
        assert r.exit_code == 0, (kind, r.stdout, r.stderr)
    r = run_cli("checkin", "list", "--json", db=db_url, now="2020-07-27T18:00")
    assert [(c["team"], c["week"], c["notes"], c["hours"]) for c in json.loads(r.stdout)] == [
        (TEAM, "2020-W31", "…", None)]


def _fake_preincub(tmp_path):
    exe = tmp_path / "bin" / "preincub"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\nexec python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' \"$@\"\n")
    exe.chmod(0o755)
    return exe.parent


NASTY = 'Coût $HOME `id` \\ "x" l\'an'


@pytest.mark.skipif(not shutil.which("bash") or not shutil.which("python3"), reason="needs bash and python3")
def test_commands_paste_into_a_real_shell(tmp_path):
    """$, backquote, backslash, quotes: a POSIX shell gives the exact name back (no expansion)."""
    ctx = {"team": NASTY, "programme": NASTY, "week": "2020-W31", "last_checkin": None, "days_left": 3,
           "name": "x", "committee_on": "2020-12-01", "deadline": "2020-12-23", "undecided": [NASTY],
           "weeks": ["2020-W29", "2020-W30"], "days_late": 1, "cli": True}
    bindir = _fake_preincub(tmp_path)
    for kind in SCENARIO_KINDS:
        line = command_line(render(kind, "fr", ctx)[1])
        out = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=10,
                             env={"PATH": f"{bindir}:/usr/bin:/bin", "HOME": "/nonexistent"})
        assert (json.loads(out.stdout), out.stderr) == (
            [a.replace(TEAM, NASTY).replace(PROG, NASTY) for a in COMMANDS[kind][1:]], ""), kind


@pytest.mark.skipif(not shutil.which("bash") or not shutil.which("python3"), reason="needs bash and python3")
def test_a_name_with_an_exclamation_mark_pastes_into_interactive_bash(tmp_path):
    team = "Zéro!papier"
    line = command_line(render("committee_soon", "fr", {"team": team, "programme": "P", "committee_on": "2020-12-01",
                                                         "days_left": 7, "name": "x", "cli": True})[1])
    # An interactive bash has history expansion on; `set -o history -H` gives a script the same.
    out = subprocess.run(["bash"], input=f"set -o history -H\n{line}\n", capture_output=True, text=True, timeout=10,
                         env={"PATH": f"{_fake_preincub(tmp_path)}:/usr/bin:/bin", "HOME": "/nonexistent"})
    assert (out.stdout, out.stderr) == (json.dumps(["check", team]) + "\n", "")


# ---- console -----------------------------------------------------------------------------------

def test_console_prints_subject_key_and_text(capsys):
    ConsoleChannel().send(Message("deadline:1:J-7:p3:console", "ines@example.org", "Inès Haddad",
                                  "Échéance dans 7 jour(s) : P", "Bonjour Inès,\n", "<p>x</p>"))
    assert capsys.readouterr().out == ("--- to Inès Haddad <ines@example.org> [deadline:1:J-7:p3:console]\n"
                                       "Échéance dans 7 jour(s) : P\n\nBonjour Inès,\n\n")


# ---- SMTP, channel level -----------------------------------------------------------------------

def msg(key="coaching:1:2020-W29:p2:email", name="Inès Haddad", subject="Sujet « é »",
        to="ines.haddad@somme.example") -> Message:
    return Message(key, to, name, subject, "Bonjour Inès,\n\n    preincub check \"T\"\n", "<p>Bonjour Inès,</p>")


def test_the_same_key_always_gets_the_same_message_id(smtpd):
    m = msg()
    for _ in range(2):  # two ticks: two channels, two connections
        with EmailChannel(smtpd.url, "preincub <preincub@localhost>") as ch:
            ch.send(m)
    other = msg(key="coaching:1:2020-W30:p2:email")
    with EmailChannel(smtpd.url, "preincub <preincub@localhost>") as ch:
        ch.send(other)
    ids = [r.msg["Message-ID"] for r in smtpd.received]
    # Its right side is the sender's domain: a real domain, as RFC 5322 asks.
    assert re.fullmatch(r"<[0-9a-f]{40}@localhost>", m.message_id("localhost"))
    assert ids == [m.message_id("localhost"), m.message_id("localhost"), other.message_id("localhost")]
    assert m.message_id("localhost") != other.message_id("localhost")
    assert [r.msg["X-Preincub-Key"] for r in smtpd.received] == [m.key, m.key, other.key]
    assert len(set(smtpd.ehlo_peers)) == 3


@pytest.mark.parametrize("field_name", ["name", "subject"])
@pytest.mark.parametrize("crlf", ["\r\n", "\n", "\r"])
def test_line_breaks_in_names_or_subjects_cannot_inject_headers(smtpd, field_name, crlf):
    evil = {field_name: f"Eve{crlf}Bcc: evil@example.org"}
    with EmailChannel(smtpd.url, "preincub <preincub@localhost>") as ch:
        with pytest.raises(DeliveryError):
            ch.send(msg(**evil))
        ch.send(msg())  # the channel still works for the next message
    assert smtpd.rcpt_tried == ["ines.haddad@somme.example"]
    (r,) = smtpd.received
    assert r.rcpt_tos == ["ines.haddad@somme.example"]
    assert r.msg["Bcc"] is None and b"evil" not in r.raw


@pytest.mark.parametrize("name", [
    "Eve <evil@example.org>, X",
    'a" <evil@example.org>, "b',
    "evil@example.org",
    '"evil@example.org"',
    'a\\"<evil@example.org>,',
    "Eve\u2028Bcc: evil@example.org",
    "Inès; Bcc: evil@example.org",
])
def test_display_names_never_add_a_recipient(smtpd, name):
    with EmailChannel(smtpd.url, "preincub <preincub@localhost>") as ch:
        ch.send(msg(name=name))
    assert smtpd.rcpt_tried == ["ines.haddad@somme.example"]
    (r,) = smtpd.received
    assert r.msg["Bcc"] is None and r.msg["Cc"] is None
    (to,) = r.msg["To"].addresses
    assert (to.display_name, to.addr_spec) == (name, "ines.haddad@somme.example")


class _Refusing:
    """An aiosmtpd handler answering MAIL FROM, RCPT TO or DATA with the reply the test gives (else 250)."""

    def __init__(self, replies: dict[str, str]) -> None:
        self.replies = replies

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if "mail" in self.replies:
            return self.replies["mail"]
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "rcpt" in self.replies:
            return self.replies["rcpt"]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        return self.replies.get("data", "250 OK queued")


@pytest.mark.parametrize("stage,reply,error,permanent", [
    ("rcpt", "550 5.1.1 <ines.haddad@somme.example>: no such user",
     "SMTP: ines.haddad@somme.example refused: 550 5.1.1 <ines.haddad@somme.example>: no such user", True),
    ("rcpt", "452 4.2.2 mailbox full", "SMTP: ines.haddad@somme.example refused: 452 4.2.2 mailbox full", False),
    ("data", "554 5.7.1 rejected as spam", "SMTP: message refused: 554 5.7.1 rejected as spam", True),
    ("data", "451 4.3.0 try again later", "SMTP: message refused: 451 4.3.0 try again later", False),
    ("mail", "550 5.7.1 sender not allowed", None, False),  # the sender: every message, a setting to fix
])
def test_a_5xx_refusal_of_the_message_is_permanent_not_a_4xx_nor_a_refused_sender(stage, reply, error, permanent):
    from aiosmtpd.controller import Controller

    from notifications.message import PermanentDeliveryError
    from tests.smtp import free_port

    port = free_port()
    controller = Controller(_Refusing({stage: reply}), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with EmailChannel(f"smtp://127.0.0.1:{port}", "preincub <preincub@localhost>") as ch:
            with pytest.raises(DeliveryError) as exc:
                ch.send(msg())
    finally:
        controller.stop()
    assert isinstance(exc.value, PermanentDeliveryError) is permanent
    assert (str(exc.value) == error) if error else (reply.split()[0] in str(exc.value))


def test_smtp_login_with_the_password_given(smtpd_auth):
    with EmailChannel(f"smtp://bot%40preincub@127.0.0.1:{smtpd_auth.port}", "p <p@localhost>",
                      password="the-right-one") as ch:
        ch.send(msg())
    assert [(login, pw) for _, login, pw in smtpd_auth.auth_seen] == [(b"bot@preincub", b"the-right-one")]
    assert [r.rcpt_tos for r in smtpd_auth.received] == [["ines.haddad@somme.example"]]


def test_smtp_login_refused_is_a_delivery_error_without_the_password(smtpd_auth):
    with EmailChannel(f"smtp://bot@127.0.0.1:{smtpd_auth.port}", "p <p@localhost>", password="wrong-s3cret") as ch:
        with pytest.raises(DeliveryError) as exc:
            ch.send(msg())
    assert str(exc.value).startswith(f"SMTP 127.0.0.1:{smtpd_auth.port}: (535, ")
    assert "wrong-s3cret" not in str(exc.value)
    assert smtpd_auth.received == []


def test_smtp_url_forms():
    ch = EmailChannel("smtps://bot%40x.org@mail.example:2465", "p <p@localhost>")
    assert (ch.host, ch.port, ch.ssl, ch.user) == ("mail.example", 2465, True, "bot@x.org")
    ch = EmailChannel("smtp://mail.example", "p <p@localhost>")
    assert (ch.host, ch.port, ch.ssl, ch.user) == ("mail.example", 25, False, None)
    assert EmailChannel("smtps://mail.example", "p <p@localhost>").port == 465
    with pytest.raises(DeliveryError, match="PREINCUB_SMTP_URL must look like smtp://user@host:port"):
        EmailChannel("http://mail.example", "p <p@localhost>")
    # An unusable port or bracket is a DeliveryError too (not a ValueError), and never echoes the URL.
    for url in ("smtp://bot:s3cret@127.0.0.1:99999", "smtp://[::1", "smtp://host:abc"):
        with pytest.raises(DeliveryError) as exc:
            EmailChannel(url, "p <p@localhost>")
        assert str(exc.value) == "PREINCUB_SMTP_URL must look like smtp://user@host:port"


def test_an_8bit_body_is_declared_or_encoded(smtpd):
    with EmailChannel(smtpd.url, "preincub <preincub@localhost>") as ch:
        ch.send(msg())
    (r,) = smtpd.received
    assert not any(b > 127 for b in r.raw) or "BODY=8BITMIME" in r.mail_options


def test_the_headers_hold_up_in_a_strict_parser(smtpd):
    """A numeric Date zone (not "GMT"), the sender's domain in the Message-ID, no auto-reply and no loop,
    read back by Python's strict e-mail parser with no defect."""
    import email
    from email import policy

    with EmailChannel(smtpd.url, "Programme <points@programme.example>") as ch:
        ch.send(msg())
    parsed = email.message_from_bytes(smtpd.received[-1].raw, policy=policy.strict)
    assert not parsed.defects
    assert re.fullmatch(r"<[0-9a-f]{40}@programme\.example>", parsed["Message-ID"])
    assert re.search(r" [+-]\d{4}$", parsed["Date"]) and "GMT" not in parsed["Date"]
    assert parsed["Date"].datetime.utcoffset() is not None
    assert (parsed["Auto-Submitted"], parsed["X-Auto-Response-Suppress"], parsed["Precedence"]) == (
        "auto-generated", "OOF", "bulk")


def test_a_name_that_reads_as_an_encoded_word_is_delivered_as_stored(smtpd):
    """Sent unchanged, a client would decode it to a Bcc line; encoded, it decodes to the stored name."""
    import email
    from email import policy

    hostile = "=?utf-8?b?DQpCY2M6IHhAZXZpbC5leGFtcGxl?="
    with EmailChannel(smtpd.url, "preincub <preincub@localhost>") as ch:
        ch.send(msg(name=hostile))
    parsed = email.message_from_bytes(smtpd.received[-1].raw, policy=policy.strict)
    [to] = parsed["To"].addresses
    assert (to.display_name, to.addr_spec) == (hostile, "ines.haddad@somme.example")
    assert parsed["Bcc"] is None and smtpd.received[-1].rcpt_tos == ["ines.haddad@somme.example"]


def test_a_message_that_may_be_stopped_carries_rfc_8058_headers(smtpd):
    """List-Unsubscribe (one line, the link in angle brackets) and List-Unsubscribe-Post, read back by the
    strict parser; a message without a link has neither; a link that could break the header is refused."""
    import email
    from dataclasses import replace
    from email import policy

    url = "https://preincub.example.org/unsubscribe/WzEsMCwiY29hY2hpbmciXQ.X7tsAA." + "s" * 27
    with EmailChannel(smtpd.url, "preincub <bot@preincub.example>") as ch:
        ch.send(replace(msg(), unsubscribe=url))
        ch.send(msg())
        for bad in ("https://x.example/a>\r\nBcc: evil@example.org", "javascript:alert(1)", "https://x.example/ é"):
            with pytest.raises(DeliveryError):
                ch.send(replace(msg(), unsubscribe=bad))
    with_link, without = (email.message_from_bytes(r.raw, policy=policy.strict) for r in smtpd.received)
    assert not with_link.defects and not without.defects
    assert with_link["List-Unsubscribe"] == f"<{url}>"
    assert f"\r\nList-Unsubscribe: <{url}>\r\n".encode() in smtpd.received[0].raw  # not folded
    assert with_link["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert without["List-Unsubscribe"] is None and without["List-Unsubscribe-Post"] is None
    assert smtpd.rcpt_tried == ["ines.haddad@somme.example"] * 2


# ---- replies by e-mail: Reply-To, and an answer's threading --------------------------------------

def test_a_reply_address_is_the_reply_to_and_an_unsafe_one_is_refused(smtpd):
    import email
    from dataclasses import replace
    from email import policy

    addr = "points+" + "a" * 47 + "@programme.example"
    with EmailChannel(smtpd.url, "preincub <bot@programme.example>") as ch:
        ch.send(replace(msg(), reply_to=addr, message_id_local="a" * 47 + ".0123456789abcdef"))
        for bad in ("points+x@programme.example\r\nBcc: evil@example.org", "Eve <evil@example.org>",
                    "points x@programme.example", 'a"b@programme.example', "no-domain", "a,b@programme.example"):
            with pytest.raises(DeliveryError):
                ch.send(replace(msg(), reply_to=bad))
    (r,) = smtpd.received
    parsed = email.message_from_bytes(r.raw, policy=policy.strict)
    assert not parsed.defects
    assert [(a.display_name, a.addr_spec) for a in parsed["Reply-To"].addresses] == [("", addr)]
    assert parsed["Message-ID"] == "<" + "a" * 47 + ".0123456789abcdef@programme.example>"
    # Both on one line (a folded id comes back with a space in front in some readers).
    assert f"\r\nMessage-ID: {parsed['Message-ID']}\r\n".encode() in r.raw
    assert f"\r\nReply-To: {addr}\r\n".encode() in r.raw
    assert parsed["Auto-Submitted"] == "auto-generated" and parsed["In-Reply-To"] is None
    assert smtpd.rcpt_tried == ["ines.haddad@somme.example"]  # a Reply-To adds no recipient


@pytest.mark.parametrize("answered,threaded", [
    ("<CAF=xyz+1@mail.gmail.com>", True),
    ("<" + "x" * 800 + "@example.org>", True),  # long: kept on one line, not folded
    ("<a@b>\r\nBcc: evil@example.org", False),
    ("<a b@example.org>", False),
    ("a@example.org", False),
    ("<a@example.org> <b@example.org>", "thread"),  # the thread, the answered mail's id last
    ("<a<b@example.org>", False),
    ("<é@example.org>", False),
    ("<" + "x" * 1000 + "@example.org>", False),
])
def test_an_answer_is_threaded_under_a_plain_message_id_and_is_auto_replied(smtpd, answered, threaded):
    import email
    from dataclasses import replace
    from email import policy

    with EmailChannel(smtpd.url, "preincub <bot@programme.example>") as ch:
        ch.send(replace(msg(key="reply:" + "c" * 40), in_reply_to=answered))
    (r,) = smtpd.received
    parsed = email.message_from_bytes(r.raw, policy=policy.strict)
    assert not parsed.defects and parsed["Bcc"] is None and b"evil" not in r.raw
    if threaded == "thread":
        assert (parsed["In-Reply-To"], parsed["References"]) == ("<b@example.org>", answered)
        return
    expected = answered if threaded else None
    assert (parsed["In-Reply-To"], parsed["References"]) == (expected, expected)
    if threaded:
        assert f"\r\nIn-Reply-To: {answered}\r\n".encode() in r.raw
    # An answer says so (RFC 3834), threaded or not; the robots' headers stay.
    assert (parsed["Auto-Submitted"], parsed["X-Auto-Response-Suppress"], parsed["Precedence"]) == (
        "auto-replied", "OOF", "bulk")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_weekly_reminder_says_how_to_reply_in_the_words_the_reply_is_read_with(dues, lang):
    """With PREINCUB_REPLY_ADDRESS, the e-mail shows the lines a reply may start with (the parser's labels,
    in the reader's language), and those lines, sent back as they are, fill the check-in's fields."""
    from workflow.rules.replies import SHOWN, fields
    from workflow.services.reminders import reply_context

    context = {**dues["coaching"].context, "name": "Inès Haddad", "cli": True}
    _, plain, _ = render("coaching", lang, context)
    _, text, body_html = render("coaching", lang, {**context, **reply_context(lang)})
    assert text.startswith(plain.rstrip("\n"))  # the same message, one paragraph more at its end
    labels, colon = SHOWN[lang], " : " if lang == "fr" else ": "
    block = [ln for ln in text.splitlines() if ln.startswith("    ") and "preincub" not in ln]
    assert [ln.strip().partition(colon)[0] for ln in block] == [
        labels["hours"], labels["blockers"], labels["next_steps"], labels["mood"]]
    assert block[0] == f"    {labels['hours']}{colon}6"
    paragraphs = text.split("\n\n")
    (at,) = [i for i, p in enumerate(paragraphs) if p.startswith(block[0])]
    assert "2020-W31" in paragraphs[at - 1] and "preincub" not in paragraphs[at - 1]  # says which week it logs
    # Sent back as they are, the lines fill the fields (6 hours, mood 4; "…" left unfilled is nothing), the
    # rest is the notes; filled in, the text fields too.
    got = fields("\n".join(ln.strip() for ln in block) + "\n\nNous avons avancé.")
    assert (got["hours"], got["mood"], got["blockers"], got["next_steps"], got["notes"]) == (
        "6", "4", None, None, "Nous avons avancé.")
    filled = [ln.strip().replace("…", "le budget") for ln in block]
    got = fields("\n".join(filled))
    assert (got["blockers"], got["next_steps"], got["notes"]) == ("le budget", "le budget", None)
    # HTML: the lines in a <pre> block, escaped, one per line.
    pres = [html.unescape(p) for p in re.findall(r'<pre style="background: #f3f3f3; padding: .5em">(.*?)</pre>',
                                                 body_html, re.S)]
    assert pres[-1].splitlines()[0] == block[0].strip()
    assert [ln.strip() for ln in pres[-1].splitlines()] == [ln.strip() for ln in block]


def test_the_reply_lines_show_in_html_one_per_line_without_the_texts_indent(dues):
    from workflow.services.reminders import reply_context

    _, _, body_html = render("coaching", "fr", {**dues["coaching"].context, "name": "x", "cli": True,
                                                **reply_context("fr")})
    pre = html.unescape(re.findall(r'<pre style="background: #f3f3f3; padding: .5em">(.*?)</pre>', body_html, re.S)[-1])
    assert pre == "Heures : 6\nBlocages : …\nProchaines étapes : …\nHumeur : 4 (de 1 à 5)"


# ---- the message as sent: 8-bit text to a server that takes it, 7-bit to any other -------------

def _parts(raw: bytes) -> tuple:
    """The parsed message (strict parser, no defect) and its parts' (type, transfer encoding, text, LF ends)."""
    import email
    from email import policy

    parsed = email.message_from_bytes(raw, policy=policy.strict)
    assert not parsed.defects
    return parsed, [(p.get_content_type(), p["Content-Transfer-Encoding"], p.get_content().replace("\r\n", "\n"))
                    for p in parsed.iter_parts()]


def _plain_smtpd(handler) -> tuple:
    from aiosmtpd.controller import Controller

    from tests.smtp import free_port

    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return port, controller


def test_a_server_with_8bitmime_gets_the_text_as_utf8_and_it_reads_the_same(smtpd):
    m = msg()
    with EmailChannel(smtpd.url, "Préincub Équipe <bot@preincub.example>") as ch:
        ch.send(m)
    (r,) = smtpd.received
    assert "BODY=8BITMIME" in r.mail_options
    parsed, parts = _parts(r.raw)
    assert parts == [("text/plain", "8bit", m.text), ("text/html", "8bit", m.html)]
    assert "Bonjour Inès".encode() in r.raw  # as it is, not quoted-printable
    assert (parsed["Subject"], parsed["X-Preincub-Key"]) == (m.subject, m.key)
    assert [(a.display_name, a.addr_spec) for a in parsed["To"].addresses] == [(m.recipient_name, m.recipient)]
    assert [(a.display_name, a.addr_spec) for a in parsed["From"].addresses] == [
        ("Préincub Équipe", "bot@preincub.example")]
    assert r.raw.split(b"\r\n\r\n", 1)[0].isascii()  # the headers stay 7-bit (no SMTPUTF8 needed)


class _No8BitMime:
    """An aiosmtpd handler whose EHLO leaves 8BITMIME out (an old server): records each message as received."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [line for line in responses if "8BITMIME" not in line]

    async def handle_DATA(self, server, session, envelope):
        self.received.append((list(envelope.mail_options), envelope.original_content or envelope.content))
        return "250 OK queued"


def test_a_server_without_8bitmime_gets_a_7bit_message_that_reads_the_same():
    handler = _No8BitMime()
    port, controller = _plain_smtpd(handler)
    try:
        m = msg()
        with EmailChannel(f"smtp://127.0.0.1:{port}", "Préincub Équipe <bot@preincub.example>") as ch:
            ch.send(m)
            ch.send(replace_text(m, "Plain ASCII text,\nshort lines.\n", "<p>Plain</p>"))
    finally:
        controller.stop()
    (options, raw), (_, ascii_raw) = handler.received
    assert raw.isascii() and ascii_raw.isascii() and "BODY=8BITMIME" not in options
    _, parts = _parts(raw)
    assert parts == [("text/plain", "quoted-printable", m.text), ("text/html", "quoted-printable", m.html)]
    _, parts = _parts(ascii_raw)  # ASCII text needs no encoding at all
    assert parts == [("text/plain", "7bit", "Plain ASCII text,\nshort lines.\n"), ("text/html", "7bit", "<p>Plain</p>")]


def replace_text(m: Message, text: str, html: str | None = None) -> Message:
    from dataclasses import replace

    return replace(m, text=text, html=m.html if html is None else html)


def test_a_line_longer_than_smtp_allows_goes_quoted_printable_even_to_an_8bitmime_server(smtpd):
    long_html = "<p>" + "é" * 600 + " " + "x" * 600 + "</p>\n"  # 1,807 octets on one line
    m = replace_text(msg(), "Une ligne.\r\nUne autre\rpuis une dernière.\n", long_html)
    with EmailChannel(smtpd.url, "preincub <bot@preincub.example>") as ch:
        ch.send(m)
    (r,) = smtpd.received
    assert max(len(line) for line in r.raw.split(b"\r\n")) <= 998
    _, parts = _parts(r.raw)
    # Any line end the text holds (CRLF, CR, LF) reads as a line end, as the email package always made it.
    assert parts == [("text/plain", "8bit", "Une ligne.\nUne autre\npuis une dernière.\n"),
                     ("text/html", "quoted-printable", long_html)]


@pytest.mark.parametrize("subject,name", [
    ("Sujet « é »", "Inès Haddad"),
    ("Échéance " * 30, "Ïnès " * 40),  # long: encoded words over several lines
    ("Plain ASCII subject", 'O\'Brien "the coach", Jr.'),
    ("=?utf-8?b?QmNjOiBldmlsQGV4YW1wbGUub3Jn?=", "=?utf-8?q?x?="),  # reads as an encoded word: encoded itself
    ("x" * 1200, "y" * 190 + "é" * 10),  # longer than a line may be; a name of 200 characters, the most it may
    ("", ""),
    ("\u2028 after a line separator \u2029", "Zéro\u2028Bcc: evil@example.org"),
])
def test_headers_read_back_as_stored_and_fit_their_lines(subject, name):
    import email
    from dataclasses import replace
    from email import policy

    from notifications.channels import email_bytes

    m = replace(msg(subject=subject, name=name), reply_to="points+abc@programme.example",
                unsubscribe="https://x.example/u/abc", in_reply_to="<a@b.example> <c@d.example>")
    for eightbit in (False, True):
        raw, _ = email_bytes(m, "Préincub Équipe <bot@preincub.example>", eightbit=eightbit)
        head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # 7-bit headers: no SMTPUTF8 needed
        assert max(len(line) for line in head.split("\r\n")) <= 998
        (subject_lines,) = re.findall(r"^Subject:.*(?:\r\n .*)*", head, re.M)
        if "=?utf-8?" in subject_lines:  # encoded words: RFC 2047's 76 characters a line
            assert max(len(line) for line in subject_lines.split("\r\n")) <= 76
        parsed = email.message_from_bytes(raw, policy=policy.strict)
        assert not parsed.defects
        assert parsed["Subject"] == subject
        [to] = parsed["To"].addresses
        assert (to.display_name, to.addr_spec) == (name, m.recipient) and parsed["Bcc"] is None
        assert (parsed["In-Reply-To"], parsed["References"]) == ("<c@d.example>", "<a@b.example> <c@d.example>")
        assert (parsed["Reply-To"], parsed["List-Unsubscribe"]) == (m.reply_to, f"<{m.unsubscribe}>")
        assert [p.get_content().replace("\r\n", "\n") for p in parsed.iter_parts()] == [m.text, m.html]


_ONE_LINE = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=300).filter(
    lambda s: s == s.strip() and "  " not in s)  # a header's text as a reader gets it back: no edge spaces


@settings(max_examples=60, deadline=None)
@given(subject=_ONE_LINE, name=_ONE_LINE.filter(lambda s: len(s) <= 200),
       text=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=2500),
       eightbit=st.booleans())
def test_any_subject_name_and_text_read_back_as_they_were(subject, name, text, eightbit):
    """The message is written out by hand (``email_bytes``): the email package's strict parser reads back
    every subject, name and text as they were, with no defect, whatever they hold."""
    import email
    from dataclasses import replace
    from email import policy

    from notifications.channels import email_bytes

    m = replace(msg(subject=subject, name=name), text=text)
    raw, _ = email_bytes(m, "Préincub Équipe <bot@preincub.example>", eightbit=eightbit)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    parsed = email.message_from_bytes(raw, policy=policy.strict)
    assert not parsed.defects
    assert parsed["Subject"] == subject
    [to] = parsed["To"].addresses
    assert (to.display_name, to.addr_spec) == (name, m.recipient)
    lf = text.replace("\r\n", "\n").replace("\r", "\n")
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == lf
