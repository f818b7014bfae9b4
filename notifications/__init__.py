"""Delivery: message rendering (fr/en templates), messages, and channels (console, SMTP e-mail, chat webhook)."""

from notifications.channels import CHANNELS, Channel, ChatChannel, ConsoleChannel, EmailChannel, build_email
from notifications.message import DeliveryError, Message, backoff
from notifications.render import render

__all__ = ["CHANNELS", "Channel", "ChatChannel", "ConsoleChannel", "DeliveryError", "EmailChannel", "Message",
           "backoff", "build_email", "render"]
