"""The two forms a signed link opens: a coach's weekly check-in, the committee's opinion.

Each route checks the link (``workflow.links``), then calls the library acting as the link's person,
through "web" (recorded in the event): the same rules, validation, permissions and audit as the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, g, redirect, render_template, request
from sqlmodel import Session

import states
from notifications.i18n import N_
from workflow import Workflow
from workflow.coaching import parse_week
from workflow.errors import ChangedMeanwhile, Invalid, PreincubError, Refused
from workflow.links import Grant, Links
from workflow.records import CheckInRecord

from web.app import current_wf, lang, refusal

bp = Blueprint("forms", __name__)


def acting(grant: Grant) -> Workflow:
    """The library, acting as the link's person, its changes recorded as coming from the web."""
    return current_wf().acting_as(grant.email).through("web")


@dataclass
class Page:
    grant: Grant
    team: Any  # TeamRecord (committee) or links.Target (check-in: two small queries)
    wf: Workflow


def _open(kind: str, token: str, team_id: int, *extra: Any, s: Session | None = None) -> Page | tuple:
    """The grant of a valid link for exactly this team (and week), and the team: the few facts the
    check-in form needs, or (committee) its full record as the person may read it. ``s``: the request's
    read session, if it has one (the link and the team read in it)."""
    links = Links(current_wf().ctx)
    grant, rest = links.check(kind, token, s)  # Invalid 400, LinkGone 410
    g.lang = grant.lang
    if rest != [team_id, *extra]:
        return refusal(403, N_("this link is for another team or another week; open the one of the message"))
    wf = acting(grant)
    team = links.target(team_id, s)  # NotFound 404; the coach is checked by the caller
    if kind != "checkin":
        team = wf.team(team.name)  # Forbidden 403 when the person may no longer read it
    if states.PHASES[team.phase].terminal:
        return refusal(410, N_("the team {team!q} is closed ({phase!t}): nothing more can be recorded for it"),
                       team=team.name, phase=states.PHASES[team.phase].label)
    return Page(grant, team, wf)


# ---- the weekly check-in --------------------------------------------------------------------


def _week_days(week: str) -> tuple[date, date]:
    monday = date.fromisocalendar(*map(int, parse_week(week).replace("-W", " ").split()), 1)
    return monday, monday + timedelta(days=6)


def _number(raw: str | None, what: str) -> float | None:
    raw = (raw or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise Invalid(N_("{what!t} must be a number"), code="not_a_number", what=what) from None


def _text(raw: str | None) -> str | None:
    raw = (raw or "").replace("\r\n", "\n").strip()
    return raw or None


def _values(form, week: str, today: date) -> dict[str, Any]:
    """The form's fields as the library takes them (errors: Invalid, shown on the form)."""
    monday, sunday = _week_days(week)
    raw_on = (form.get("on") or "").strip()
    try:
        on = date.fromisoformat(raw_on) if raw_on else min(today, sunday)
    except ValueError:
        raise Invalid(N_("{value!q} is not a date; use YYYY-MM-DD"), value=raw_on) from None
    if not monday <= on <= sunday:
        raise Invalid(N_("the day of the check-in must be in week {week} ({first!d} to {last!d})"),
                      code="not_in_week", week=week, first=monday, last=sunday)
    missed = form.get("missed") == "yes"
    mood = _number(form.get("mood"), "mood")
    return {"on": on, "notes": _text(form.get("notes")), "blockers": _text(form.get("blockers")),
            "next_steps": _text(form.get("next_steps")), "hours": _number(form.get("hours"), "hours"),
            "mood": int(mood) if mood is not None and mood == int(mood) else mood,
            "missed": missed, "reason": _text(form.get("reason"))}


def _mine_and_previous(wf: Workflow, team: str, week: str,
                       email: str) -> tuple[CheckInRecord | None, CheckInRecord | None]:
    """The coach's check-in of the week (their last), and the team's last held one before it: one read."""
    rows = wf.checkins(team=team)  # in order of day
    mine = [c for c in rows if c.week == week and c.author == email]
    previous = [c for c in rows if c.week < week and not c.missed]
    return mine[-1] if mine else None, previous[-1] if previous else None


@bp.route("/checkin/<int:team_id>/<week>/<token>", methods=["GET", "POST"])
def checkin(team_id: int, week: str, token: str):
    try:
        parse_week(week)
    except Invalid:
        return refusal(404, N_("there is no such page"))
    # The link, the team and (a submission) the coach's check-in of the week: one short read, before
    # the write transaction (which checks again what it relies on).
    with current_wf().store.read() as s:
        page = _open("checkin", token, team_id, week, s=s)
        if not isinstance(page, Page):
            return page
        grant, team, wf = page.grant, page.team, page.wf
        if grant.email not in team.coaches:
            return refusal(403, N_("you are no longer a coach of {team!q}; this link no longer works"),
                           team=team.name)
        logged = (Links(wf.ctx).own_checkin(team.id, week, grant.person_id, s) if request.method == "POST"
                  else None)
    error, values, status = None, None, 200
    if request.method == "POST":
        try:
            values = _values(request.form, week, wf.clock.today())
            if logged is None:
                wf.log_checkin(team.name, **values, once=True)
            else:
                values.pop("missed")  # a correction keeps what the week was; empty fields change nothing
                wf.edit_checkin(logged, **values)
            return redirect(request.path + "?saved=1", code=303)
        except ChangedMeanwhile:  # logged meanwhile (another tab, a double click): show what is there
            return redirect(request.path, code=303)
        except Refused as exc:
            error, status = exc.text(lang()), 422
        except PreincubError as exc:
            if isinstance(exc, Invalid) or exc.code == "not_your_team":
                error, status = exc.text(lang()), 422
            else:
                raise
        values = request.form
    mine, previous = _mine_and_previous(wf, team.name, week, grant.email)
    monday, sunday = _week_days(week)
    editable = mine is not None and _editable(wf, mine)
    return render_template("checkin.html", team=team, week=week, grant=grant, mine=mine, editable=editable,
                           previous=previous, error=error, values=values or {},
                           saved=request.args.get("saved") == "1" and error is None, monday=monday.isoformat(),
                           sunday=sunday.isoformat(),
                           default_on=min(wf.clock.today(), sunday).isoformat()), status


def _editable(wf: Workflow, c: CheckInRecord) -> bool:
    from datetime import datetime

    created = datetime.fromisoformat(c.created_at)
    return wf.clock.now() - created <= timedelta(days=wf.settings.checkin_edit_days)


# ---- the committee's opinion ----------------------------------------------------------------


@bp.route("/committee/<int:team_id>/<token>", methods=["GET", "POST"])
def committee(team_id: int, token: str):
    page = _open("committee", token, team_id)
    if not isinstance(page, Page):
        return page
    grant, team, wf = page.grant, page.team, page.wf
    today = wf.clock.today()
    opens = date.fromisoformat(team.committee.on) if team.committee.on else None
    error, status = None, 200
    if opens is not None and today >= opens and request.method == "POST":
        try:
            wf.committee(team.name, opinion=_text(request.form.get("opinion")) or "")
            return redirect(request.path + "?saved=1", code=303)
        except Invalid as exc:
            error, status = exc.text(lang()), 422
    elif request.method == "POST":
        status = 409
    return render_template("committee.html", team=team, grant=grant, opens=team.committee.on,
                           open=opens is not None and today >= opens, error=error,
                           saved=request.args.get("saved") == "1" and error is None,
                           value=request.form.get("opinion") if error else team.committee.opinion), status
