"""A real IMAP server for the poller's tests: Debian's Dovecot (package dovecot-imapd), started with a
throwaway configuration (one user with a password, plaintext login on 127.0.0.1, maildirs in a temporary
directory, no TLS) and stopped at teardown. Without the binary the tests that use it are skipped, saying why.

Run as root, Dovecot gives mail access to no process of UID 0: the user's mail then belongs to ``nobody``,
in a directory of its own under the system's temporary directory (the pytest one is private to root)."""

from __future__ import annotations

import os
import pwd
import grp
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

BINARY = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
USER = "coach-box"
PASSWORD = "s3cr@t p/w%rd#?"  # characters a URL must escape (no colon: the passwd-file separator)


@dataclass(frozen=True)
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    root: Path

    def url(self, folder: str = "INBOX", *, password: str | None = None, port: int | None = None) -> str:
        """``imap://USER:PASSWORD@127.0.0.1:PORT/FOLDER``, the user and password escaped."""
        pw = self.password if password is None else password
        return (f"imap://{quote(self.user, safe='')}:{quote(pw, safe='')}@{self.host}:{port or self.port}/"
                f"{quote(folder)}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(root: Path, port: int, mail_uid: int, mail_gid: int, login_user: str, internal_user: str,
            internal_group: str, as_root: bool) -> str:
    unchrooted = "" if as_root else "".join(
        f"service {s} {{\n  chroot =\n}}\n" for s in ("imap-login", "anvil", "auth", "auth-worker", "stats", "log"))
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = 1
last_valid_uid = 0
first_valid_gid = 1
mail_location = maildir:{root}/mail/%u
mail_uid = {mail_uid}
mail_gid = {mail_gid}
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
{unchrooted}
"""


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A Dovecot IMAP server on 127.0.0.1 (a free port), user :data:`USER` with :data:`PASSWORD`."""
    if BINARY is None:
        pytest.skip("Dovecot is missing: the IMAP tests need it (apt-get install dovecot-imapd)")
    with running() as server:
        yield server


def _user(name: str, fallback: int) -> tuple[str, int, int]:
    try:
        p = pwd.getpwnam(name)
        return p.pw_name, p.pw_uid, p.pw_gid
    except KeyError:
        p = pwd.getpwuid(fallback)
        return p.pw_name, p.pw_uid, p.pw_gid


def running() -> _Running:
    return _Running()


class _Running:
    """Start Dovecot in the foreground (``-F``) on a throwaway configuration; stop it on exit."""

    def __enter__(self) -> Dovecot:
        as_root = os.geteuid() == 0
        root = Path(tempfile.mkdtemp(prefix="preincub-dovecot-"))
        self.root = root
        if as_root:
            _name, uid, gid = _user("nobody", 65534)
            login, _u, _g = _user("dovenull", 65534)
            internal, _u2, igid = _user("dovecot", 65534)
            igroup = grp.getgrgid(igid).gr_name
            os.chmod(root, 0o755)
        else:
            uid, gid = os.getuid(), os.getgid()
            login = internal = pwd.getpwuid(uid).pw_name
            igroup = grp.getgrgid(gid).gr_name
        for sub in ("mail", "home"):
            (root / sub).mkdir()
            if as_root:
                os.chown(root / sub, uid, gid)
        (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
        port = free_port()
        conf = root / "dovecot.conf"
        conf.write_text(_config(root, port, uid, gid, login, internal, igroup, as_root), encoding="utf-8")
        self.conf = conf
        self.proc = subprocess.Popen([BINARY, "-F", "-c", str(conf)], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    if s.recv(200).startswith(b"* OK"):
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                out = self.proc.stdout.read().decode(errors="replace") if self.proc.stdout else ""
                log = (root / "dovecot.log").read_text(errors="replace") if (root / "dovecot.log").exists() else ""
                self.__exit__()
                pytest.fail(f"Dovecot did not start: {out}\n{log}")
            time.sleep(0.1)
        return Dovecot("127.0.0.1", port, USER, PASSWORD, root)

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        shutil.rmtree(self.root, ignore_errors=True)
