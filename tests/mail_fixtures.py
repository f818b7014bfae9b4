"""Inbound mail as coaches' clients write it, for the tests of replies (parsing, LMTP, IMAP, the service,
end to end): replies in the styles of Gmail (French and English), Outlook (French), Thunderbird, Apple
Mail and an HTML-only webmail (Zimbra), each quoting the reminder under (or above) the coach's lines
with a signature; an out-of-office; a bounce; a reply by someone else to a forwarded reminder.

Each builder returns the raw bytes (CRLF line ends) a server would receive. Their signatures are
shared with other tests: keep them stable.
"""

from __future__ import annotations

import email.parser
import email.policy
import html
import mimetypes
import textwrap
import uuid
from email.message import EmailMessage, Message
from email.utils import formataddr

STYLES = ("gmail", "gmail_en", "outlook_fr", "thunderbird", "apple", "html_only")
REMINDER_FROM = "preincub <points@programme.example>"
REMINDER_SUBJECT = "Point hebdomadaire 2020-W48 : Équipe"
DEFAULT_BODY = ("Heures : 6\n\nNous avons rencontré la DGFiP et le bureau des usagers : le prototype du "
                "formulaire est validé, il reste à obtenir l'accès aux données fiscales avant la fin du mois.")

# The reminder's text as a coach's client quotes it (French; its reply lines included, which must
# never be read as the coach's).
QUOTED_REMINDER = """Point hebdomadaire 2020-W48 : Équipe
Bonjour Claire Martin,

Nous sommes en semaine 2020-W48 et aucun point hebdomadaire n'a encore été enregistré pour l'équipe « Équipe » (programme Promo 2020, en investigation).
Dernier point : 16/11/2020. L'échéance du programme est dans 30 jours.

Une fois le point tenu, enregistrez-le :

    preincub --as claire.martin@example.org checkin log Équipe --notes "…"

Ou remplissez le formulaire, depuis un téléphone ou un navigateur :

https://preincub.programme.example/l/checkin/eyJwIjoxLCJ0Ijo0fQ.X7t3kA.c2lnbmF0dXJl

Ou répondez à ce message : commencez par les lignes voulues parmi celles ci-dessous, puis écrivez vos notes. Elles sont enregistrées comme votre point de la semaine 2020-W48, et vous recevez une confirmation.

    Heures : 6
    Blocages : …
    Prochaines étapes : …
    Humeur : 4 (de 1 à 5)
"""

_POLICY = email.policy.SMTP  # CRLF line ends, as on the wire


def _message_id(host: str, style: str) -> str:
    token = uuid.uuid4()
    if style.startswith("gmail"):
        return f"<CAF{token.hex[:20]}+{token.hex[20:]}@mail.gmail.com>"
    if style == "outlook_fr":
        return f"<PR1P264MB{token.hex[:12].upper()}{token.hex[12:20].upper()}@PR1P264MB1234.FRAP264.PROD.OUTLOOK.COM>"
    if style == "apple":
        return f"<{str(token).upper()}@{host}>"
    return f"<{token}@{host}>"


def _quoted(text: str, prefix: str = "> ") -> str:
    return "\n".join((prefix + line).rstrip() if line else prefix.rstrip() for line in text.rstrip("\n").split("\n"))


def _html_lines(text: str) -> str:
    """A body as Gmail and Zimbra write it: a <div> a line, <div><br></div> for a blank one."""
    return "".join(f"<div>{html.escape(line)}</div>" if line else "<div><br></div>" for line in text.split("\n"))


def _flowed(text: str) -> str:
    """Text as format=flowed (RFC 3676): long lines wrapped at 72 with a trailing space (soft break) and
    their quote marks repeated, "-- " kept, lines starting with a space or "From " space-stuffed."""
    out = []
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        prefix, content = line[:depth], line[depth:]
        if depth and content.startswith(" "):
            content = content[1:]
        if line == "-- " or len(line) <= 72:
            pieces = [content]
        else:
            pieces = textwrap.wrap(content, 72 - depth, break_long_words=False, break_on_hyphens=False)
            pieces = [p + " " for p in pieces[:-1]] + pieces[-1:]
        for piece in pieces:
            if depth or piece.startswith((" ", "From ", ">")):
                piece = " " + piece
            out.append(prefix + piece)
    return "\n".join(out)


def _headers(msg: Message, *, sender: str, sender_name: str, to: str, subject: str, message_id: str,
             date: str, in_reply_to: str | None, references: tuple[str, ...]) -> None:
    msg["Date"] = date
    msg["From"] = formataddr((sender_name, sender)) if sender_name else sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    refs = references or ((in_reply_to,) if in_reply_to else ())
    if refs:
        msg["References"] = " ".join(refs)


def _with_attachments(msg: EmailMessage, attachments: tuple[tuple[str, bytes], ...]) -> EmailMessage:
    """The message made multipart/mixed, its body first, then each file (type guessed from its name)."""
    for filename, data in attachments:
        kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def reply(style: str, *, to: str, sender: str = "claire.martin@example.org", sender_name: str = "Claire Martin",
          body: str = DEFAULT_BODY, in_reply_to: str | None = None, references: tuple[str, ...] = (),
          subject: str = "Re: Point hebdomadaire 2020-W48 : Équipe", message_id: str | None = None,
          date: str = "Mon, 23 Nov 2020 18:05:00 +0100", attachments: tuple[tuple[str, bytes], ...] = ()) -> bytes:
    """A coach's reply to the reminder, in one client's style (:data:`STYLES`): ``body`` above (or, for
    Thunderbird, below) the quoted reminder, then a signature. ``message_id``: a fresh one unless given
    (give the same to make a duplicate delivery)."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}: one of {', '.join(STYLES)}")
    host = sender.rsplit("@", 1)[-1]
    msg = EmailMessage(policy=_POLICY)
    mid = message_id or _message_id(host, style)
    head = dict(sender=sender, sender_name=sender_name, to=to, subject=subject, message_id=mid, date=date,
                in_reply_to=in_reply_to, references=references)
    reminder_addr = "points@programme.example"
    body = body.strip("\n")
    if style in ("gmail", "gmail_en"):
        msg["MIME-Version"] = "1.0"
        _headers(msg, **head)
        if style == "gmail":
            attr = ("Le lun. 23 nov. 2020 à 09:00, preincub <\n"
                    f"{reminder_addr}> a écrit :")
            attr_html = (f"Le lun. 23 nov. 2020 à 09:00, preincub &lt;<a href=\"mailto:{reminder_addr}\">"
                         f"{reminder_addr}</a>&gt; a écrit&nbsp;:<br>")
        else:
            attr = f"On Mon, Nov 23, 2020 at 9:00 AM preincub <{reminder_addr}>\nwrote:"
            attr_html = (f"On Mon, Nov 23, 2020 at 9:00 AM preincub &lt;<a href=\"mailto:{reminder_addr}\">"
                         f"{reminder_addr}</a>&gt; wrote:<br>")
        signature = f"{sender_name}\nChargée de mission, DINUM\n06 12 34 56 78"
        text = f"{body}\n\n-- \n{signature}\n\n{attr}\n\n{_quoted(QUOTED_REMINDER)}\n"
        markup = (f'<div dir="ltr">{_html_lines(body)}<br clear="all"><div><br></div>-- <br>'
                  f'<div dir="ltr" class="gmail_signature" data-smartmail="gmail_signature">'
                  f'{html.escape(signature).replace(chr(10), "<br>")}</div></div><br>'
                  f'<div class="gmail_quote"><div dir="ltr" class="gmail_attr">{attr_html}</div>'
                  '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
                  f'rgb(204,204,204);padding-left:1ex">{_html_lines(QUOTED_REMINDER.rstrip())}</blockquote></div>\n')
        msg.set_content(text, charset="utf-8", cte="quoted-printable")
        msg.add_alternative(markup, subtype="html", charset="utf-8", cte="quoted-printable")
    elif style == "outlook_fr":
        _headers(msg, **head)
        msg["Thread-Topic"] = REMINDER_SUBJECT
        msg["Thread-Index"] = "AQHWwXw2k7Yt0bq3eUK2zJv8mQ3Yxw=="
        msg["Accept-Language"] = "fr-FR, en-US"
        msg["Content-Language"] = "fr-FR"
        msg["X-MS-Has-Attach"] = ""
        msg["X-MS-TNEF-Correlator"] = ""
        msg["MIME-Version"] = "1.0"
        block = [("De", f"preincub <{reminder_addr}>"), ("Envoyé", "lundi 23 novembre 2020 09:00"),
                 ("À", f"{sender_name} <{sender}>"), ("Objet", REMINDER_SUBJECT)]
        text = (f"{body}\n\nCordialement,\n{sender_name}\n\n" + "_" * 32 + "\n"
                + "\n".join(f"{k}\u00a0: {v}" for k, v in block) + f"\n\n{QUOTED_REMINDER}")
        paragraphs = "".join(f'<p class="MsoNormal">{html.escape(line) or "&nbsp;"}<o:p></o:p></p>'
                             for line in body.split("\n"))
        markup = ('<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
                  '<meta http-equiv="Content-Type" content="text/html; charset=Windows-1252">'
                  '<style><!-- p.MsoNormal {margin:0cm; font-family:"Calibri",sans-serif;} --></style></head>'
                  f'<body lang="FR" link="#0563C1"><div class="WordSection1">{paragraphs}'
                  '<p class="MsoNormal">&nbsp;</p><p class="MsoNormal">Cordialement,</p>'
                  f'<p class="MsoNormal">{html.escape(sender_name)}</p></div>'
                  '<div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">'
                  '<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt">'
                  + "<br>".join(f"<b>{k}&nbsp;:</b> {html.escape(v)}" for k, v in block)
                  + f'</font><div>&nbsp;</div></div><div>{_html_lines(QUOTED_REMINDER.rstrip())}</div>'
                  '</body></html>')
        msg.set_content(text, charset="windows-1252", cte="quoted-printable")
        msg.add_alternative(markup, subtype="html", charset="windows-1252", cte="quoted-printable")
    elif style == "thunderbird":
        _headers(msg, **head)
        msg["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:78.0) Gecko/20100101 Thunderbird/78.5.0"
        msg["MIME-Version"] = "1.0"
        msg["Content-Language"] = "fr"
        # Thunderbird's default: the reply below the quote, the signature below the reply.
        text = (f"Le 23/11/2020 à 09:00, preincub a écrit :\n{_quoted(QUOTED_REMINDER, '>')}\n\n{body}\n\n"
                f"-- \n{sender_name}\nDINUM — Incubateur\n")
        msg.set_content(_flowed(text), charset="utf-8", cte="8bit")
        msg.set_param("format", "flowed")
    elif style == "apple":
        msg["Content-Type"] = "text/plain"  # replaced below; keeps Apple's header order
        _headers(msg, **head)
        msg["X-Mailer"] = "iPhone Mail (18B92)"
        msg["Mime-Version"] = "1.0 (1.0)"
        del msg["Content-Type"]
        attr = f"Le 23 nov. 2020 à 09:00, preincub <{reminder_addr}> a écrit :"
        text = f"{body}\n\nEnvoyé de mon iPhone\n\n> {attr}\n> \n{_quoted(QUOTED_REMINDER)}\n"
        markup = ('<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
                  f'<body dir="auto">{_html_lines(body)}<div><br></div><div dir="ltr">Envoyé de mon iPhone</div>'
                  f'<div dir="ltr"><br><blockquote type="cite">{html.escape(attr)}<br><br></blockquote></div>'
                  f'<blockquote type="cite"><div dir="ltr">{_html_lines(QUOTED_REMINDER.rstrip())}</div>'
                  '</blockquote></body></html>')
        msg.set_content(text, charset="utf-8", cte="quoted-printable")
        msg.add_alternative(markup, subtype="html", charset="utf-8", cte="quoted-printable")
    else:  # html_only: Zimbra's webmail, which sends HTML alone and quotes outside any <blockquote>
        _headers(msg, **head)
        msg["MIME-Version"] = "1.0"
        msg["X-Mailer"] = "Zimbra 8.8.15_GA_3980 (ZimbraWebClient - FF83 (Linux)/8.8.15_GA_3980)"
        msg["Thread-Topic"] = REMINDER_SUBJECT
        markup = ('<html><body><div style="font-family: arial, helvetica, sans-serif; font-size: 12pt; '
                  f'color: #000000">{_html_lines(body)}<div><br></div>'
                  f'<div data-marker="__SIG_PRE__">Cordialement,<br>{html.escape(sender_name)}<br>'
                  'Ministère de l\'Intérieur</div><div><br></div><div data-marker="__QUOTED_TEXT__">'
                  '<hr id="zwchr" data-marker="__DIVIDER__"><div data-marker="__HEADERS__">'
                  f'<b>De: </b>"preincub" &lt;{reminder_addr}&gt;<br><b>À: </b>"{html.escape(sender_name)}" '
                  f'&lt;{html.escape(sender)}&gt;<br><b>Envoyé: </b>Lundi 23 Novembre 2020 09:00:00<br>'
                  f'<b>Objet: </b>{html.escape(REMINDER_SUBJECT)}<br></div><br>'
                  f'<div data-marker="__QUOTED_TEXT__">{_html_lines(QUOTED_REMINDER.rstrip())}</div></div>'
                  '</div></body></html>')
        msg.set_content(markup, subtype="html", charset="utf-8", cte="quoted-printable")
    return _with_attachments(msg, attachments).as_bytes(policy=_POLICY)


def out_of_office(*, to: str, sender: str = "claire.martin@example.org", sender_name: str = "Claire Martin",
                  in_reply_to: str | None = None, message_id: str | None = None) -> bytes:
    """Outlook's automatic reply ("Réponse automatique", Auto-Submitted: auto-replied), in ISO-8859-1."""
    msg = EmailMessage(policy=_POLICY)
    _headers(msg, sender=sender, sender_name=sender_name, to=to,
             subject=f"Réponse automatique : {REMINDER_SUBJECT}",
             message_id=message_id or _message_id(sender.rsplit("@", 1)[-1], "outlook_fr"),
             date="Mon, 23 Nov 2020 09:00:05 +0100", in_reply_to=in_reply_to, references=())
    msg["Thread-Topic"] = REMINDER_SUBJECT
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-MS-Exchange-Inbox-Rules-Loop"] = sender
    msg["X-MS-Exchange-Generated-Message-Source"] = "Mailbox Rules Agent"
    msg["MIME-Version"] = "1.0"
    msg.set_content("Absent du bureau\n\nBonjour,\n\nJe suis absente jusqu'au lundi 30 novembre inclus, "
                    "avec un accès limité à mes messages.\nEn cas d'urgence : bureau.incubateur@example.org\n\n"
                    f"{sender_name}\n", charset="iso-8859-1", cte="quoted-printable")
    return msg.as_bytes(policy=_POLICY)


def bounce(*, to: str, original_message_id: str) -> bytes:
    """Postfix's delivery status notification (RFC 3464) for a message that could not be delivered,
    sent from MAILER-DAEMON to ``to`` with a null Return-Path; the original's headers attached."""
    queue = uuid.uuid4().hex[:12].upper()
    boundary = f"{queue}.1606118407/mx.example.org"
    text = f"""Return-Path: <>
Date: Mon, 23 Nov 2020 09:00:07 +0100 (CET)
From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {to}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{boundary}"
Content-Transfer-Encoding: 8bit
Message-Id: <20201123080007.{queue}@mx.example.org>

This is a MIME-encapsulated message.

--{boundary}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<claire.martin@example.org>: host mail.example.org[192.0.2.10] said: 550 5.1.1
    <claire.martin@example.org>: Recipient address rejected: User unknown

--{boundary}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
X-Postfix-Queue-ID: {queue}
Arrival-Date: Mon, 23 Nov 2020 09:00:05 +0100 (CET)

Final-Recipient: rfc822; claire.martin@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <claire.martin@example.org>: Recipient address
    rejected: User unknown

--{boundary}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: {REMINDER_FROM}
To: Claire Martin <claire.martin@example.org>
Subject: =?utf-8?q?Point_hebdomadaire_2020-W48_=3A_=C3=89quipe?=
Message-ID: {original_message_id}
Date: Mon, 23 Nov 2020 09:00:00 +0100

--{boundary}--
"""
    return text.replace("\n", "\r\n").encode("ascii")


def forwarded(*, to: str, sender: str, original: bytes) -> bytes:
    """Someone else's reply to a reminder its coach forwarded them: ``sender`` answers the forward,
    to the reminder's reply address ``to``, quoting the forwarded ``original``; In-Reply-To and
    References name the forward and the original."""
    parsed = email.parser.BytesParser(policy=email.policy.default).parsebytes(original)
    original_id = str(parsed["Message-ID"] or "").strip()
    original_subject = str(parsed["Subject"] or REMINDER_SUBJECT)
    part = parsed.get_body(("plain",))
    original_text = part.get_content() if part is not None else QUOTED_REMINDER
    forward_id = f"<{uuid.uuid4()}@example.org>"
    forward = (f"-------- Message transféré --------\nSujet : {original_subject}\n"
               f"Date : Mon, 23 Nov 2020 09:00:00 +0100\nDe : {parsed['From'] or REMINDER_FROM}\n"
               f"Pour : Claire Martin <claire.martin@example.org>\n\n{original_text.rstrip()}")
    body = ("Heures : 3\n\nJe remplace Claire cette semaine : atelier avec les usagers mardi.\n\n"
            "Bien à vous,\nBruno Petit\n\n"
            f"Le 23/11/2020 à 10:12, Claire Martin a écrit :\n{_quoted('Bruno, peux-tu répondre ?')}\n>\n"
            f"{_quoted(forward)}\n")
    msg = EmailMessage(policy=_POLICY)
    _headers(msg, sender=sender, sender_name="Bruno Petit", to=to, subject=f"Re: Fwd: {original_subject}",
             message_id=f"<{uuid.uuid4()}@{sender.rsplit('@', 1)[-1]}>", date="Mon, 23 Nov 2020 11:30:00 +0100",
             in_reply_to=forward_id, references=tuple(x for x in (original_id, forward_id) if x))
    msg["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:78.0) Gecko/20100101 Thunderbird/78.5.0"
    msg["MIME-Version"] = "1.0"
    msg.set_content(body, charset="utf-8", cte="8bit")
    return msg.as_bytes(policy=_POLICY)
