"""A message ready to send, and the backoff between delivery attempts."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum

CHANNELS = ("console", "email", "chat")  # where a person's reminders may go
_LOCAL = re.compile(r"[A-Za-z0-9.]{1,200}")  # a Message-ID's left side given by the caller


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
    # Where a reply goes (Reply-To): the reply address with this message's signed key, for a message its
    # person may answer by e-mail (the weekly check-in); None: replies go to the sender.
    reply_to: str | None = None
    # The Message-ID's left side, used as is: the library puts the reply key first in it
    # (workflow.rules.replykey.message_id), for servers that drop the reply address's sub-address.
    message_id_local: str | None = None
    # On an answer to a received e-mail: its thread, ids separated by spaces, the answered mail's last
    # (References; the last is In-Reply-To).
    in_reply_to: str | None = None

    def message_id(self, domain: str) -> str:
        """A Message-ID derived from the key, at ``domain`` (the sender's: a real domain, as RFC 5322
        asks): the same reminder always has the same one. ``message_id_local`` replaces its left side
        (letters, digits and dots only: DeliveryError otherwise)."""
        if self.message_id_local is not None:
            if not _LOCAL.fullmatch(self.message_id_local):
                raise DeliveryError("unsafe header value: the Message-ID's left side is not letters, digits and dots")
            return f"<{self.message_id_local}@{domain}>"
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
