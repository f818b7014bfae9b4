"""The one-click unsubscribe link (RFC 8058) on the demo: a GET shows a button and the choice of every kind
its person may stop, and writes nothing; the POST a mail provider sends (no cookie, no CSRF token) mutes; the
page's form sets the choice, both ways, never for a kind its person may not stop; every other form keeps its
CSRF check."""

from __future__ import annotations

import json
import re

import sqlalchemy as sa

from notifications import i18n
from tests.web.helpers import BASE, COORD, JULIEN, NOW, checkin_url, ids
from workflow.rules.due import REMINDER_NAMES
from workflow.services.mutes import Mutes
from workflow.store.models import Event, PersonMute

ONE_CLICK = {"List-Unsubscribe": "One-Click"}
BOX = re.compile(r'<input type="checkbox" id="receive-(\w+)" name="receive" value="\1"( checked)?>')


def boxes(html: str) -> dict[str, bool]:
    """The page's choice: kind -> ticked (receive)."""
    return {kind: bool(checked) for kind, checked in BOX.findall(html)}


def choose(client, path: str, *receive: str):
    """The page's form as a browser posts it: ``choice=1`` and one ``receive`` per ticked box."""
    return client.post(path, data={"choice": "1", "receive": list(receive)})


def written(wf) -> tuple[int, set[tuple[int, str]]]:
    """The events' count and every mute: what a GET must leave as it found it."""
    with wf.store.read() as s:
        return (s.execute(sa.select(sa.func.count()).select_from(Event)).scalar_one(),
                set(s.execute(sa.select(PersonMute.person_id, PersonMute.kind))))


def mute_events(wf) -> list[dict]:
    with wf.store.read() as s:
        return [json.loads(d) for d in s.execute(sa.select(Event.data).where(Event.action == "person.mute")
                                                 .order_by(Event.id)).scalars()]


def link(wf, email: str = JULIEN, kind: str = "coaching", gen: int = 0) -> str:
    pid, _ = ids(wf, email)
    return Mutes(wf.ctx).url(pid, gen, kind, NOW).removeprefix(BASE)


def test_get_shows_a_button_and_mutes_nothing(wf, client):
    r = client.get(link(wf))
    assert r.status_code == 200
    assert '<form method="post">' in r.text and 'name="List-Unsubscribe" value="One-Click"' in r.text
    assert JULIEN in r.text and r.headers["Cache-Control"] == "no-store"
    assert wf.directory.person(JULIEN).muted == ()


def test_the_one_click_post_mutes_without_cookie_or_csrf_token(wf, app):
    path = link(wf, kind="committee_soon")
    r = app.test_client().post(path, data=ONE_CLICK)
    assert r.status_code == 200, r.text
    assert wf.directory.person(JULIEN).muted == ("committee_soon",)
    # the page says so; the form now says it is done
    assert 'name="List-Unsubscribe"' not in app.test_client().get(path).text
    # the exemption is that POST's alone: a check-in form without its token is still refused
    assert app.test_client().post(checkin_url(wf), data={"notes": "x"}).status_code == 400


def test_a_bad_body_or_link_is_refused_and_writes_nothing(wf, client):
    path = link(wf)
    assert client.post(path, data={}).status_code == 400
    assert client.post(path + "x", data=ONE_CLICK).status_code == 400
    assert client.post("/unsubscribe/not-a-token", data=ONE_CLICK).status_code == 400
    assert client.post(link(wf, gen=1), data=ONE_CLICK).status_code == 410  # another generation
    assert client.put(path, data=ONE_CLICK).status_code == 405
    assert wf.directory.person(JULIEN).muted == ()


def test_hostile_names_are_escaped_on_the_page(wf, client):
    wf.directory.edit_person(JULIEN, name='<script>alert(1)</script> "J"')
    r = client.get(link(wf))
    assert r.status_code == 200 and "<script>alert" not in r.text and "&lt;script&gt;" in r.text


def test_the_choice_form_mutes_and_unmutes_exactly_as_ticked(wf, app):
    wf.directory.edit_person(JULIEN, lang="en")  # the page's words are checked here, the catalog's below
    path = link(wf)
    before = written(wf)
    page = app.test_client().get(path).text
    assert written(wf) == before  # a GET writes nothing, not even an event
    # A coach may stop every kind but those only coordinators receive; they receive them all, all ticked.
    assert boxes(page) == {"coaching": True, "missed_coaching": True, "deadline": True, "committee_soon": True}
    # The form posts with no cookie and no CSRF token: the signed link is the proof.
    r = choose(app.test_client(), path, "deadline", "committee_soon")
    assert r.status_code == 200, r.text
    assert wf.directory.person(JULIEN).muted == ("coaching", "missed_coaching")
    assert boxes(r.text) == {"coaching": False, "missed_coaching": False, "deadline": True, "committee_soon": True}
    # The confirmation lists what they now receive and what they do not.
    receive, stopped = (re.search(rf"<h2>{h}</h2>\n<ul>(.*?)</ul>", r.text).group(1)
                        for h in ("You receive", "You no longer receive"))
    assert receive == "<li>programme deadline</li><li>committee soon</li>"
    assert stopped == "<li>weekly check-in</li><li>missed check-in</li>"
    # Taken back from the same page: no coordinator needed.
    assert choose(app.test_client(), path, "coaching", "missed_coaching", "deadline").status_code == 200
    assert wf.directory.person(JULIEN).muted == ("committee_soon",)
    events = mute_events(wf)
    assert [(e["mute"], e["unmute"], e["by"], e["via"]) for e in events] == [
        (["coaching", "missed_coaching"], [], "link", "web"), (["committee_soon"], ["coaching", "missed_coaching"],
                                                                "link", "web")]
    # The same choice again changes nothing, and says so in no event.
    assert choose(app.test_client(), path, "coaching", "missed_coaching", "deadline").status_code == 200
    assert len(mute_events(wf)) == 2 and wf.directory.person(JULIEN).muted == ("committee_soon",)
    # Everything ticked: they receive everything again.
    choose(app.test_client(), path, *boxes(page))
    assert wf.directory.person(JULIEN).muted == ()


def test_a_coordinator_is_never_offered_nor_given_the_deadline(wf, app):
    pid, _ = ids(wf, COORD)
    wf.directory.edit_person(COORD, lang="en")
    path = link(wf, email=COORD)
    page = app.test_client().get(path).text
    assert boxes(page) == {"coaching": True, "missed_coaching": True, "committee_soon": True}
    assert "you always receive the reminders of your programme's deadline" in page
    # The missing deadline box does not stop it.
    assert choose(app.test_client(), path).status_code == 200
    assert wf.directory.person(COORD).muted == ("coaching", "committee_soon", "missed_coaching")
    # A mute row of a kind they may not stop (from before they coordinated): a forged box does not change it
    # either way, and the rest of the choice applies.
    with wf.store.write() as s:
        s.execute(sa.insert(PersonMute).values(person_id=pid, kind="deadline_passed"))
    assert choose(app.test_client(), path, "coaching", "deadline", "deadline_passed", "notice_terminable"
                  ).status_code == 200
    assert wf.directory.person(COORD).muted == ("committee_soon", "deadline_passed", "missed_coaching")
    assert [e["unmute"] for e in mute_events(wf)][-1] == ["coaching"]


def test_a_bad_choice_or_link_is_refused_and_writes_nothing(wf, app):
    path = link(wf)
    before = written(wf)
    client = app.test_client()
    assert choose(client, path, "coaching", "holidays").status_code == 400  # not a kind
    assert client.post(path, data={"choice": "yes", "receive": "coaching"}).status_code == 400
    assert client.post(path, data={"choice": "1", **ONE_CLICK}).status_code == 400  # both forms at once
    head, _, signature = path.rpartition(".")
    tampered = head + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    assert choose(client, tampered, "coaching").status_code == 400
    assert client.get(tampered).status_code == 400
    assert choose(client, link(wf, gen=1)).status_code == 410  # another generation
    assert written(wf) == before


def test_the_page_names_kinds_in_the_persons_language(wf, client):
    wf.directory.edit_person(JULIEN, lang="fr")
    page = client.get(link(wf)).text
    assert "you always receive" not in page  # a coach: nothing they may not stop
    labels = re.findall(r'<label for="receive-\w+" class="inline">([^<]*)</label>', page)
    assert labels == [i18n.text("fr", REMINDER_NAMES[k]) for k in ("coaching", "missed_coaching", "deadline",
                                                                    "committee_soon")]
    assert "point hebdomadaire" in labels and not set(labels) & set(REMINDER_NAMES)
    r = choose(client, link(wf), "deadline")
    assert "<li>point hebdomadaire</li>" in r.text and "<li>coaching</li>" not in r.text
