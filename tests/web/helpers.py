"""Helpers of the web tests: the demo's people and day, links signed as the service signs them."""

from __future__ import annotations

import re
from datetime import datetime

from workflow.api import Workflow
from workflow.clock import PARIS
from workflow.services.links import checkin_path, committee_path, sign
from workflow.settings import Settings

NOW = datetime(2020, 11, 16, 18, 0, tzinfo=PARIS)  # the demo's day: a Monday, week 2020-W47
WEEK = "2020-W47"
KEY = "test-secret-key-0123456789abcdef"
BASE = "https://preincub.example.org"
COORD = "camille.lefebvre@beta.example"
JULIEN = "julien.moreau@beta.example"  # coach of "Insertion RSA" and "Transport scolaire adapté"
SARAH = "sarah.benali@beta.example"  # coach of "Dossiers MDPH"
HELENE = "helene.dubois@beta.example"  # committee
AURELIE = "aurelie.dupont@lenord.example"  # intrapreneur of "Insertion RSA"
RSA = "Insertion RSA"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def settings(**extra) -> Settings:
    return Settings(base_url=BASE, secret_key=KEY, **extra)


def ids(wf: Workflow, email: str, team: str | None = None) -> tuple[int, int | None]:
    from sqlmodel import select

    from workflow.store.models import Person, Team

    with wf.store.read() as s:
        pid = s.exec(select(Person.id).where(Person.email == email)).one()
        tid = s.exec(select(Team.id).where(Team.name == team)).one() if team else None
    return pid, tid


def checkin_url(wf: Workflow, email: str = JULIEN, team: str = RSA, week: str = WEEK, *, gen: int = 0,
                clock=None, url_team: int | None = None, url_week: str | None = None) -> str:
    pid, tid = ids(wf, email, team)
    token = sign(KEY, clock or wf.clock, "checkin", pid, gen, tid, week)
    return checkin_path(token, url_team or tid, url_week or week)


def committee_url(wf: Workflow, email: str = HELENE, team: str = "Transport scolaire adapté", *, gen: int = 0) -> str:
    pid, tid = ids(wf, email, team)
    return committee_path(sign(KEY, wf.clock, "committee", pid, gen, tid), tid)


def signin(client, wf: Workflow, email: str) -> None:
    """Sign ``email`` in as a person does: open the link's page (which uses nothing), press its button."""
    url, _ = wf.acting_as(COORD).links.signin_url(email)
    r = client.post(url.removeprefix(BASE), data={"csrf_token": csrf(client, url.removeprefix(BASE))})
    assert r.status_code == 303, r.text


def csrf(client, url: str) -> str:
    r = client.get(url)
    assert r.status_code == 200, r.text
    return CSRF.search(r.text).group(1)
