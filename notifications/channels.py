"""Delivery channels: console, e-mail over SMTP, chat webhook (Mattermost/Slack-compatible).

A channel is opened once per tick (one SMTP connection reused for every message) and closed after.
``send`` returns once the channel has accepted the message, or raises DeliveryError.
"""

from __future__ import annotations

import base64
import http.client
import json
import smtplib
import ssl
import sys
import urllib.error
import urllib.request
from email.charset import QP, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from datetime import datetime
from email.utils import format_datetime, formataddr, parseaddr
from typing import TextIO
from zoneinfo import ZoneInfo
from urllib.parse import unquote, urlsplit

from notifications.message import (  # noqa: F401 - CHANNELS: re-exported
    CHANNELS, DeliveryError, Message, PermanentDeliveryError)



class Channel:
    name = "console"

    def __enter__(self) -> Channel:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        pass

    def send(self, msg: Message) -> None:
        raise NotImplementedError


class ConsoleChannel(Channel):
    """Prints the message: the default when no e-mail or chat is configured."""

    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, msg: Message) -> None:
        out = self.stream or sys.stdout
        out.write(f"--- to {msg.recipient_name} <{msg.recipient}> [{msg.key}]\n{msg.subject}\n\n{msg.text}\n")
        out.flush()


# Quoted-printable UTF-8 bodies: 7-bit safe whatever the server, no 8BITMIME needed.
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP
_SMTP = compat32.clone(linesep="\r\n")  # sendmail() sends bytes as they are: CRLF line ends here
_PARIS = ZoneInfo("Europe/Paris")  # the Date header's zone (the workflow's clock is above this layer)


def _one_line(value: str, what: str) -> str:
    """A header value that cannot split into two headers.

    ASCII control characters (CR, LF...) are refused; any non-ASCII text, U+2028 included, is
    sent as an RFC 2047 encoded word, which cannot break a line.
    """
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise DeliveryError(f"unsafe header value: the {what} contains a control character")
    return value


def _link(url: str) -> str:
    """An https (or http) URL that fits between the angle brackets of a List-Unsubscribe header."""
    if not url.startswith(("https://", "http://")) or not url.isascii() or any(
            ch in url for ch in ' <>"') or not url.isprintable():
        raise DeliveryError("unsafe header value: the unsubscribe link is not a plain http(s) URL")
    return url


def _address(name: str, addr: str) -> str:
    local, _, domain = addr.partition("@")
    if not local or not domain or any(ch in addr for ch in ' <>"(),;:\\') or not addr.isprintable():
        raise DeliveryError(f"unusable e-mail address {addr!r}")
    name = _one_line(name, "name")
    if "=?" in name:
        # A name that reads as an RFC 2047 encoded word would be decoded by mail clients (into a Bcc
        # line, say): encoded itself, it decodes to the name as stored.
        return f"{Header(name, 'utf-8').encode()} <{addr}>"
    return formataddr((name, addr), charset="utf-8")


def _message_ref(value: str | None) -> str | None:
    """One Message-ID of a received e-mail, as In-Reply-To and References carry it: ``<...>``, printable
    ASCII without spaces nor inner angle brackets, on one line; None (no header) for anything else, an
    answer being worth more than the threading of a mail that came with an odd id."""
    if value and len(value) <= 900 and value.isascii() and value.startswith("<") and value.endswith(">") and all(
            33 <= ord(ch) <= 126 for ch in value) and "<" not in value[1:-1] and ">" not in value[1:-1]:
        return value
    return None


def build_email(msg: Message, sender: str) -> MIMEMultipart:
    """A MIME message: UTF-8 subject and names, plain text plus HTML, Message-ID from the key; the Reply-To
    of a message that may be answered by e-mail; In-Reply-To and References on an answer.

    Built with the email package's compat32 classes and serialised once: the modern EmailMessage
    re-parses every header and took twice as long per message.
    """
    name, addr = parseaddr(sender)
    mail = MIMEMultipart("alternative")
    mail["Subject"] = Header(_one_line(msg.subject, "subject"), "utf-8")
    mail["From"] = _address(name, addr)
    mail["To"] = _address(msg.recipient_name, msg.recipient)
    # One line, not folded: an id with a reply key is longer than a folding line, and a reply quotes it.
    mail["Message-ID"] = Header(msg.message_id(addr.rpartition("@")[2]), maxlinelen=998)
    mail["Date"] = format_datetime(datetime.now(_PARIS))  # a numeric zone (+0100), not the obsolete "GMT"
    mail["X-Preincub-Key"] = _one_line(msg.key, "key")
    if msg.reply_to:  # the reply address with the message's signed key: a reply logs the check-in
        mail["Reply-To"] = Header(_address("", msg.reply_to), maxlinelen=998)  # one line, not folded
    # An answer to a received e-mail: threaded under it. ``in_reply_to`` is the thread, oldest first, the
    # answered mail's id last (RFC 5322 3.6.4: its References, then its Message-ID); odd ids are left out.
    thread = [ref for ref in map(_message_ref, (msg.in_reply_to or "").split(" ")) if ref]
    if thread:
        mail["In-Reply-To"] = Header(thread[-1], maxlinelen=998)  # one line, not folded
        mail["References"] = Header(" ".join(thread), maxlinelen=998)
    # No auto-reply (out-of-office) to an automated message, and no bounce loop; an answer says it is one
    # (RFC 3834), so that the other side's robots do not answer it either.
    mail["Auto-Submitted"] = "auto-replied" if msg.in_reply_to else "auto-generated"
    mail["X-Auto-Response-Suppress"] = "OOF"
    mail["Precedence"] = "bulk"
    if msg.unsubscribe:
        # One click stops this kind of message (RFC 8058): the link is signed for its person and kind; the
        # POST alone acts (a mail scanner's GET only shows a page).
        mail["List-Unsubscribe"] = Header(f"<{_link(msg.unsubscribe)}>", maxlinelen=998)  # one line, not folded
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.attach(MIMEText(msg.text, "plain", _UTF8_QP))
    mail.attach(MIMEText(msg.html, "html", _UTF8_QP))
    return mail


def _refusal(exc: smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError) -> DeliveryError:
    """This message refused, with the server's reply on one line: for good on a 5xx reply, to retry on a
    4xx (temporary) one. A refused sender is not here: it refuses every message, a setting to fix."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        addr, (code, reply) = next(iter(exc.recipients.items()))
        what = f"{addr} refused"
    else:
        code, reply, what = exc.smtp_code, exc.smtp_error, "message refused"
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    error = PermanentDeliveryError if 500 <= code < 600 else DeliveryError
    return error(" ".join(f"SMTP: {what}: {code} {text}".split()))


class EmailChannel(Channel):
    """SMTP: ``smtp://user@host:port`` (STARTTLS with starttls=True) or ``smtps://...`` (TLS from the start).

    The password comes from PREINCUB_SMTP_PASSWORD only; it is never stored or printed.
    """

    name = "email"

    def __init__(self, url: str, sender: str, *, password: str | None = None, starttls: bool = False,
                 timeout: float = 30.0) -> None:
        try:
            u = urlsplit(url)
            port = u.port
        except ValueError:  # a bad port or bracket: said without echoing the URL, which may hold secrets
            port, u = None, None
        if u is None or u.scheme not in ("smtp", "smtps") or not u.hostname:
            raise DeliveryError("PREINCUB_SMTP_URL must look like smtp://user@host:port")
        self.host, self.ssl = u.hostname, u.scheme == "smtps"
        self.port = port or (465 if self.ssl else 25)
        self.user = unquote(u.username) if u.username else None
        self.password, self.starttls, self.timeout, self.sender = password, starttls, timeout, sender
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        try:
            if self.ssl:
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
            if self.user:
                self._login(smtp)
            return smtp
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {exc}") from None

    def _login(self, smtp: smtplib.SMTP) -> None:
        password = self.password or ""
        if password.isascii() and self.user.isascii():
            smtp.login(self.user, password)
            return
        # smtplib encodes credentials as ASCII; AUTH PLAIN carries UTF-8 (RFC 4616).
        smtp.ehlo_or_helo_if_needed()
        token = base64.b64encode(b"\0" + self.user.encode() + b"\0" + password.encode()).decode()
        code, resp = smtp.docmd("AUTH", "PLAIN " + token)
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, resp)

    def send(self, msg: Message) -> None:
        mail = build_email(msg, self.sender)
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            refused = self._smtp.sendmail(parseaddr(self.sender)[1], [msg.recipient], mail.as_bytes(policy=_SMTP))
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
            self.close()  # the next message reconnects
            raise _refusal(exc) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise DeliveryError(f"SMTP: {exc}") from None
        if refused:
            raise DeliveryError(f"SMTP refused {', '.join(refused)}")

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._smtp = None


class ChatChannel(Channel):
    """An incoming webhook: JSON POST ``{"text": ...}``; the key travels in an Idempotency-Key header."""

    name = "chat"

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        try:
            u = urlsplit(url)
            usable = u.scheme in ("http", "https") and bool(u.hostname) and (u.port is None or u.port > 0)
        except ValueError:
            usable = False
        if not usable:
            raise DeliveryError("PREINCUB_WEBHOOK_URL must be an http(s) URL")
        self.url, self.timeout = url, timeout

    def send(self, msg: Message) -> None:
        body = json.dumps({"text": f"**{msg.subject}**\n@{msg.recipient.split('@')[0]}\n\n{msg.text}"},
                          ensure_ascii=False).encode()
        req = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "Idempotency-Key": msg.key,
            "X-Preincub-Key": msg.key, "User-Agent": "preincub"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                resp.read()
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"webhook answered HTTP {exc.code}") from None
        except (OSError, urllib.error.URLError, http.client.HTTPException) as exc:
            raise DeliveryError(f"webhook: {getattr(exc, 'reason', None) or type(exc).__name__}") from None
