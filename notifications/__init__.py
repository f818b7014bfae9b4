"""Delivery: message rendering (templates and the gettext catalog), messages, and channels (console,
SMTP e-mail, chat webhook), and the documents people read.

Each module is imported by its own name (``notifications.channels``, ``notifications.render``…), so
``notifications.i18n`` alone costs neither jinja2 nor smtplib. The message's names are here too,
being light: ``from notifications import Message``.
"""

from notifications.message import CHANNELS, DeliveryError, Message, OutboxStatus, backoff

__all__ = ["CHANNELS", "DeliveryError", "Message", "OutboxStatus", "backoff"]
