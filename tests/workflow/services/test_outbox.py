"""The outbox service: a person's channels read from the stored text, the tick's line, listings and retries."""

from __future__ import annotations

from workflow.services.outbox import channels_for


class _P:
    def __init__(self, channels: str | None) -> None:
        self.channels = channels


def test_channels_for_is_cached_per_text_and_gives_a_new_list_each_time():
    assert channels_for(_P(" chat, email ,chat,fax,")) == ["chat", "email"]
    first = channels_for(_P("console"))
    first.append("email")
    assert channels_for(_P("console")) == ["console"]
    assert channels_for(_P(None)) == channels_for(_P("")) == channels_for(_P("fax")) == ["email"]
