"""Settings: every ``PREINCUB_*`` variable, in typed sections read with pydantic-settings.

Each section is parsed on first use, so a bad delivery setting breaks only the commands that
deliver (``remind run``, the daemon), never ``status``. Values come from the environment, then
from an optional env file (``PREINCUB_ENV_FILE``, or ``preincub.env`` in the user's config
directory). Secrets are ``SecretStr``: never in a repr, a log line or an error.
"""

from __future__ import annotations

import base64
import json
import os
import re
from datetime import time, timedelta
from email.utils import parseaddr
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from platformdirs import user_config_path
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from workflow.errors import N_, Invalid, quote

PREFIX = "PREINCUB_"


def env_file() -> Path | None:
    """``PREINCUB_ENV_FILE``, else ``preincub.env`` in the user's config directory when it exists."""
    explicit = os.environ.get(PREFIX + "ENV_FILE")
    if explicit:
        return Path(explicit)
    default = user_config_path("preincub", appauthor=False) / "preincub.env"
    return default if default.is_file() else None


class Section(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, frozen=True, extra="ignore", env_ignore_empty=True)


class StoreSettings(Section):
    db: str | None = None  # a file path or a URL (workflow.store.files.resolve_url); default: user data dir


class CoachingSettings(Section):
    hours_per_day: float = Field(7.0, ge=1, le=12)  # one day a week of intrapreneur time, in hours (seed 1)
    checkin_edit_days: int = Field(7, ge=1, le=60)  # how long the author may correct a check-in


def _days(raw: Any) -> Any:
    """'30,14,7,1' (any order, repeats) -> (30, 14, 7, 1)."""
    if isinstance(raw, str):
        try:
            raw = {int(x) for x in raw.split(",") if x.strip()}
        except ValueError:
            raise Invalid(N_("give days as numbers, e.g. 30,14,7,1")) from None
    if isinstance(raw, (set, list, tuple)):
        if not raw or any(d < 1 or d > 365 for d in raw):
            raise Invalid(N_("days must be between 1 and 365"))
        return tuple(sorted(set(raw), reverse=True))
    return raw


class ReminderSettings(Section):
    remind_weekday: int = Field(0, ge=0, le=4)  # the weekly reminder's day, 0 = Monday
    remind_at: time = time(9, 0)  # Europe/Paris
    deadline_days: Annotated[tuple[int, ...], NoDecode] = (30, 14, 7, 1)
    committee_days: Annotated[tuple[int, ...], NoDecode] = (7, 1)
    missed_weeks: int = Field(2, ge=1, le=10)

    _parse_days = field_validator("deadline_days", "committee_days", mode="before")(_days)


def _yes(raw: Any) -> Any:
    return {"oui": True, "non": False}.get(raw.strip().lower(), raw) if isinstance(raw, str) else raw


class DeliverySettings(Section):
    smtp_url: str | None = None
    smtp_from: str = "preincub <preincub@localhost>"
    smtp_starttls: bool = False
    smtp_timeout: float = Field(30.0, ge=1, le=600)
    smtp_password: SecretStr | None = None  # from the environment or the env file only; never stored
    webhook_url: SecretStr | None = None  # its path is its token: a secret too
    retry_max: int = Field(5, ge=1, le=100)
    retry_base_seconds: float = Field(60.0, ge=0, le=86400)
    lease_seconds: float = Field(120.0, ge=1, le=86400)

    _parse_yes = field_validator("smtp_starttls", mode="before")(_yes)


class DaemonSettings(Section):
    tick_cron: str = "*/5 * * * *"  # crontab syntax, Europe/Paris


class WebSettings(Section):
    base_url: str | None = None  # e.g. https://preincub.example.org: builds the links in messages
    secret_key: SecretStr | None = None  # signs the links; else a 0600 file in the data dir (workflow.services.links)
    # How many reverse proxies stand before ``serve`` (werkzeug's ProxyFix trusts that many X-Forwarded-For
    # and X-Forwarded-Proto hops): behind TLS, https is then known and the CSRF Referer check runs. 0: none.
    trusted_proxies: int = Field(0, ge=0, le=10)


# Démarches Simplifiées' GraphQL endpoint (API v2); the service is being renamed, hence a setting. The client
# (workflow.formats.ds) keeps the same default: settings load without importing it (and httpx).
DS_URL = "https://www.demarches-simplifiees.fr/api/v2/graphql"
_SPAN = re.compile(r"(\d+)\s*([dhms])", re.IGNORECASE)
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def _every(raw: Any) -> Any:
    """'1h', '30m', '1h30m', '2d' -> a timedelta of at least a minute and at most a week."""
    if isinstance(raw, str):
        text = raw.strip().replace(" ", "")
        if not text or _SPAN.sub("", text):
            raise Invalid(N_("give a duration such as 30m, 1h or 1d"))
        raw = timedelta(seconds=sum(int(n) * _UNIT[u.lower()] for n, u in _SPAN.findall(text)))
    if isinstance(raw, timedelta) and not timedelta(minutes=1) <= raw <= timedelta(days=7):
        raise Invalid(N_("the interval must be between 1 minute and 7 days"))
    return raw


def _demarches(raw: Any) -> Any:
    """'12345=Pré-incubation 2024;67890=Accélération' or a JSON object -> {12345: 'Pré-incubation 2024', ...}."""
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("{"):
            try:
                raw = json.loads(text)
            except ValueError:
                raise Invalid(N_("give NUMBER=PROGRAMME;NUMBER=PROGRAMME or a JSON object")) from None
        else:
            pairs = [part.partition("=") for part in text.split(";") if part.strip()]
            if any(not sep for _n, sep, _p in pairs):
                raise Invalid(N_("give NUMBER=PROGRAMME;NUMBER=PROGRAMME or a JSON object"))
            raw = {n.strip(): p.strip() for n, _sep, p in pairs}
    if isinstance(raw, dict):
        out: dict[int, str] = {}
        for number, programme in raw.items():
            if not str(number).strip().isdigit() or not isinstance(programme, str) or not programme.strip():
                raise Invalid(N_("each démarche is a number with a programme's name: NUMBER=PROGRAMME"))
            out[int(str(number).strip())] = programme.strip()
        return out
    return raw


class DsSettings(Section):
    """Démarches Simplifiées: read as ``settings.ds.url``, ``.token``, ``.every``, ``.demarches``."""

    ds_url: str = DS_URL
    ds_token: SecretStr | None = None  # from the environment or the env file only; never stored or shown
    ds_sync_every: Annotated[timedelta | None, NoDecode] = None  # unset: the daemon does not sync
    ds_demarches: Annotated[dict[int, str], NoDecode] = Field(default_factory=dict)  # the daemon's démarches

    _parse_every = field_validator("ds_sync_every", mode="before")(_every)
    _parse_demarches = field_validator("ds_demarches", mode="before")(_demarches)

    @property
    def url(self) -> str:
        return self.ds_url

    @property
    def token(self) -> str | None:
        """The API token in clear, for the client's Authorization header only."""
        return self.ds_token.get_secret_value() if self.ds_token else None

    @property
    def every(self) -> timedelta | None:
        return self.ds_sync_every

    @property
    def demarches(self) -> dict[int, str]:
        return dict(self.ds_demarches)


def _reply_address(raw: Any) -> Any:
    """``points@programme.example``: a plain address, without a sub-address of its own."""
    if isinstance(raw, str) and raw.strip():
        addr = raw.strip()
        local, at, domain = addr.rpartition("@")
        if not at or not local or "." not in domain or "+" in local or not addr.isascii() or any(
                ch in addr for ch in ' <>"(),;:\\[]') or not addr.isprintable():
            raise Invalid(N_("give a plain e-mail address without a + part, e.g. points@programme.example"))
        return addr
    return raw


def _listen(raw: Any) -> Any:
    """HOST:PORT (``[::1]:8024`` for IPv6) -> (host, port)."""
    if isinstance(raw, str):
        host, sep, port = raw.strip().rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise Invalid(N_("give HOST:PORT, e.g. 127.0.0.1:8024"))
        return host, int(port)
    return raw


class InboxSettings(Section):
    """Check-ins by e-mail reply: read as ``settings.inbox.reply_address``, ``.imap_url`` (the secret URL in
    clear, for the client only), ``.listen``..."""

    reply_address: str | None = None  # points@programme.example: reminders' Reply-To is points+KEY@programme.example
    imap_url: SecretStr | None = None  # imaps://USER:PASSWORD@HOST[:PORT]/FOLDER (imap:// for a local server)
    imap_done_folder: str = "preincub-handled"  # where the poller moves what it handled
    imap_refused_folder: str = "preincub-refused"  # and what it refused or ignored
    imap_every: int = Field(60, ge=5, le=86400)  # seconds between two polls of the daemon (with PREINCUB_IMAP_URL)
    inbox_listen: Annotated[tuple[str, int], NoDecode] = ("127.0.0.1", 8024)  # inbox serve's address

    _parse_reply = field_validator("reply_address", mode="before")(_reply_address)
    _parse_listen = field_validator("inbox_listen", mode="before")(_listen)

    @property
    def imap(self) -> str | None:
        """The IMAP URL in clear, password included: for the client only."""
        return self.imap_url.get_secret_value() if self.imap_url else None

    @property
    def listen(self) -> tuple[str, int]:
        return self.inbox_listen


SECTIONS: dict[str, type[Section]] = {"store": StoreSettings, "coaching": CoachingSettings,
                                      "reminders": ReminderSettings, "delivery": DeliverySettings,
                                      "daemon": DaemonSettings, "web": WebSettings, "ds": DsSettings,
                                      "inbox": InboxSettings}
SECRET_FIELDS = frozenset({"smtp_password", "webhook_url", "secret_key", "ds_token", "imap_url"})
_SECTION_OF = {name: section for section, cls in SECTIONS.items() for name in cls.model_fields}
S = TypeVar("S", bound=Section)


def _bounds(cls: type[Section], field: str) -> tuple[float, float]:
    metadata = cls.model_fields[field].metadata if field else []
    lo = next((m.ge for m in metadata if getattr(m, "ge", None) is not None), float("-inf"))
    return lo, next((m.le for m in metadata if getattr(m, "le", None) is not None), float("inf"))


def _invalid(exc: ValidationError, cls: type[Section]) -> Invalid:
    """The first problem, as one line naming the variable (and its value, unless it is a secret).

    ``setting`` is ``PREINCUB_X='value'`` as the environment would hold it (the value quoted and cut
    here: no placeholder conversion), or the bare name for a secret."""
    err = exc.errors(include_url=False)[0]
    field = str(err["loc"][0]) if err["loc"] else ""
    name = PREFIX + field.upper()
    shown = "" if field in SECRET_FIELDS or "input" not in err else f"={quote(err['input'], 40)}"
    setting, kind = name + shown, err["type"]
    if kind in ("int_parsing", "float_parsing", "int_from_float", "finite_number"):
        return Invalid(N_("{setting} is not a number"), setting=setting)
    if kind in ("greater_than_equal", "less_than_equal"):
        lo, hi = _bounds(cls, field)
        return Invalid(N_("{setting} must be between {low!n} and {high!n}"), setting=setting, low=lo, high=hi)
    if kind.startswith("time"):
        return Invalid(N_("{setting} is not a time; use HH:MM"), setting=setting)
    if kind == "bool_parsing":
        return Invalid(N_("{setting} is not yes or no (1/0, true/false, oui/non)"), setting=setting)
    error = (err.get("ctx") or {}).get("error")
    if isinstance(error, Invalid):  # ours (_days): its sentence, translated
        return Invalid(N_("{setting}: {reason!t}"), setting=setting, reason=error.message)
    # pydantic's own words (English), which the catalog leaves as they are
    return Invalid(N_("{setting}: {reason!t}"), setting=setting, reason=str(err["msg"]).removeprefix("Value error, "))


class Settings:
    """The settings facade: ``settings.delivery.smtp_url``; each section read when first asked for.

    ``values`` override the environment (for callers and tests): ``Settings(smtp_url=...)``,
    ``settings.replace(lease_seconds=1)``.
    """

    def __init__(self, *, env_file: Path | None = None, **values: Any) -> None:
        unknown = set(values) - set(_SECTION_OF)
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        self._values, self._env_file = values, env_file

    @classmethod
    def from_env(cls) -> Settings:
        return cls(env_file=env_file())

    def replace(self, **values: Any) -> Settings:
        return Settings(env_file=self._env_file, **{**self._values, **values})

    def _load(self, name: str, cls: type[S]) -> S:
        given = {k: v for k, v in self._values.items() if _SECTION_OF[k] == name}
        try:
            return cls(_env_file=self._env_file, **given)
        except ValidationError as exc:
            raise _invalid(exc, cls) from None

    @cached_property
    def store(self) -> StoreSettings:
        return self._load("store", StoreSettings)

    @cached_property
    def coaching(self) -> CoachingSettings:
        return self._load("coaching", CoachingSettings)

    @cached_property
    def reminders(self) -> ReminderSettings:
        return self._load("reminders", ReminderSettings)

    @cached_property
    def delivery(self) -> DeliverySettings:
        return self._load("delivery", DeliverySettings)

    @cached_property
    def daemon(self) -> DaemonSettings:
        return self._load("daemon", DaemonSettings)

    @cached_property
    def web(self) -> WebSettings:
        return self._load("web", WebSettings)

    @cached_property
    def ds(self) -> DsSettings:
        return self._load("ds", DsSettings)

    @cached_property
    def inbox(self) -> InboxSettings:
        return self._load("inbox", InboxSettings)

    def __repr__(self) -> str:
        return f"Settings({', '.join(f'{k}=…' for k in sorted(self._values))})"

    # ---- delivery: checked before anything is sent; secrets kept out of every message -------

    @property
    def smtp_password(self) -> str | None:
        pw = self.delivery.smtp_password
        return pw.get_secret_value() if pw else None

    @property
    def webhook_url(self) -> str | None:
        url = self.delivery.webhook_url
        return url.get_secret_value() if url else None

    def check_delivery(self) -> None:
        """Refuse delivery settings that cannot work, before anything is enqueued or sent."""
        d = self.delivery
        if d.smtp_url:
            _check_url("PREINCUB_SMTP_URL", d.smtp_url, ("smtp", "smtps"), "smtp://user@host:587", password=False)
            if "@" not in parseaddr(d.smtp_from)[1]:
                raise Invalid(N_("PREINCUB_SMTP_FROM has no e-mail address (e.g. Pré-incubation "
                                 "<preincub@beta.example>)"))
        if self.webhook_url:
            _check_url("PREINCUB_WEBHOOK_URL", self.webhook_url, ("https", "http"), "https://chat.example/hooks/…")

    def secrets(self) -> list[str]:
        """What must never be shown: the DS API token, the SMTP password (and the base64 forms AUTH sends it in, which a
        server may echo), the webhook URL and the parts of it that may be its token; longest first."""
        found: list[str] = []
        try:
            if token := self.ds.token:
                found.append(token)
        except Invalid:  # unreadable DS settings: their token was not used
            pass
        try:
            if imap := self.inbox.imap:
                found.append(imap)
                u = urlsplit(imap)
                found += [u.password or "", unquote(u.password or "")]
        except (Invalid, ValueError):  # unreadable inbox settings: their URL was not used
            pass
        if pw := self.smtp_password:
            user = ""
            try:
                user = unquote(urlsplit(self.delivery.smtp_url or "").username or "")
            except ValueError:
                pass
            for raw in (pw.encode(), b"\0" + user.encode() + b"\0" + pw.encode()):
                b64 = base64.b64encode(raw).decode()
                found += [b64, b64.rstrip("=")]
            found.append(pw)
        if url := self.webhook_url:
            found.append(url)
            try:
                u = urlsplit(url)
                found += [u.path, u.query, u.password or ""]
                found += [seg for seg in re.split(r"[/;,]", u.path)  # a token: long, or with digits
                          if len(seg) >= 16 or (len(seg) >= 8 and any(ch.isdigit() for ch in seg))]
                found += [v for _, v in parse_qsl(u.query) if v]
            except ValueError:
                pass
        return sorted({s for s in found if s and s != "/"}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ***: for errors, stored last errors and log lines."""
        try:
            secrets = self.secrets()
        except Invalid:  # unreadable delivery settings: nothing of theirs was used, nothing to hide
            return text
        for secret in secrets:
            text = text.replace(secret, "***")
        return text


def _check_url(name: str, url: str, schemes: tuple[str, str], example: str, *, password: bool = True) -> None:
    """Refuse a delivery URL that cannot work, saying which part is wrong without echoing it
    (it may hold a password or, for a webhook, the token that is its only protection)."""
    bad = None  # a catalog msgid
    try:
        u = urlsplit(url.strip())
        host, port = u.hostname, u.port
    except ValueError as exc:  # "[::1" (unbalanced bracket), ":99999", ":abc"
        port_issue = "port" in str(exc).lower()
        bad = N_("its port must be a number from 1 to 65535") if port_issue else N_("it is not a valid URL")
    else:
        if u.scheme not in schemes:
            raise Invalid(N_("{setting} is not usable: it must start with {scheme}:// or {other}:// (e.g. {example})"),
                          setting=name, scheme=schemes[0], other=schemes[1], example=example)
        if not host:
            bad = N_("it names no host")
        elif port is not None and not 1 <= port <= 65535:
            bad = N_("its port must be a number from 1 to 65535")
        elif u.password is not None and not password:
            bad = N_("it holds a password: give it in PREINCUB_SMTP_PASSWORD instead")
    if bad:
        raise Invalid(N_("{setting} is not usable: {reason!t} (e.g. {example})"), setting=name, reason=bad,
                      example=example)
