"""Which channels a process can deliver on, and opening one from its settings.

``cfg`` is any object with the delivery settings' attributes (``smtp_url``, ``smtp_from``,
``smtp_password``, ``smtp_starttls``, ``smtp_timeout``, ``webhook_url``): notifications/ imports
nothing from the library that configures it.
"""

from __future__ import annotations

from typing import Any

from notifications.channels import Channel, ChatChannel, ConsoleChannel, EmailChannel
from notifications.i18n import N_
from notifications.message import DeliveryError

# A channel not configured here: (its name, a catalog msgid for a ``{x!t}`` placeholder; the setting
# that configures it).
UNCONFIGURED = {"email": (N_("e-mail"), "PREINCUB_SMTP_URL"),
                "chat": (N_("the chat webhook"), "PREINCUB_WEBHOOK_URL")}
# Why a message on that channel waits here: recorded on the message as is (English), a catalog msgid,
# so a client shows it translated (``translations(lang).gettext(last_error)``).
_REASONS = {"email": N_("e-mail is not configured here (PREINCUB_SMTP_URL)"),
            "chat": N_("the chat webhook is not configured here (PREINCUB_WEBHOOK_URL)")}


def configured(cfg: Any) -> set[str]:
    """The channels this process can deliver on."""
    return {"console"} | ({"email"} if cfg.delivery.smtp_url else set()) | ({"chat"} if cfg.webhook_url else set())


def unconfigured_reason(channel: str) -> str:
    """Why a message on ``channel`` waits here (recorded on the message, read by people): an English
    catalog msgid."""
    return _REASONS[channel]


def open_channel(name: str, cfg: Any) -> Channel:
    """Open ``name`` with the settings ``cfg``; DeliveryError when it is not configured."""
    if name == "email":
        if not cfg.delivery.smtp_url:
            raise DeliveryError(unconfigured_reason("email"))
        d = cfg.delivery
        return EmailChannel(d.smtp_url, d.smtp_from, password=cfg.smtp_password, starttls=d.smtp_starttls,
                            timeout=d.smtp_timeout)
    if name == "chat":
        if not cfg.webhook_url:
            raise DeliveryError(unconfigured_reason("chat"))
        return ChatChannel(cfg.webhook_url, timeout=cfg.delivery.smtp_timeout)
    return ConsoleChannel()
