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
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import TextIO
from urllib.parse import unquote, urlsplit

from notifications.message import DeliveryError, Message

CHANNELS = ("console", "email", "chat")


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


def _address(name: str, addr: str) -> Address:
    """An Address header value; EmailMessage refuses CR/LF in it, so no header can be injected."""
    local, _, domain = addr.partition("@")
    if not local or not domain or any(ch in addr for ch in "\r\n<>\"") or any(ch in name for ch in "\r\n"):
        raise DeliveryError(f"unusable e-mail address {addr!r}")
    return Address(display_name=name, username=local, domain=domain)


def build_email(msg: Message, sender: str) -> EmailMessage:
    """A MIME message: UTF-8 subject and names, plain text plus HTML, Message-ID from the key."""
    from datetime import datetime, timezone

    name, addr = parseaddr(sender)
    mail = EmailMessage()
    if any(ch in msg.subject for ch in "\r\n"):
        raise DeliveryError("a subject may not contain line breaks")
    try:
        mail["Subject"] = msg.subject
        mail["From"] = _address(name, addr)
        mail["To"] = _address(msg.recipient_name, msg.recipient)
        mail["Message-ID"] = msg.message_id
        mail["Date"] = format_datetime(datetime.now(timezone.utc))
        mail["X-Preincub-Key"] = msg.key
        mail["Auto-Submitted"] = "auto-generated"
    except ValueError as exc:  # the email package refuses anything that could split a header
        raise DeliveryError(f"unsafe header value: {exc}") from None
    # quoted-printable: 7-bit safe whatever the server, no 8BITMIME needed.
    mail.set_content(msg.text, cte="quoted-printable")
    mail.add_alternative(msg.html, subtype="html", cte="quoted-printable")
    return mail


class EmailChannel(Channel):
    """SMTP: ``smtp://user@host:port`` (STARTTLS with starttls=True) or ``smtps://...`` (TLS from the start).

    The password comes from PREINCUB_SMTP_PASSWORD only; it is never stored or printed.
    """

    name = "email"

    def __init__(self, url: str, sender: str, *, password: str | None = None, starttls: bool = False,
                 timeout: float = 30.0) -> None:
        u = urlsplit(url)
        if u.scheme not in ("smtp", "smtps") or not u.hostname:
            raise DeliveryError(f"PREINCUB_SMTP_URL must look like smtp://user@host:port (got scheme {u.scheme!r})")
        self.host, self.ssl = u.hostname, u.scheme == "smtps"
        self.port = u.port or (465 if self.ssl else 25)
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
            refused = self._smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            self.close()  # the next message reconnects
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
        if urlsplit(url).scheme not in ("http", "https"):
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
