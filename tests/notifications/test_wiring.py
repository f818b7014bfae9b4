"""Which channels this process can deliver on, why a message on another waits, and opening a channel
from the settings (a missing setting is a delivery error, not a crash)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from notifications.channels import ChatChannel, ConsoleChannel, EmailChannel
from notifications.message import DeliveryError
from notifications.wiring import UNCONFIGURED, configured, open_channel, unconfigured_reason


def cfg(**values) -> SimpleNamespace:
    """The settings as wiring reads them: the delivery section, and the secrets unwrapped."""
    base = {"smtp_url": None, "smtp_from": "preincub@example.org", "smtp_password": None, "smtp_starttls": False,
            "smtp_timeout": 5.0, "webhook_url": None}
    v = {**base, **values}
    secrets = {k: v.pop(k) for k in ("smtp_password", "webhook_url")}
    return SimpleNamespace(delivery=SimpleNamespace(**v), **secrets)


def test_the_console_always_and_the_others_once_configured():
    assert configured(cfg()) == {"console"}
    assert configured(cfg(smtp_url="smtp://localhost:25")) == {"console", "email"}
    assert configured(cfg(webhook_url="https://chat.example/hook")) == {"console", "chat"}
    assert set(UNCONFIGURED) == {"email", "chat"}


def test_the_reason_names_the_setting():
    assert "PREINCUB_SMTP_URL" in unconfigured_reason("email")
    assert "PREINCUB_WEBHOOK_URL" in unconfigured_reason("chat")


def test_open_channel_by_name_or_a_delivery_error():
    assert isinstance(open_channel("console", cfg()), ConsoleChannel)
    assert isinstance(open_channel("email", cfg(smtp_url="smtp://localhost:25")), EmailChannel)
    assert isinstance(open_channel("chat", cfg(webhook_url="https://chat.example/hook")), ChatChannel)
    for name in ("email", "chat"):
        with pytest.raises(DeliveryError, match=UNCONFIGURED[name][1]):
            open_channel(name, cfg())
