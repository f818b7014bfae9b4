"""Settings: typed sections read with pydantic-settings, each on first use; secrets stay secret."""

from __future__ import annotations

from datetime import time

import pytest

from workflow.errors import Invalid
from workflow.settings import Settings


def test_the_defaults_are_the_agreements(monkeypatch):
    s = Settings.from_env()
    assert (s.coaching.hours_per_day, s.coaching.checkin_edit_days) == (7.0, 7)
    assert (s.reminders.remind_weekday, s.reminders.remind_at) == (0, time(9, 0))
    assert (s.reminders.deadline_days, s.reminders.committee_days, s.reminders.missed_weeks) == ((30, 14, 7, 1),
                                                                                              (7, 1), 2)
    assert (s.delivery.smtp_url, s.delivery.retry_max, s.delivery.lease_seconds) == (None, 5, 120.0)
    assert s.daemon.tick_cron == "*/5 * * * *" and s.store.db is None


def test_values_are_read_from_the_environment_and_typed(monkeypatch):
    monkeypatch.setenv("PREINCUB_DEADLINE_DAYS", "1,30,7,7")
    monkeypatch.setenv("PREINCUB_REMIND_AT", "08:30")
    monkeypatch.setenv("PREINCUB_SMTP_STARTTLS", "oui")
    monkeypatch.setenv("PREINCUB_HOURS_PER_DAY", "7.5")
    s = Settings.from_env()
    assert s.reminders.deadline_days == (30, 7, 1) and s.reminders.remind_at == time(8, 30)
    assert s.delivery.smtp_starttls is True and s.coaching.hours_per_day == 7.5


@pytest.mark.parametrize("name,value,fragment", [
    ("PREINCUB_HOURS_PER_DAY", "99", "must be between 1 and 12"),
    ("PREINCUB_REMIND_AT", "9h", "PREINCUB_REMIND_AT='9h' is not a time"),
    ("PREINCUB_DEADLINE_DAYS", "a,b", "give days as numbers"),
    ("PREINCUB_COMMITTEE_DAYS", "0", "between 1 and 365"),
    ("PREINCUB_MISSED_WEEKS", "-1", "must be between 1 and 10"),
    ("PREINCUB_SMTP_TIMEOUT", "abc", "PREINCUB_SMTP_TIMEOUT='abc' is not a number"),
])
def test_a_bad_value_is_one_clear_line(monkeypatch, name, value, fragment):
    monkeypatch.setenv(name, value)
    s = Settings.from_env()
    with pytest.raises(Invalid) as e:
        for section in ("coaching", "reminders", "delivery"):
            getattr(s, section)
    assert fragment in e.value.text("en") and name in e.value.text("fr") and "\n" not in e.value.text("en")


def test_each_section_is_read_when_first_used(monkeypatch):
    """A bad delivery setting breaks only what delivers: coaching and reminders still read."""
    monkeypatch.setenv("PREINCUB_SMTP_TIMEOUT", "abc")
    s = Settings.from_env()
    assert s.coaching.hours_per_day == 7.0 and s.reminders.missed_weeks == 2
    with pytest.raises(Invalid, match="PREINCUB_SMTP_TIMEOUT"):
        s.check_delivery()


def test_secrets_are_never_shown(monkeypatch):
    monkeypatch.setenv("PREINCUB_SMTP_PASSWORD", "hunter2-secret")
    monkeypatch.setenv("PREINCUB_WEBHOOK_URL", "https://chat.example/hooks/abcdef0123456789token")
    s = Settings.from_env()
    assert "hunter2" not in repr(s.delivery) and "abcdef0123456789token" not in repr(s.delivery)
    assert "hunter2" not in repr(s)
    assert s.smtp_password == "hunter2-secret"
    assert s.redact("refused hunter2-secret at https://chat.example/hooks/abcdef0123456789token") == \
        "refused *** at ***"


def test_a_bad_secret_is_named_without_its_value(monkeypatch):
    monkeypatch.setenv("PREINCUB_RETRY_MAX", "1000")
    with pytest.raises(Invalid) as e:
        Settings.from_env().delivery
    assert "PREINCUB_RETRY_MAX='1000'" in e.value.text("en")


def test_an_env_file_is_read_after_the_environment(monkeypatch, tmp_path):
    env = tmp_path / "preincub.env"
    env.write_text("PREINCUB_MISSED_WEEKS=3\nPREINCUB_HOURS_PER_DAY=6\nPREINCUB_SMTP_PASSWORD=from-the-file\n")
    env.chmod(0o600)
    monkeypatch.setenv("PREINCUB_ENV_FILE", str(env))
    monkeypatch.setenv("PREINCUB_HOURS_PER_DAY", "7.5")  # the environment wins
    s = Settings.from_env()
    assert s.reminders.missed_weeks == 3 and s.coaching.hours_per_day == 7.5
    assert s.smtp_password == "from-the-file"


def test_values_given_in_code_override_and_replace_keeps_the_rest(monkeypatch):
    monkeypatch.setenv("PREINCUB_RETRY_MAX", "9")
    s = Settings(smtp_url="smtp://127.0.0.1:2525", lease_seconds=5)
    t = s.replace(lease_seconds=1)
    assert (t.delivery.smtp_url, t.delivery.lease_seconds, t.delivery.retry_max) == ("smtp://127.0.0.1:2525", 1.0, 9)
    assert s.delivery.lease_seconds == 5.0
    with pytest.raises(TypeError, match="unknown settings: nope"):
        Settings(nope=1)
