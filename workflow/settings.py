"""Settings read from the environment, with the agreements' defaults. Secrets never leave here."""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field
from datetime import time
from email.utils import parseaddr
from urllib.parse import parse_qsl, unquote, urlsplit

from workflow.errors import Invalid, quote


def _float(name: str, default: float, low: float, high: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise Invalid(f"{name}={quote(raw)} is not a number", f"{name}={quote(raw)} n'est pas un nombre") from None
    if not low <= value <= high:
        raise Invalid(f"{name} must be between {low:g} and {high:g}", f"{name} doit être entre {low:g} et {high:g}")
    return value


def _days(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        days = tuple(sorted({int(x) for x in raw.split(",") if x.strip()}, reverse=True))
    except ValueError:
        raise Invalid(f"{name}={quote(raw)}: give days as numbers, e.g. 30,14,7,1",
                      f"{name}={quote(raw)} : donnez des nombres de jours, par ex. 30,14,7,1") from None
    if not days or any(d < 1 or d > 365 for d in days):
        raise Invalid(f"{name}: days must be between 1 and 365", f"{name} : les jours vont de 1 à 365")
    return days


def _hour(name: str, default: time) -> time:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return time.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{name}={quote(raw)} is not a time; use HH:MM",
                      f"{name}={quote(raw)} n'est pas une heure ; utilisez HH:MM") from None


def _check_url(name: str, url: str, schemes: tuple[str, ...], example: str, *, password: bool = True) -> None:
    """Refuse a delivery URL that cannot work, saying which part is wrong without echoing it
    (it may hold a password or, for a webhook, the token that is its only protection)."""
    bad = None
    try:
        u = urlsplit(url.strip())
        host, port = u.hostname, u.port
    except ValueError as exc:  # "[::1" (unbalanced bracket), ":99999", ":abc"
        port_issue = "port" in str(exc).lower()
        bad = (("its port must be a number from 1 to 65535", "son port doit être un nombre de 1 à 65535")
               if port_issue else ("it is not a valid URL", "ce n'est pas une URL valide"))
    else:
        if u.scheme not in schemes:
            bad = (f"it must start with {' or '.join(s + '://' for s in schemes)}",
                   f"elle doit commencer par {' ou '.join(s + '://' for s in schemes)}")
        elif not host:
            bad = ("it names no host", "elle ne nomme aucun hôte")
        elif port is not None and not 1 <= port <= 65535:
            bad = ("its port must be a number from 1 to 65535", "son port doit être un nombre de 1 à 65535")
        elif u.password is not None and not password:
            bad = ("it holds a password: give it in PREINCUB_SMTP_PASSWORD instead",
                   "elle contient un mot de passe : donnez-le plutôt dans PREINCUB_SMTP_PASSWORD")
    if bad:
        raise Invalid(f"{name} is not usable: {bad[0]} (e.g. {example})",
                      f"{name} est inutilisable : {bad[1]} (par ex. {example})")


@dataclass(frozen=True)
class Settings:
    hours_per_day: float = 7.0  # one day a week of intrapreneur time, in hours (seed 1)
    checkin_edit_days: int = 7  # how long the author may correct a check-in
    # Reminders (DESIGN.md, "Reminders and the daemon").
    weekly_weekday: int = 0  # Monday
    remind_at: time = time(9, 0)  # Europe/Paris
    deadline_days: tuple[int, ...] = (30, 14, 7, 1)
    committee_days: tuple[int, ...] = (7, 1)
    missed_weeks: int = 2
    # Delivery.
    smtp_url: str | None = None
    smtp_from: str = "preincub <preincub@localhost>"
    smtp_starttls: bool = False
    smtp_timeout: float = 30.0
    webhook_url: str | None = None
    retry_max: int = 5
    retry_base_seconds: float = 60.0
    lease_seconds: float = 120.0
    tick_cron: str = "*/5 * * * *"
    smtp_password: str | None = field(default=None, repr=False)  # from the environment only; never stored
    # Delivery settings that could not be read, as (en, fr): reported by check_delivery() only, so a
    # bad PREINCUB_RETRY_MAX stops `remind run` and the daemon but never `status`.
    problems: tuple[tuple[str, str], ...] = ()

    def check_delivery(self) -> None:
        """Refuse delivery settings that cannot work, before anything is enqueued or sent."""
        if self.problems:
            raise Invalid(*self.problems[0])
        if self.smtp_url:
            _check_url("PREINCUB_SMTP_URL", self.smtp_url, ("smtp", "smtps"), "smtp://user@host:587", password=False)
            if "@" not in parseaddr(self.smtp_from)[1]:
                raise Invalid("PREINCUB_SMTP_FROM has no e-mail address (e.g. Pré-incubation <preincub@beta.example>)",
                              "PREINCUB_SMTP_FROM ne contient pas d'adresse e-mail "
                              "(par ex. Pré-incubation <preincub@beta.example>)")
        if self.webhook_url:
            _check_url("PREINCUB_WEBHOOK_URL", self.webhook_url, ("https", "http"), "https://chat.example/hooks/…")

    def secrets(self) -> list[str]:
        """What must never be shown: the SMTP password (and the base64 forms AUTH sends it in, which a
        server may echo), the webhook URL and the parts of it that may be its token; longest first."""
        found: list[str] = []
        if self.smtp_password:
            pw = self.smtp_password
            user = ""
            try:
                user = unquote(urlsplit(self.smtp_url or "").username or "")
            except ValueError:
                pass
            for raw in (pw.encode(), b"\0" + user.encode() + b"\0" + pw.encode()):
                b64 = base64.b64encode(raw).decode()
                found += [b64, b64.rstrip("=")]
            found.append(pw)
        if self.webhook_url:
            found.append(self.webhook_url)
            try:
                u = urlsplit(self.webhook_url)
                found += [u.path, u.query, u.password or ""]
                found += [seg for seg in re.split(r"[/;,]", u.path)  # a token: long, or with digits
                          if len(seg) >= 16 or (len(seg) >= 8 and any(ch.isdigit() for ch in seg))]
                found += [v for _, v in parse_qsl(u.query) if v]
            except ValueError:
                pass
        return sorted({s for s in found if s and s != "/"}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ***: for errors, stored last errors and log lines."""
        for secret in self.secrets():
            text = text.replace(secret, "***")
        return text

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ.get
        problems: list[tuple[str, str]] = []

        def delivery(name: str, default: float, low: float, high: float) -> float:
            try:
                return _float(name, default, low, high)
            except Invalid as exc:
                problems.append((exc.en, exc.fr))
                return default

        return cls(
            hours_per_day=_float("PREINCUB_HOURS_PER_DAY", 7.0, 1, 12),
            weekly_weekday=int(_float("PREINCUB_REMIND_WEEKDAY", 0, 0, 4)),
            remind_at=_hour("PREINCUB_REMIND_AT", time(9, 0)),
            deadline_days=_days("PREINCUB_DEADLINE_DAYS", (30, 14, 7, 1)),
            committee_days=_days("PREINCUB_COMMITTEE_DAYS", (7, 1)),
            missed_weeks=int(_float("PREINCUB_MISSED_WEEKS", 2, 1, 10)),
            smtp_url=env("PREINCUB_SMTP_URL") or None,
            smtp_from=env("PREINCUB_SMTP_FROM") or "preincub <preincub@localhost>",
            smtp_starttls=(env("PREINCUB_SMTP_STARTTLS") or "").lower() in ("1", "yes", "true", "oui"),
            smtp_timeout=delivery("PREINCUB_SMTP_TIMEOUT", 30.0, 1, 600),
            webhook_url=env("PREINCUB_WEBHOOK_URL") or None,
            retry_max=int(delivery("PREINCUB_RETRY_MAX", 5, 1, 100)),
            retry_base_seconds=delivery("PREINCUB_RETRY_BASE_SECONDS", 60.0, 0, 86400),
            lease_seconds=delivery("PREINCUB_LEASE_SECONDS", 120.0, 1, 86400),
            tick_cron=env("PREINCUB_TICK_CRON") or "*/5 * * * *",
            smtp_password=env("PREINCUB_SMTP_PASSWORD") or None,
            problems=tuple(problems),
        )
