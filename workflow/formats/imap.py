"""The mailbox the poller reads (``PREINCUB_IMAP_URL``), through imap-tools: connect, log in, list a folder's
messages as raw bytes, move each one to another folder (created when missing).

The URL holds a password: no error, log line or repr here ever shows it, nor the URL. Each failure is one
:class:`~workflow.errors.Invalid` line that names the server (host and port) and what failed."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from workflow.errors import N_, Invalid

__all__ = ["ImapUrl", "Mailbox", "parse_url"]

TIMEOUT = 60  # seconds: a server that answers nothing for this long is unreachable
EXAMPLE = "imaps://USER:PASSWORD@HOST[:PORT]/FOLDER"


@dataclass(frozen=True, slots=True)
class ImapUrl:
    """``PREINCUB_IMAP_URL`` read: TLS or not (``imap://``, for a local server), where, who, which folder."""

    secure: bool
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    folder: str = "INBOX"

    @property
    def where(self) -> str:
        """``host:port`` (``[::1]:993``), as the errors name the server."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_url(url: str) -> ImapUrl:
    """``imaps://USER:PASSWORD@HOST[:PORT]/FOLDER`` (user and password URL-encoded; folder INBOX by default;
    port 993, or 143 for ``imap://``). A refusal says which part is wrong, never echoing the URL."""
    def bad(what: str) -> Invalid:
        return Invalid(N_("PREINCUB_IMAP_URL is not usable: {what!t}; give {example}"), code="imap_url",
                       what=what, example=EXAMPLE)

    try:
        u = urlsplit(url.strip())
        port = u.port
    except ValueError:  # an unbalanced bracket, a port that is not a number or out of range
        raise bad(N_("its port must be a number from 1 to 65535")) from None
    if u.scheme not in ("imaps", "imap"):
        raise bad(N_("it must start with imaps:// (or imap:// for a local server)"))
    if not u.hostname:
        raise bad(N_("it names no host"))
    if not u.username or u.password is None:
        raise bad(N_("it names no user and password"))
    if u.query or u.fragment:
        raise bad(N_("it has a ? or # part"))
    secure = u.scheme == "imaps"
    folder = unquote(u.path.lstrip("/")) or "INBOX"
    if any(not ch.isprintable() for ch in folder):
        raise bad(N_("its folder holds control characters"))
    return ImapUrl(secure, u.hostname, port or (993 if secure else 143), unquote(u.username), unquote(u.password),
                   folder)


@cache
def _raw_message() -> type:
    """imap-tools' message class, keeping the bytes the server sent (the inbox parses them itself). imap-tools
    is loaded by the first session, not by every command that opens the library."""
    from imap_tools import MailMessage

    class Raw(MailMessage):
        def __init__(self, fetch_data: list) -> None:
            super().__init__(fetch_data)
            self.raw = self._get_message_data_parts(fetch_data)[0]

    return Raw


class Mailbox:
    """One session on the mailbox of ``url``: ``with Mailbox(url) as box: for uid, raw in box.messages(): ...``.

    Messages are read without marking them seen (one left in place stays as it was)."""

    def __init__(self, url: str, *, timeout: float = TIMEOUT) -> None:
        self.url = parse_url(url)
        self.timeout = timeout
        self._box: Any = None  # imap-tools' MailBox or MailBoxUnencrypted
        self._folders: set[str] = set()

    def __repr__(self) -> str:
        return f"Mailbox({self.url.where}, {self.url.folder!r})"

    def __enter__(self) -> Mailbox:
        import imaplib

        from imap_tools import MailBox, MailBoxUnencrypted
        from imap_tools.errors import MailboxFolderSelectError, MailboxLoginError

        u = self.url
        try:
            if u.secure:  # the server's certificate verified (imaplib's own default context verifies nothing)
                box = MailBox(u.host, u.port, timeout=self.timeout, ssl_context=ssl.create_default_context())
            else:
                box = MailBoxUnencrypted(u.host, u.port, timeout=self.timeout)
        except Exception as exc:  # noqa: BLE001 - DNS, refused, TLS, timeout: one line each
            raise self._connect_error(exc) from None
        box.email_message_class = _raw_message()
        self._box = box
        try:
            login = box.login if (u.user + u.password).isascii() else box.login_utf8
            login(u.user, u.password, initial_folder=None)
        except Exception as exc:  # noqa: BLE001
            self._close()
            if isinstance(exc, (MailboxLoginError, imaplib.IMAP4.error)) and not isinstance(exc, imaplib.IMAP4.abort):
                raise Invalid(N_("IMAP server {where}: login failed for the user {user!q}; check the user and "
                                 "password of PREINCUB_IMAP_URL"), code="imap_login", where=u.where,
                              user=u.user) from None
            raise self._failure("LOGIN", exc) from None
        try:
            box.folder.set(u.folder)
        except MailboxFolderSelectError:
            self._close()
            raise Invalid(N_("IMAP server {where}: there is no folder {folder!q}"), code="imap_folder",
                          where=u.where, folder=u.folder) from None
        except Exception as exc:  # noqa: BLE001
            self._close()
            raise self._failure("SELECT", exc) from None
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()

    def messages(self) -> Iterator[tuple[str, bytes]]:
        """(uid, raw bytes) of each message of the folder, oldest first."""
        box = self._opened()
        try:
            uids = box.uids("ALL")
        except Exception as exc:  # noqa: BLE001
            raise self._failure("SEARCH", exc) from None
        for uid in uids:
            try:
                msg = next(iter(box.fetch(uid_list=[uid], mark_seen=False)), None)
            except Exception as exc:  # noqa: BLE001
                raise self._failure("FETCH", exc) from None
            if msg is not None:  # gone meanwhile (another client moved it)
                yield uid, msg.raw

    def move(self, uid: str, folder: str) -> None:
        """Move the message ``uid`` to ``folder``, created first when missing."""
        box = self._opened()
        try:
            if folder not in self._folders:
                if not box.folder.exists(folder):
                    box.folder.create(folder)
                self._folders.add(folder)
            box.move(uid, folder)
        except Exception as exc:  # noqa: BLE001
            raise self._failure("MOVE", exc) from None

    def append(self, raw: bytes, folder: str | None = None) -> None:
        """Put a message in ``folder`` (the URL's by default): for tests and tools."""
        box = self._opened()
        try:
            box.append(raw, folder or self.url.folder)
        except Exception as exc:  # noqa: BLE001
            raise self._failure("APPEND", exc) from None

    # ---- errors ------------------------------------------------------------------------------

    def _opened(self) -> Any:
        if self._box is None:
            raise RuntimeError("use the mailbox inside a with block")
        return self._box

    def _close(self) -> None:
        box, self._box = self._box, None
        if box is None:
            return
        try:
            if box.client.state == "SELECTED" or box.login_result is not None:
                box.logout()
            else:
                box.client.shutdown()
        except Exception:  # noqa: BLE001 - the connection is gone already: nothing to close
            try:
                box.client.shutdown()
            except Exception:  # noqa: BLE001
                pass

    def _connect_error(self, exc: BaseException) -> Invalid:
        where = self.url.where
        if isinstance(exc, socket.gaierror):
            return Invalid(N_("IMAP server {where}: the host name is unknown (DNS)"), code="imap_dns", where=where)
        if isinstance(exc, ConnectionRefusedError):
            return Invalid(N_("IMAP server {where}: connection refused"), code="imap_refused", where=where)
        if isinstance(exc, (TimeoutError, socket.timeout)):
            return Invalid(N_("IMAP server {where}: no answer within {seconds} seconds"), code="imap_timeout",
                           where=where, seconds=int(self.timeout))
        if isinstance(exc, ssl.SSLError):
            return Invalid(N_("IMAP server {where}: the TLS handshake failed ({detail}); for a local server "
                              "without TLS, use imap://"), code="imap_tls", where=where, detail=self._detail(exc))
        return self._failure("CONNECT", exc)

    def _failure(self, command: str, exc: BaseException) -> Invalid:
        if isinstance(exc, (ConnectionRefusedError, socket.gaierror, ssl.SSLError, TimeoutError)):
            return self._connect_error(exc)
        return Invalid(N_("IMAP server {where}: {command} failed ({detail})"), code="imap_failed",
                       where=self.url.where, command=command, detail=self._detail(exc))

    def _detail(self, exc: BaseException) -> str:
        """The cause in one short line, without the password (a server may echo what it was sent)."""
        if getattr(exc, "command_result", None):  # imap-tools' UnexpectedCommandStatusError
            data = exc.command_result[1]
            text = " ".join(d.decode("utf-8", "replace") if isinstance(d, bytes) else str(d) for d in (data or ()))
        else:
            text = str(exc) or type(exc).__name__
        pw = self.url.password
        for secret in (pw, quote(pw, safe=""), quote(pw)) if pw else ():
            text = text.replace(secret, "***")
        return " ".join(text.split())[:200] or type(exc).__name__
