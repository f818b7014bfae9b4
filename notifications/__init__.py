"""Delivery: message rendering (fr/en templates), messages, and channels (console, SMTP e-mail, chat webhook)."""

from notifications.channels import CHANNELS, Channel, ChatChannel, ConsoleChannel, EmailChannel, build_email
from notifications.message import DeliveryError, Message, backoff
from notifications.render import render
from notifications.wiring import UNCONFIGURED, configured, open_channel, unconfigured_reason

__all__ = ["CHANNELS", "Channel", "ChatChannel", "ConsoleChannel", "DeliveryError", "EmailChannel", "Message",
           "UNCONFIGURED", "backoff", "build_email", "configured", "open_channel", "render",
           "unconfigured_reason"]
