"""The two forms a signed link opens: a coach's weekly check-in, the committee's opinion.

Each route parses the form and calls one use of the link in the library (``workflow.services.links``),
through "web" (recorded in the event): it checks the link, then acts as the link's person, with the
same rules, validation, permissions and audit as the CLI.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request

from notifications.i18n import N_
from workflow.errors import ChangedMeanwhile, Invalid, PreincubError, Refused
from workflow.rules.coaching import parse_week
from workflow.services.links import CheckInText

from web.pages import lang, links, refusal, speak

bp = Blueprint("forms", __name__)


# ---- the weekly check-in --------------------------------------------------------------------


def _typed(form) -> CheckInText:
    """The check-in as the coach typed it in the form."""
    return CheckInText(on=form.get("on"), notes=form.get("notes"), blockers=form.get("blockers"),
                       next_steps=form.get("next_steps"), hours=form.get("hours"), mood=form.get("mood"),
                       missed=form.get("missed") == "yes", reason=form.get("reason"))


@bp.route("/checkin/<int:team_id>/<week>/<token>", methods=["GET", "POST"])
def checkin(team_id: int, week: str, token: str):
    try:
        parse_week(week)
    except Invalid:
        return refusal(404, N_("there is no such page"))
    error, values, status = None, None, 200
    if request.method == "POST":
        try:
            links().checkin(token, team_id, week, _typed(request.form), seen=speak)
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
    # The form (again, after a refused submission: a bad link raises its own error here, and its page).
    form = links().checkin_form(token, team_id, week, seen=speak)
    return render_template("checkin.html", team=form.team, week=week, grant=form.grant, mine=form.mine,
                           editable=form.editable, previous=form.previous, error=error, values=values or {},
                           saved=request.args.get("saved") == "1" and error is None,
                           monday=form.monday.isoformat(), sunday=form.sunday.isoformat(),
                           default_on=form.default_on.isoformat()), status


# ---- the committee's opinion ----------------------------------------------------------------


@bp.route("/committee/<int:team_id>/<token>", methods=["GET", "POST"])
def committee(team_id: int, token: str):
    error, status = None, 200
    if request.method == "POST":
        try:
            if links().committee(token, team_id, request.form.get("opinion"), seen=speak) is not None:
                return redirect(request.path + "?saved=1", code=303)
            status = 409  # the committee has not sat yet: nothing recorded
        except Invalid as exc:
            error, status = exc.text(lang()), 422
    form = links().committee_form(token, team_id, seen=speak)  # a bad link raises its own error here
    team = form.team
    return render_template("committee.html", team=team, grant=form.grant, opens=team.committee.on,
                           open=form.open, error=error, saved=request.args.get("saved") == "1" and error is None,
                           value=request.form.get("opinion") if error else team.committee.opinion), status
