"""Delivery: message rendering (templates and the gettext catalog), messages, and channels (console,
SMTP e-mail, chat webhook).

Names are imported on first use (PEP 562), so ``notifications.i18n`` or ``notifications.message``
alone costs neither jinja2 nor smtplib: the CLI's start-up stays light. ``render`` is not one of
them: the submodule ``notifications.render`` would shadow it once imported; take it from there.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "CHANNELS": "message", "DeliveryError": "message", "Message": "message", "OutboxStatus": "message",
    "backoff": "message",
    "Channel": "channels", "ChatChannel": "channels", "ConsoleChannel": "channels", "EmailChannel": "channels",
    "build_email": "channels",
    "UNCONFIGURED": "wiring", "configured": "wiring", "open_channel": "wiring", "unconfigured_reason": "wiring",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'notifications' has no attribute {name!r}")
    value = getattr(import_module(f"notifications.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
