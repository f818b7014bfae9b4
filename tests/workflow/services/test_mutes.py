"""Stopping reminders: the one-click link a real SMTP server receives (read back by Python's strict e-mail
parser), posted as a mail provider posts it, and the next tick; ``person edit --mute/--unmute`` through
the CLI on a real store; what coordinators cannot stop."""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import timedelta

import sqlalchemy as sa

from notifications import i18n
from tests.cli_helpers import fails, invoke, ok
from tests.conftest import COORD, paris
from tests.delivery_fixtures import TICK, configure, investigation, person_id, run_cli
from workflow.clock import FixedClock
from workflow.rules import due
from workflow.services.mutes import Mutes
from workflow.store.models import Event, PersonMute

KEY = "test-secret-key-0123456789abcdef"
BASE = "https://preincub.example.org"
COACH, COACH2 = "coach@example.org", "coach2@example.org"
DEADLINE_J30 = paris(2020, 11, 23, 10, 0)  # the programme signed 2020-06-23 ends 2020-12-23: J-30 is due
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def strict(raw: bytes):
    parsed = email.message_from_bytes(raw, policy=email.policy.strict)
    assert not parsed.defects
    return parsed


def footer_of(mail) -> str:
    """The plain part's footer: what follows its "-- " line."""
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.count("\n-- \n") == 1
    return text.split("\n-- \n")[-1]


def two_coaches(wf, smtpd, **settings):
    """Teams Alpha (coach@) and Beta (coach2@) in investigation, e-mail to ``smtpd``, links at BASE. The
    coaches and the coordinator read English: the footers' words are checked here, the catalog's elsewhere."""
    wf.directory.add_person("Coach Un", COACH, ["coach"], lang="en")
    wf.directory.add_person("Coach Deux", COACH2, ["coach"], lang="en")
    wf.directory.edit_person(COORD, lang="en")
    wf, _ = investigation(wf, [("Alpha", COACH), ("Beta", COACH2)])
    return configure(wf, smtp_url=smtpd.url, smtp_from="preincub <bot@preincub.example>",
                     **{"base_url": BASE, "secret_key": KEY, **settings})


def mutes(wf) -> set[tuple[str, str]]:
    from workflow.store.models import Person

    with wf.store.read() as s:
        return set(s.execute(sa.select(Person.email, PersonMute.kind).join(Person, Person.id == PersonMute.person_id)))


def test_one_click_in_the_header_stops_that_kind_for_that_person_from_the_next_tick(wf, smtpd):
    from web import create_app

    wf = two_coaches(wf, smtpd)
    assert wf.reminders.tick().sent == 2
    (received,) = smtpd.to(COACH)
    mail = strict(received.raw)
    url = re.fullmatch(r"<(https://preincub\.example\.org/unsubscribe/[\w.-]+)>", mail["List-Unsubscribe"]).group(1)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The footer, in both parts, carries the same link, after why the coach receives it.
    footer = footer_of(mail)
    assert footer.endswith(f"\n{url}\n") and '"Alpha"' in footer
    assert f'<a href="{url}">' in mail.get_body(("html",)).get_content()

    app = create_app(wf, testing=True)
    path = url.removeprefix(BASE)
    page = app.test_client().get(path)  # a mail scanner follows it: nothing is muted
    assert page.status_code == 200 and 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert mutes(wf) == set()
    # What a mail provider sends: the RFC 8058 body, no cookie, no CSRF token.
    r = app.test_client().post(path, data=ONE_CLICK, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and "Set-Cookie" not in r.headers
    assert mutes(wf) == {(COACH, "coaching")}
    assert app.test_client().post(path, data=ONE_CLICK).status_code == 200  # twice: still done, once
    assert mutes(wf) == {(COACH, "coaching")}
    with wf.store.read() as s:
        (data,) = [json.loads(d) for d in s.execute(sa.select(Event.data).where(Event.action == "person.mute"))
                   .scalars()]
    assert data["email"] == COACH and data["mute"] == ["coaching"] and data["via"] == "web"

    # The next week: the other coach's reminder only.
    wf.at(FixedClock(TICK + timedelta(days=7))).reminders.tick()
    assert [r.rcpt_tos for r in smtpd.received[2:] if r.msg["X-Preincub-Key"].startswith("coaching:")] == [[COACH2]]


def test_a_tampered_or_revoked_or_other_kind_of_link_mutes_nothing(wf, smtpd):
    from web import create_app
    from workflow.services.links import sign

    wf = two_coaches(wf, smtpd)
    pid = person_id(wf, COACH)
    url = Mutes(wf.ctx).url(pid, 0, "coaching", TICK)
    client = create_app(wf, testing=True).test_client()
    path = url.removeprefix(BASE)
    head, _, signature = path.rpartition(".")
    tampered = head + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    assert client.post(tampered, data=ONE_CLICK).status_code == 400
    checkin = sign(KEY, wf.clock, "checkin", pid, 0, 1, "2020-W29")  # a valid link of another kind
    assert client.post(f"/unsubscribe/{checkin}", data=ONE_CLICK).status_code == 400
    assert client.post(path, data={"List-Unsubscribe": "yes"}).status_code == 400  # not the one-click body
    old = create_app(wf.at(FixedClock(TICK + timedelta(days=366))), testing=True).test_client()
    assert old.post(path, data=ONE_CLICK).status_code == 410  # a year on: expired
    wf.links.revoke(COACH)  # an older generation: gone
    assert client.get(path).status_code == 410
    assert client.post(path, data=ONE_CLICK).status_code == 410
    assert mutes(wf) == set()


def test_coordinators_deadline_carries_no_link_and_cannot_be_muted(wf, smtpd, db_url):
    wf = two_coaches(wf, smtpd)
    wf = wf.at(FixedClock(DEADLINE_J30))
    wf.reminders.tick()
    deadline = {r.rcpt_tos[0]: strict(r.raw) for r in smtpd.received if "deadline:" in r.msg["X-Preincub-Key"]}
    assert set(deadline) == {COORD, COACH, COACH2, "agent0@example.org", "agent1@example.org"}
    coordinator = deadline[COORD]
    assert coordinator["List-Unsubscribe"] is None and coordinator["List-Unsubscribe-Post"] is None
    assert "cannot be stopped" in footer_of(coordinator)
    assert "/unsubscribe/" not in coordinator.get_body(("html",)).get_content()
    # To a coach, the same reminder may be stopped.
    assert deadline[COACH]["List-Unsubscribe"].startswith(f"<{BASE}/unsubscribe/")
    wf.close()
    line = fails(run_cli("person", "edit", COORD, "--mute", "deadline", db=db_url, env={"PREINCUB_LANG": "en"}),
                 1, "cannot be muted")
    assert COORD in line
    fails(run_cli("person", "edit", COACH, "--mute", "notice_terminable", db=db_url, env={"PREINCUB_LANG": "en"}),
          1, "cannot be muted")
    shown = json.loads(ok(run_cli("person", "show", COORD, "--json", db=db_url)).stdout)
    assert shown["muted"] == []


def test_person_edit_mute_and_unmute_through_the_cli(wf, smtpd, db_url):
    two_coaches(wf, smtpd)
    wf.close()
    en = {"PREINCUB_LANG": "en"}

    def muted(addr: str) -> list[str]:
        return json.loads(ok(run_cli("person", "show", addr, "--json", db=db_url)).stdout)["muted"]

    r = ok(run_cli("person", "edit", COACH, "--mute", "coaching", "--mute", "committee_soon", db=db_url, env=en))
    assert "Muted reminders: weekly check-in, committee soon" in r.stdout  # named, as the JSON's ids are not
    assert muted(COACH) == ["coaching", "committee_soon"] and muted(COACH2) == []
    assert "Muted reminders: weekly check-in, committee soon" in ok(run_cli("person", "show", COACH, db=db_url,
                                                                             env=en)).stdout
    ok(run_cli("person", "edit", COACH, "--unmute", "coaching", db=db_url))
    assert muted(COACH) == ["committee_soon"]
    # all: every kind they may stop (a coach: not what only coordinators receive)
    ok(run_cli("person", "edit", COACH, "--mute", "all", db=db_url))
    assert muted(COACH) == ["coaching", "committee_soon", "deadline", "missed_coaching"]
    ok(run_cli("person", "edit", COORD, "--mute", "all", db=db_url))
    assert muted(COORD) == ["coaching", "committee_soon", "missed_coaching"]  # never the deadline
    ok(run_cli("person", "edit", COACH, "--unmute", "all", db=db_url))
    assert muted(COACH) == []
    # Bad input: one line, nothing changed.
    fails(run_cli("person", "edit", COACH, "--mute", "coaching", "--unmute", "coaching", db=db_url, env=en), 1,
          "weekly check-in")
    fails(run_cli("person", "edit", COACH, "--mute", "holidays", db=db_url, env=en), 2, "holidays")
    assert muted(COACH) == []
    # Scoped like every person edit: a coach edits no one.
    fails(invoke("person", "edit", COACH2, "--mute", "coaching", db=db_url, actor=COACH, lang="en"), 1)
    assert muted(COACH2) == []


def test_french_output_names_the_kinds_and_json_keeps_their_ids(wf, smtpd, db_url):
    """`person show` / `person edit` and the refusals name each kind as the catalog does, never by its id."""
    two_coaches(wf, smtpd)
    wf.close()
    fr = {"PREINCUB_LANG": "fr"}
    names = [i18n.text("fr", due.REMINDER_NAMES[k]) for k in ("coaching", "committee_soon")]
    edited = ok(run_cli("person", "edit", COACH, "--mute", "coaching", "--mute", "committee_soon", db=db_url, env=fr))
    shown = ok(run_cli("person", "show", COACH, db=db_url, env=fr)).stdout
    for out in (edited.stdout, shown):
        (line,) = [x for x in out.splitlines() if x.startswith(i18n.text("fr", "Muted reminders"))]
        assert line.endswith(", ".join(names)) and "coaching" not in line, line
    assert names[0] == "point hebdomadaire"
    assert json.loads(ok(run_cli("person", "show", COACH, "--json", db=db_url)).stdout)["muted"] == [
        "coaching", "committee_soon"]
    deadline = i18n.text("fr", due.REMINDER_NAMES["deadline"])
    refused = fails(run_cli("person", "edit", COORD, "--mute", "deadline", db=db_url, env=fr), 1, deadline)
    assert "deadline messages" not in refused
    line = fails(run_cli("person", "edit", COACH, "--mute", "notice_terminable", db=db_url, env=fr), 1,
                 i18n.text("fr", due.REMINDER_NAMES["notice_terminable"]))
    assert "notice_terminable" not in line


def test_a_mute_from_the_cli_is_audited_and_honoured_by_the_next_tick(wf, smtpd):
    wf = two_coaches(wf, smtpd)
    wf.directory.edit_person(COACH, mute=["coaching"])
    with wf.store.read() as s:
        data = json.loads(s.execute(sa.select(Event.data).where(Event.action == "person.edit")
                                    .order_by(Event.id.desc())).scalars().first())
    assert (data["email"], data["mute"], data["unmute"]) == (COACH, ["coaching"], [])
    assert [p.to for p in wf.reminders.preview(TICK)] == [COACH2]
    assert wf.reminders.tick().enqueued == 1 and [r.rcpt_tos for r in smtpd.received] == [[COACH2]]


def test_without_a_base_url_no_header_and_the_footer_says_who_to_ask(wf, smtpd):
    wf = two_coaches(wf, smtpd, base_url=None)
    wf = wf.at(FixedClock(DEADLINE_J30))
    wf.reminders.tick()
    for r in smtpd.received:
        mail = strict(r.raw)
        assert mail["List-Unsubscribe"] is None
        footer = footer_of(mail)
        assert "https://" not in footer
        if r.rcpt_tos == [COACH] and mail["X-Preincub-Key"].startswith("coaching:"):
            assert "ask a coordinator" in footer and "preincub" not in footer  # a coach has no `person edit`
        if r.rcpt_tos == [COORD] and mail["X-Preincub-Key"].startswith("missed:"):
            assert f"preincub person edit {COORD} --mute missed_coaching" in footer


def test_why_each_reader_receives_a_reminder():
    """The role each recipient is told, and whether they may stop it."""
    assert due.mutable("coaching", "coordinator") and due.mutable("deadline", "coach")
    assert not any(due.mutable(k, "coordinator") for k in ("deadline", "deadline_passed", "notice_terminable"))
    d = due.Due("deadline:1:J-7", "deadline", TICK, TICK, (1, 2, 3), programme_id=1, context={"programme": "P"},
                roles={2: ("coach", "Alpha"), 3: ("partner", "Beta")})
    assert [d.why(p) for p in (1, 2, 3)] == [("coordinator", None), ("coach", "Alpha"), ("partner", "Beta")]
    c = due.Due("coaching:1:2020-W29", "coaching", TICK, TICK, (2,), team_id=1, programme_id=1,
                context={"programme": "P", "team": "Alpha"}, role="coach")
    assert c.why(2) == ("coach", "Alpha")
