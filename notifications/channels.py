"""Delivery channels: console, e-mail over SMTP, chat webhook (Mattermost/Slack-compatible).

A channel is opened once per tick (one SMTP connection reused for every message) and closed after.
``send`` returns once the channel has accepted the message, or raises DeliveryError.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.message
import http.client
import json
import re
import secrets
import smtplib
import ssl
import sys
import urllib.error
import urllib.request
from datetime import datetime
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
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


_PARIS = ZoneInfo("Europe/Paris")  # the Date header's zone (the workflow's clock is above this layer)
_FOLD = 76  # RFC 2047: a header line holding encoded words is at most 76 characters
_LINE = 998  # RFC 5322: no line of a message is longer (CRLF aside)
_CONTROL = re.compile("[\x00-\x1f\x7f]")  # the ASCII control characters (CR, LF...)


def _one_line(value: str, what: str) -> str:
    """A header value that cannot split into two headers.

    ASCII control characters (CR, LF...) are refused; any non-ASCII text, U+2028 included, is
    sent as an RFC 2047 encoded word, which cannot break a line.
    """
    if _CONTROL.search(value):
        raise DeliveryError(f"unsafe header value: the {what} contains a control character")
    return value


def _link(url: str) -> str:
    """An https (or http) URL that fits between the angle brackets of a List-Unsubscribe header."""
    if not url.startswith(("https://", "http://")) or not url.isascii() or any(
            ch in url for ch in ' <>"') or not url.isprintable():
        raise DeliveryError("unsafe header value: the unsubscribe link is not a plain http(s) URL")
    return url


def _encoded(value: str, size: int = 39) -> list[str]:
    """``value`` as RFC 2047 encoded words (UTF-8, base64) of whole characters, ``size`` bytes each at most
    (39: 64 characters): a reader joins them back into the text, and no encoded word can break a line."""
    data, words, i = value.encode(), [], 0
    while i < len(data):
        j = min(i + size, len(data))
        while j < len(data) and data[j] & 0xC0 == 0x80:  # never inside a character
            j -= 1
        words.append(f"=?utf-8?b?{base64.b64encode(data[i:j]).decode('ascii')}?=")
        i = j
    return words


def _header(name: str, tokens: list[str], width: int = _FOLD) -> str:
    """The header line ``name: tokens``, the tokens space-separated, folded between two tokens before a line
    grows past ``width`` (a token longer than that stays whole on its line)."""
    lines, line = [], f"{name}:"
    for token in tokens:
        if len(line) + 1 + len(token) > width and line.strip():
            lines.append(line)
            line = ""
        line = f"{line} {token}"
    lines.append(line)
    return "\r\n".join(lines)


def _plain(value: str) -> bool:
    """Text a header may carry as it is (control characters refused before): ASCII that reads as no RFC 2047
    encoded word."""
    return value.isascii() and "=?" not in value


def _text(name: str, value: str, what: str) -> str:
    """A header of free text (one line: see _one_line): as it is when plain and short enough, else encoded words."""
    value = _one_line(value, what)
    if _plain(value) and len(name) + 2 + len(value) <= _LINE:
        return f"{name}: {value}"
    return _header(name, _encoded(value))


def _address(name: str, addr: str) -> list[str]:
    """The tokens of an address header: the display name (quoted, or encoded words when it is not plain
    ASCII, or reads as an encoded word, which mail clients would decode: into a Bcc line, say), then the
    address."""
    local, _, domain = addr.partition("@")
    if not local or not domain or any(ch in addr for ch in ' <>"(),;:\\') or not addr.isprintable():
        raise DeliveryError(f"unusable e-mail address {addr!r}")
    name = _one_line(name, "name")
    if not name:
        return [addr]
    if _plain(name) and len(quoted := formataddr((name, addr))) <= _LINE - 10:
        return [quoted]
    # One encoded word as long as a line allows (as the email package made it), not several: some parsers
    # (Python's own) put a space between two encoded words of a display name.
    return [*_encoded(name, 735), f"<{addr}>"]


@lru_cache(maxsize=8)
def _sender(sender: str) -> tuple[str, str, str]:
    """The envelope address, the From header and the domain of the setting ``sender`` (parsed once)."""
    name, addr = parseaddr(sender)
    return addr, _header("From", _address(name, addr)), addr.rpartition("@")[2]


def _message_ref(value: str | None) -> str | None:
    """One Message-ID of a received e-mail, as In-Reply-To and References carry it: ``<...>``, printable
    ASCII without spaces nor inner angle brackets, on one line; None (no header) for anything else, an
    answer being worth more than the threading of a mail that came with an odd id."""
    if value and len(value) <= 900 and value.isascii() and value.startswith("<") and value.endswith(">") and all(
            33 <= ord(ch) <= 126 for ch in value) and "<" not in value[1:-1] and ">" not in value[1:-1]:
        return value
    return None


def _body(text: str, eightbit: bool) -> tuple[str, bytes]:
    """A text part's Content-Transfer-Encoding and its body, CRLF line ends: as it is (7bit, or 8bit when the
    server takes 8BITMIME) while every line fits SMTP's 998 octets, else quoted-printable (any server)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    data = "\r\n".join(lines).encode()
    if data.isascii() or eightbit:
        if "\0" not in text and (max(map(len, lines)) * 4 <= _LINE or max(len(ln.encode()) for ln in lines) <= _LINE):
            return ("7bit" if data.isascii() else "8bit"), data
    return "quoted-printable", binascii.b2a_qp("\n".join(lines).encode(), istext=True).replace(b"\n", b"\r\n")


def email_bytes(msg: Message, sender: str, *, eightbit: bool = False) -> tuple[bytes, bool]:
    """The message as sent (CRLF line ends) and whether it holds 8-bit text: UTF-8 subject and names (RFC 2047
    encoded words when not plain ASCII), plain text plus HTML, Message-ID from the key; the Reply-To of a
    message that may be answered by e-mail; In-Reply-To and References on an answer. ``eightbit`` (the
    server takes 8BITMIME) sends the text as UTF-8, else quoted-printable: 7-bit whatever the server.

    Written out directly rather than through the email package, whose header folding and quoted-printable
    encoding cost more per message than the SMTP exchange (what a reader gets is the same).
    """
    _, from_, domain = _sender(sender)
    parts = [(subtype, *_body(body, eightbit)) for subtype, body in (("plain", msg.text), ("html", msg.html))]
    while True:  # a boundary no part holds (a quoted-printable part cannot: "=_" is not in its alphabet)
        boundary = f"=_{secrets.token_hex(16)}"
        if not any(boundary.encode() in body for _, _, body in parts):
            break
    head = [f'Content-Type: multipart/alternative; boundary="{boundary}"', "MIME-Version: 1.0",
            _text("Subject", msg.subject, "subject"), from_, _header("To", _address(msg.recipient_name, msg.recipient)),
            # One line, not folded: an id with a reply key is longer than a folding line, and a reply quotes it.
            _text("Message-ID", msg.message_id(domain), "Message-ID"),
            "Date: " + format_datetime(datetime.now(_PARIS)),  # a numeric zone (+0100), not the obsolete "GMT"
            _text("X-Preincub-Key", msg.key, "key")]
    if msg.reply_to:  # the reply address with the message's signed key: a reply logs the check-in
        head.append(_header("Reply-To", _address("", msg.reply_to), _LINE))  # one line, not folded
    # An answer to a received e-mail: threaded under it. ``in_reply_to`` is the thread, oldest first, the
    # answered mail's id last (RFC 5322 3.6.4: its References, then its Message-ID); odd ids are left out.
    thread = [ref for ref in map(_message_ref, (msg.in_reply_to or "").split(" ")) if ref]
    if thread:
        head.append(f"In-Reply-To: {thread[-1]}")  # one line, not folded
        head.append(_header("References", thread, _LINE))
    # No auto-reply (out-of-office) to an automated message, and no bounce loop; an answer says it is one
    # (RFC 3834), so that the other side's robots do not answer it either.
    head.append("Auto-Submitted: auto-replied" if msg.in_reply_to else "Auto-Submitted: auto-generated")
    head.append("X-Auto-Response-Suppress: OOF")
    head.append("Precedence: bulk")
    if msg.unsubscribe:
        # One click stops this kind of message (RFC 8058): the link is signed for its person and kind; the
        # POST alone acts (a mail scanner's GET only shows a page).
        head.append(f"List-Unsubscribe: <{_link(msg.unsubscribe)}>")  # one line, not folded
        head.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    out = [("\r\n".join(head) + "\r\n\r\n").encode()]
    for subtype, cte, body in parts:
        out.append(f"--{boundary}\r\nContent-Type: text/{subtype}; charset=\"utf-8\"\r\nMIME-Version: 1.0\r\n"
                   f"Content-Transfer-Encoding: {cte}\r\n\r\n".encode())
        out.append(body)
        out.append(b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    data = b"".join(out)
    return data, not data.isascii()


def build_email(msg: Message, sender: str) -> email.message.Message:
    """The 7-bit message (any server takes it) as an email package object, for a caller that wants one (the
    benchmark's raw smtplib baseline, tests); the channel sends :func:`email_bytes` as they are."""
    return email.message_from_bytes(email_bytes(msg, sender)[0])


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
            smtp.ehlo_or_helo_if_needed()  # its extensions (8BITMIME) are known before the first message
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
        if self._smtp is None:
            self._smtp = self._connect()
        # 8-bit text to a server that takes it (RFC 6152), declared so; quoted-printable to any other.
        data, eightbit = email_bytes(msg, self.sender, eightbit=self._smtp.has_extn("8bitmime"))
        try:
            refused = self._smtp.sendmail(_sender(self.sender)[0], [msg.recipient], data,
                                          ["BODY=8BITMIME"] if eightbit else [])
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
