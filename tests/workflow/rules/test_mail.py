"""Inbound replies read from raw bytes (workflow/formats/mail.py): every client's style gives the coach's
own lines; automatic mail says why; hostile input never raises."""

from __future__ import annotations

import hashlib
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import mail_fixtures as fx
from workflow.rules.mail import MAX_TEXT, Mail, html_text, parse, reply_of, unflow
from workflow.rules.replies import fields

TO = "points+abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnop@programme.example"
PARAGRAPH = fx.DEFAULT_BODY.split("\n\n", 1)[1]


@pytest.mark.parametrize("style", fx.STYLES)
def test_every_client_gives_the_coachs_lines_alone(style):
    mail = parse(fx.reply(style, to=TO, in_reply_to="<reminder@programme.example>"))
    assert mail.reply == fx.DEFAULT_BODY
    assert "Point hebdomadaire" in mail.text  # the quote was there, in the text
    got = fields(mail.reply)
    assert got["hours"] == "6" and got["notes"] == PARAGRAPH
    assert got["blockers"] is None and got["mood"] is None  # the quoted reminder's lines are not read
    assert mail.auto is None
    assert mail.sender == "claire.martin@example.org" and mail.sender_name == "Claire Martin"
    assert mail.subject == "Re: Point hebdomadaire 2020-W48 : Équipe"
    assert mail.in_reply_to == ("<reminder@programme.example>",)
    assert mail.references == ("<reminder@programme.example>",)
    assert mail.addresses == (TO,)
    assert mail.attachments == ()


@pytest.mark.parametrize("style", fx.STYLES)
def test_labelled_lines_in_every_client(style):
    body = ("- Heures\u00a0: 4,5 h\n- Blocages : accès aux données\n- Prochaines étapes : démo jeudi\n"
            "Humeur : 4/5\n\nAtelier avec le bureau des usagers.\nSuite lundi.")
    mail = parse(fx.reply(style, to=TO, body=body))
    assert mail.reply == body
    got = fields(mail.reply)
    assert (got["hours"], got["blockers"], got["next_steps"], got["mood"]) == (
        "4,5", "accès aux données", "démo jeudi", "4")
    assert got["notes"] == "Atelier avec le bureau des usagers.\nSuite lundi."


def test_html_only_reply_is_converted_without_its_quote():
    mail = parse(fx.reply("html_only", to=TO))
    assert "<div" not in mail.text and "Heures : 6\n\nNous avons" in mail.text
    assert mail.reply == fx.DEFAULT_BODY


def test_html_conversion_keeps_paragraphs_and_drops_quotes_and_scripts():
    markup = ("<html><head><title>t</title><style>p{}</style></head><body><script>alert(1)</script>"
              "<p>Heures&nbsp;: 6</p><p>Un <b>paragraphe</b>\n sur deux lignes<br>et une autre.</p>"
              "<ul><li>Blocages : aucun</li></ul>"
              "<div class=\"moz-cite-prefix\">Le 23/11/2020 à 09:00, preincub a écrit :</div>"
              "<blockquote type=\"cite\">Heures : …</blockquote>"
              "<div class=\"gmail_quote\"><div class=\"gmail_attr\">On … wrote:</div>x</div></body></html>")
    assert html_text(markup) == ("Heures\u00a0: 6\n\nUn paragraphe sur deux lignes\net une autre.\n\n"
                                 "- Blocages : aucun")
    outlook = ("<div><p>Heures : 6</p></div><div id=\"appendonsend\"></div><hr>"
               "<div id=\"divRplyFwdMsg\"><b>De :</b> preincub</div><div>Humeur : 1</div>")
    assert html_text(outlook) == "Heures : 6"


def test_an_html_reply_with_no_closing_tags_still_reads():
    assert html_text("<div>Heures : 6<div><p>notes<blockquote>quoted") == "Heures : 6\n\nnotes"


def test_format_flowed_paragraphs_are_joined():
    assert unflow("Un long \nparagraphe.\n-- \nsig\n> cité \n> suite") == "Un long paragraphe.\n-- \nsig\n> cité suite"
    assert unflow("mot\u00a0\n", delsp=True) == "mot\u00a0\n"
    assert unflow("dé \ncoupé", delsp=True) == "découpé"


@pytest.mark.parametrize("text", [
    "Heures : 6\n\nLe lun. 23 nov. 2020 à 09:00, preincub <points@programme.example> a écrit\u00a0:\n> Bonjour",
    "Heures : 6\n\nLe lun. 23 nov. 2020 à 09:00, Jean-Baptiste Dupont <\njb@example.org> a\nécrit :\n\n> x",
    "Heures : 6\n\nOn Mon, Nov 23, 2020 at 9:00 AM preincub <points@programme.example> wrote:\n> Hello",
    "Heures : 6\n\nLe 23/11/2020 à 09:00, preincub a écrit :\n> Bonjour",
    "Heures : 6\n\n> Le 23 nov. 2020 à 09:00, preincub <points@programme.example> a écrit :\n> \n> Bonjour",
    "Heures : 6\n\n________________________________\nDe : preincub <p@e.org>\nEnvoyé : lundi 23 novembre 2020"
    " 09:00\nÀ : Claire\nObjet : Point\n\nBonjour,\nHumeur : 4",
    "Heures : 6\n\nFrom: preincub <p@e.org>\nSent: Monday, November 23, 2020 9:00 AM\nTo: Claire\n"
    "Subject: Point\n\nHello\nMood: 4",
    "Heures : 6\n\n-----Original Message-----\nFrom: preincub\nHumeur : 1",
    "Heures : 6\n\n-- \nClaire Martin\nDINUM",
    "Heures : 6\n\nCordialement,\nClaire",
    "Heures : 6\n\nBien cordialement\nClaire",
    "Heures : 6\n\nEnvoyé depuis mon iPhone",
    "Heures : 6\n\nSent from my iPhone",
    "Heures : 6\n\nTélécharger Outlook pour Android",
    "Heures : 6\n> stray quote\n> lines",
])
def test_quote_headers_quotes_and_signatures_are_removed(text):
    assert reply_of(text) == "Heures : 6"


def test_a_reply_below_the_quote_is_kept():
    text = "Le 23/11/2020 à 09:00, preincub a écrit :\n> Bonjour\n> Humeur : 1\n\nHeures : 6\n\nLe point.\n\n-- \nC"
    assert reply_of(text) == "Heures : 6\n\nLe point."


@pytest.mark.parametrize("text", [
    "Heures : 6\nProchaines étapes : démo\nDate : 2020-11-26\nObjet : la démo\nRemarque : bla",
    "Heures : 6\n- Blocages : aucun\n- Humeur : 4\n* Notes : rien",
    "Heures : 6\n\nLe comité a écrit : il faut revoir le budget.\nOn verra jeudi.",
    "Le 12, nous avons vu la DGFiP.",
    "Date: 2020-11-26\nHours: 6\nNotes: we met",
    "Heures : 6\n\nNous avons parlé de l'outil « De : à : » des usagers.",
])
def test_the_coachs_own_lines_are_never_eaten(text):
    assert reply_of(text) == text


@pytest.mark.parametrize("style", fx.STYLES)
def test_attachments_are_listed_and_not_in_the_text(style):
    raw = fx.reply(style, to=TO, attachments=(("compte-rendu.pdf", b"%PDF-1.4 secret"),
                                                 ("photo.png", b"\x89PNG\r\n")))
    mail = parse(raw)
    assert mail.attachments == ("compte-rendu.pdf", "photo.png")
    assert "secret" not in mail.text and mail.reply == fx.DEFAULT_BODY


def test_inline_image_and_forwarded_message_count_as_attachments():
    raw = (b"From: a@example.org\r\nTo: p@example.org\r\nMessage-ID: <m@x>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/related; boundary=B\r\n\r\n--B\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           b"<p>Heures : 2</p><img src=\"cid:i1\">\r\n--B\r\nContent-Type: image/png\r\nContent-ID: <i1>\r\n\r\n"
           b"xx\r\n--B\r\nContent-Type: message/rfc822\r\n\r\nSubject: old\r\n\r\nHeures : 9\r\n--B--\r\n")
    mail = parse(raw)
    assert mail.text == "Heures : 2"
    assert mail.attachments == ("image/png", "message/rfc822")


def test_a_text_attachment_is_not_the_body():
    raw = (b"From: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
           b"--B\r\nContent-Type: text/plain; name=notes.txt\r\nContent-Disposition: attachment; filename=notes.txt"
           b"\r\n\r\nHeures : 9\r\n--B\r\nContent-Type: text/plain\r\n\r\nHeures : 2\r\n--B--\r\n")
    mail = parse(raw)
    assert mail.text == "Heures : 2" and mail.attachments == ("notes.txt",)


def test_out_of_office_is_automatic():
    mail = parse(fx.out_of_office(to=TO))
    assert mail.auto == "auto_submitted"
    assert mail.text.startswith("Absent du bureau")  # ISO-8859-1, decoded


def test_bounce_is_automatic():
    mail = parse(fx.bounce(to=TO, original_message_id="<k@programme.example>"))
    assert mail.auto == "bounce" and mail.sender == "MAILER-DAEMON@mx.example.org"
    assert "message/delivery-status" in mail.attachments


def _with(headers: str, sender: str = "Claire <claire@example.org>") -> bytes:
    return (f"From: {sender}\r\nTo: {TO}\r\nMessage-ID: <x@y>\r\n{headers}Subject: s\r\n\r\nHeures : 6\r\n").encode()


@pytest.mark.parametrize(("headers", "sender", "why"), [
    ("", "Claire <claire@example.org>", None),
    ("Auto-Submitted: no\r\n", "claire@example.org", None),
    ("X-Auto-Response-Suppress: All\r\n", "claire@example.org", None),  # set on outgoing mail: not a sign
    ("Precedence: first-class\r\n", "claire@example.org", None),
    ("Return-Path: <>\r\nAuto-Submitted: auto-replied\r\n", "claire@example.org", "bounce"),
    ("Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n", "claire@example.org", "bounce"),
    ("", "Mail Delivery System <MAILER-DAEMON@mx.example.org>", "mailer_daemon"),
    ("", "mailer-daemon", "mailer_daemon"),
    ("Auto-Submitted: auto-replied\r\n", "Postmaster@example.org", "mailer_daemon"),
    ("Auto-Submitted: Auto-Generated\r\n", "claire@example.org", "auto_submitted"),
    ("X-Autoreply: yes\r\n", "claire@example.org", "autoreply"),
    ("X-Autorespond: vacation\r\n", "claire@example.org", "autoreply"),
    ("Precedence: Bulk\r\n", "claire@example.org", "precedence"),
    ("Precedence: junk\r\n", "claire@example.org", "precedence"),
    ("Precedence: list\r\nList-Id: <x.example.org>\r\n", "claire@example.org", "precedence"),
    ("List-Id: Équipe <equipe.lists.example.org>\r\n", "claire@example.org", "list"),
    ("", "no-reply@example.org", "no_reply"),
    ("", "NoReply+42@example.org", "no_reply"),
    ("", "ne-pas-repondre@impots.gouv.fr", "no_reply"),
    ("", "Ne_Pas_Répondre <ne_pas_répondre@example.org>", "no_reply"),
    ("", "do-not-reply@example.org", "no_reply"),
    ("", "donotreply@example.org", "no_reply"),
])
def test_automatic_mail(headers, sender, why):
    assert parse(_with(headers, sender)).auto == why


def test_headers_are_read():
    raw = ("From: =?utf-8?q?H=C3=A9l=C3=A8ne_Dupr=C3=A9?= <Helene.Dupre@Example.org>\r\n"
           "To: Team <team@example.org>, \"Points\" <points+KEY@programme.example>\r\n"
           "Cc: other@example.org\r\nDelivered-To: points+KEY@programme.example\r\n"
           "X-Original-To: points+key2@programme.example\r\nEnvelope-To: env@programme.example\r\n"
           "Subject: =?utf-8?b?UmU6IFBvaW50?=\r\n =?utf-8?q?_=C3=A9quipe?=\r\n"
           "Message-ID:\r\n  <CA+abc@mail.gmail.com>\r\n"
           "In-Reply-To: <a@b>\r\nReferences: <r1@x> <r2@x>\r\n\t<r3@x>\r\n\r\nbody\r\n").encode()
    mail = parse(raw)
    assert mail.sender == "Helene.Dupre@Example.org" and mail.sender_name == "Hélène Dupré"
    assert mail.subject == "Re: Point équipe"
    assert mail.message_id == "<CA+abc@mail.gmail.com>"
    assert mail.digest == hashlib.sha256(b"CA+abc@mail.gmail.com").hexdigest()
    assert mail.in_reply_to == ("<a@b>",) and mail.references == ("<r1@x>", "<r2@x>", "<r3@x>")
    assert mail.addresses == ("team@example.org", "points+KEY@programme.example", "other@example.org",
                              "points+key2@programme.example", "env@programme.example")
    assert mail.size == len(raw) and mail.text == "body\n" and mail.text_size == 5


def test_without_message_id_the_digest_is_of_the_bytes():
    raw = b"From: a@example.org\r\nMessage-ID:   \r\n\r\nx"
    mail = parse(raw)
    assert mail.message_id is None and mail.digest == hashlib.sha256(raw).hexdigest()
    assert parse(b"From: a@example.org\r\n\r\nx").message_id is None
    # a duplicate delivery has the same digest, whatever its bytes
    one = fx.reply("gmail", to=TO, message_id="<dup@mail.gmail.com>")
    two = fx.reply("gmail", to=TO, message_id="<dup@mail.gmail.com>", date="Mon, 23 Nov 2020 18:06:00 +0100")
    assert parse(one).digest == parse(two).digest != parse(fx.reply("gmail", to=TO)).digest


def test_the_100_kb_measure_is_of_the_text():
    small = parse(fx.reply("thunderbird", to=TO, body="é" * (MAX_TEXT // 2 - 2000)))
    assert small.text_size <= MAX_TEXT and small.text_size == len(small.text.encode())
    assert small.reply.startswith("éé")
    big = parse(fx.reply("gmail", to=TO, body="é" * (MAX_TEXT // 2 + 1)))
    assert big.text_size > MAX_TEXT and big.reply == ""
    # a large HTML of little text is measured by its text
    markup = "<div style='color:red'></div>" * 20000 + "<p>Heures : 6</p>"
    raw = (b"From: a@example.org\r\nContent-Type: text/html\r\n\r\n" + markup.encode())
    mail = parse(raw)
    assert mail.size > MAX_TEXT and mail.text == "Heures : 6" and mail.text_size == 10


def test_invalid_utf8_and_lying_or_unknown_charsets():
    raw = (b"From: =?x-unknown?q?Cl=E9?= <c@example.org>\r\nSubject: caf\xc3\xa9 \xff\r\n"
           b"Content-Type: text/plain; charset=\"x-unknown\"\r\n\r\nHeures : 6\r\ncaf\xc3\xa9 \xff\xfe\r\n")
    mail = parse(raw)
    assert mail.sender == "c@example.org" and "\ufffd" in mail.text and "café" in mail.text
    assert mail.subject == "café \ufffd"
    lying = parse(b"From: c@example.org\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nr\xc3\xa9union\r\n")
    assert lying.text == "réunion\n"
    latin = parse(b"From: c@example.org\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nr\xe9union\r\n")
    assert latin.text == "réunion\n"
    not_text = parse(b"From: c@example.org\r\nContent-Type: text/plain; charset=base64\r\n\r\naGk=\r\n")
    assert not_text.text == "aGk=\n"


def test_nul_bytes_and_broken_mime():
    mail = parse(b"From: c@example.org\x00\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n"
                 b"--zz\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nSGV1cmVzIDog!!!\x00\r\n")
    assert "\x00" not in mail.text + mail.sender + mail.subject
    assert isinstance(mail, Mail)


def test_missing_from_and_header_injection():
    mail = parse(b"To: p@example.org\r\nSubject: =?utf-8?q?a=0D=0ABcc:_x@evil.example?=\r\n\r\nHeures : 6")
    assert mail.sender == "" and mail.sender_name == "" and mail.subject == "a Bcc: x@evil.example"
    name = parse(b"From: =?utf-8?q?Eve=0D=0AX-Autoreply=3A_no?= <eve@example.org>\r\n\r\nx")
    assert name.sender_name == "Eve X-Autoreply: no" and name.auto is None
    bad = parse(b"From: \"eve\r\n\tBcc: x\" <eve@example.org>\r\n\r\nx")
    assert "\n" not in bad.sender_name and "\r" not in bad.sender_name
    assert parse(b"From: <>\r\n\r\nx").sender == ""
    assert parse(b"From: not an address\r\n\r\nx").sender == ""


def test_huge_input_is_quick():
    started = time.monotonic()
    mail = parse(b"From: c@example.org\r\nSubject: " + b"a" * 200_000 + b"\r\nReferences: " + b"<a@b> " * 20_000
                 + b"\r\n\r\n" + b"a" * 2_000_000)
    assert mail.text_size == 2_000_000 and mail.reply == "" and len(mail.subject) == 998
    assert len(mail.references) == 20_000
    for hostile in ("On " * 30_000, "Le " * 30_000, "\n" * 90_000, ". Warning: " * 9_000,
                    ("On " * 60 + "\n") * 500, "-- \n" * 20_000, "> " * 40_000):
        assert len(hostile.encode()) <= MAX_TEXT
        parse(b"From: c@example.org\r\n\r\n" + hostile.encode())
    assert time.monotonic() - started < 20


def test_deeply_nested_mime_does_not_raise():
    depth = 2000
    raw = b"From: c@example.org\r\n" + b"".join(
        f"Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n".encode() for i in range(depth))
    assert isinstance(parse(raw + b"Content-Type: text/plain\r\n\r\nHeures : 6\r\n"), Mail)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_parse_never_raises_on_bytes(raw):
    mail = parse(raw)
    assert mail.size == len(raw) and len(mail.digest) == 64
    assert "\x00" not in mail.text + mail.reply + mail.subject + mail.sender_name


_HEADER_NAMES = st.sampled_from(["From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References",
                                 "Content-Type", "Content-Transfer-Encoding", "Auto-Submitted", "Return-Path",
                                 "Precedence", "List-Id", "Content-Disposition", "Delivered-To"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_HEADER_NAMES, st.text(max_size=80)), max_size=8), st.text(max_size=500))
def test_parse_never_raises_on_headers_and_text(headers, body):
    raw = "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n" + body
    mail = parse(raw.encode("utf-8", "surrogatepass"))
    assert "\n" not in mail.subject and "\r" not in mail.sender_name
    assert mail.reply == mail.reply.strip()
    fields(mail.reply)
