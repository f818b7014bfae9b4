"""A message ready to send, and the backoff between delivery attempts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

CHANNELS = ("console", "email", "chat")  # where a person's reminders may go


@dataclass(frozen=True)
class Message:
    key: str  # the idempotency key: receivers drop duplicates on it
    recipient: str  # e-mail address
    recipient_name: str
    subject: str
    text: str
    html: str
    lang: str = "fr"
    # The one-click link that stops this kind of message for its person (RFC 8058); None for a message
    # that cannot be stopped, or when no PREINCUB_BASE_URL makes web links.
    unsubscribe: str | None = None

    def message_id(self, domain: str) -> str:
        """A Message-ID derived from the key, at ``domain`` (the sender's: a real domain, as RFC 5322
        asks): the same reminder always has the same one."""
        return f"<{hashlib.sha256(self.key.encode()).hexdigest()[:40]}@{domain}>"


class DeliveryError(Exception):
    """The channel did not accept the message; the outbox retries it later."""


class PermanentDeliveryError(DeliveryError):
    """The channel refused this message for good (an SMTP 5xx reply for its recipient or its content):
    no retry can change that, so the outbox fails it at once, with the reply."""


RETRY_CAP_SECONDS = 3600.0  # an outage of days is retried hourly, so recovery is noticed within the hour


def backoff(attempts: int, base_seconds: float, cap_seconds: float = RETRY_CAP_SECONDS) -> float:
    """Seconds to wait after ``attempts`` failed attempts: base, 2 base, 4 base... up to a cap."""
    return min(cap_seconds, base_seconds * 2 ** max(0, attempts - 1))


class OutboxStatus(StrEnum):
    """Where a message is: waiting, being sent by a deliverer, sent, given up, or cancelled by a person.

    Stored as its value; SQL statements bind ``.value`` (a plain string for every driver).
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
