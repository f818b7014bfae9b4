"""A message ready to send: its Message-ID, its statuses, and the backoff between attempts."""

from __future__ import annotations

import pytest

from notifications.message import (CHANNELS, DeliveryError, Message, OutboxStatus,
                                   PermanentDeliveryError, backoff)


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n, 60) for n in range(1, 8)] == [60, 120, 240, 480, 960, 1920, 3600]
    assert backoff(0, 60) == 60
    assert backoff(30, 60) == 3600  # a long outage is retried hourly: its end is noticed within the hour
    assert backoff(3, 0) == 0


def test_the_message_id_follows_the_key_only():
    a = Message("coaching:1:2020-W29:p2:email", "a@example.org", "A", "S", "t", "<p>t</p>")
    same_key = Message("coaching:1:2020-W29:p2:email", "b@example.org", "B", "Autre", "u", "<p>u</p>", lang="en")
    other = Message("coaching:1:2020-W30:p2:email", "a@example.org", "A", "S", "t", "<p>t</p>")
    d = "programme.example"
    assert a.message_id(d) == same_key.message_id(d) != other.message_id(d)
    assert a.message_id(d).startswith("<") and a.message_id(d).endswith("@programme.example>")
    assert len(a.message_id(d)) == 1 + 40 + 1 + len(d) + 1


def test_a_permanent_refusal_is_still_a_delivery_error():
    assert issubclass(PermanentDeliveryError, DeliveryError)
    assert not issubclass(DeliveryError, PermanentDeliveryError)


def test_statuses_are_stored_as_their_plain_values():
    assert [s.value for s in OutboxStatus] == ["pending", "sending", "sent", "failed", "cancelled"]
    assert OutboxStatus.SENT == "sent" and f"{OutboxStatus.FAILED}" == "failed"
    assert "email" in CHANNELS and "console" in CHANNELS


def test_a_given_left_side_makes_the_message_id_and_only_a_plain_one():
    a = Message("coaching:1:2020-W29:p2:email", "a@example.org", "A", "S", "t", "<p>t</p>",
                message_id_local="abc234.0123456789abcdef")
    assert a.message_id("programme.example") == "<abc234.0123456789abcdef@programme.example>"
    # The fields added for replies leave every other caller's message as it was.
    plain = Message("coaching:1:2020-W29:p2:email", "a@example.org", "A", "S", "t", "<p>t</p>")
    assert (plain.reply_to, plain.message_id_local, plain.in_reply_to) == (None, None, None)
    for bad in ("", "a@b", "a>\r\nBcc: x@example.org", "a b", "é", "x" * 201):
        m = Message("k", "a@example.org", "A", "S", "t", "<p>t</p>", message_id_local=bad)
        with pytest.raises(DeliveryError, match="Message-ID"):
            m.message_id("programme.example")
