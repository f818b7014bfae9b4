"""A refused value is named on the form as the form labels its field, in the person's language, and
that field is marked invalid (aria-invalid, described by the error)."""

from __future__ import annotations

import html
import re
from datetime import datetime

from tests.web.helpers import JULIEN, RSA, WEEK, checkin_url, committee_url, csrf

from web.forms import CHECKIN_LABELS, COMMITTEE_LABELS, FIELD_OF
from workflow.clock import PARIS, FixedClock


def page_text(r) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", r.text))


def marked(r) -> set[str]:
    """The names of the fields the page marks invalid."""
    return set(re.findall(r'name="([^"]+)"[^>]*aria-invalid="true"', r.text))


def test_a_number_field_is_named_by_its_french_label(client, wf):
    url = checkin_url(wf)
    r = client.post(url, data={"csrf_token": csrf(client, url), "notes": "x", "hours": "beaucoup"})
    assert r.status_code == 422
    text = page_text(r)
    assert "«\u00a0Heures sur le projet cette semaine\u00a0» doit être un nombre" in text
    assert "hours doit" not in text
    assert marked(r) == {"hours"}
    assert wf.checkins(team=RSA, week=WEEK) == []


def test_a_range_error_names_the_field_by_its_label_too(client, wf):
    url = checkin_url(wf)
    r = client.post(url, data={"csrf_token": csrf(client, url), "notes": "x", "hours": "99"})
    assert r.status_code == 422
    assert "«\u00a0Heures sur le projet cette semaine\u00a0» doit être entre" in page_text(r)
    assert marked(r) == {"hours"}


def test_in_english_the_label_is_english(client, wf):
    wf.directory.edit_person(JULIEN, lang="en")
    url = checkin_url(wf)
    r = client.post(url, data={"csrf_token": csrf(client, url), "notes": "x", "mood": "happy"})
    assert r.status_code == 422 and "“Mood (1 to 5)” must be a number" in page_text(r)
    assert marked(r) == {"mood"}


def test_an_error_naming_no_field_marks_none(client, wf):
    url = checkin_url(wf)
    r = client.post(url, data={"csrf_token": csrf(client, url), "notes": "x", "on": "2020-11-09"})
    assert r.status_code == 422 and marked(r) == set() and "Rien n'a été enregistré" in page_text(r)


def test_the_committee_form_names_its_field_by_its_label(wf):
    from web import create_app

    url = committee_url(wf)
    client = create_app(wf.at(FixedClock(datetime(2020, 12, 10, 17, 0, tzinfo=PARIS))), testing=True).test_client()
    r = client.post(url, data={"csrf_token": csrf(client, url), "opinion": "  "})
    assert r.status_code == 422
    assert "«\u00a0L'avis du comité\u00a0» est vide" in page_text(r) and marked(r) == {"opinion"}


def test_every_field_an_error_may_name_is_on_a_form():
    assert set(FIELD_OF.values()) <= set(CHECKIN_LABELS) | set(COMMITTEE_LABELS)
