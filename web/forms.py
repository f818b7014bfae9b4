"""The two forms a signed link opens: a coach's weekly check-in, the committee's opinion.

Each route parses the form and calls one use of the link in the library (``workflow.services.links``),
through "web" (recorded in the event): it checks the link, then acts as the link's person, with the
same rules, validation, permissions and audit as the CLI.

A refused value is named as the form labels its field: the library's error names the field by a key
(``what``: a form key such as ``hours``, or the validation's label for an option, "the hours"), and
the page shows the label the coach reads above the field, in their language, and marks that field.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, redirect, render_template, request

from notifications import i18n
from notifications.i18n import N_
from workflow.errors import ChangedMeanwhile, Invalid, PreincubError, Refused
from workflow.rules import validate
from workflow.services.links import CheckInText, week_days

from web.pages import lang, links, speak

bp = Blueprint("forms", __name__)

# Each form's fields (their ``name``) and the labels the page shows above them (msgids of the catalog).
CHECKIN_LABELS = {"on": N_("Day it was held"), "notes": N_("Notes"), "blockers": N_("Blockers"),
                  "next_steps": N_("Next steps"), "hours": N_("Hours on the project this week"),
                  "mood": N_("Mood (1 to 5)"), "reason": N_("Reason (when there was no check-in)")}
COMMITTEE_LABELS = {"opinion": N_("The committee's opinion")}

# The field an error's ``what`` names: the key the library reads a typed field by, or the label its
# validation gives the option the field fills (validate.py's tables: one source for those words).
FIELD_OF = {"hours": "hours", "mood": "mood", validate.NUMBERS["--hours"]: "hours",
            validate.NUMBERS["--mood"]: "mood", validate.DATES["--on"]: "on", validate.TEXTS["notes"]: "notes",
            validate.TEXTS["blockers"]: "blockers", validate.TEXTS["next steps"]: "next_steps",
            validate.TEXTS["reason"]: "reason", validate.TEXTS["opinion"]: "opinion"}


def _quoted(label: str) -> str:
    """A field's label quoted as the page's language quotes: « Notes », “Notes”."""
    return f"«\u00a0{label}\u00a0»" if lang() == "fr" else f"“{label}”"


def refused(exc: PreincubError, labels: Mapping[str, str]) -> tuple[str, str | None]:
    """The error's text in the page's language, a field it names called by the form's label for it;
    and that field's name (None when the error names none of the form's fields)."""
    field = FIELD_OF.get(str(exc.params.get("what")))
    if field not in labels:
        return exc.text(lang()), None
    label = _quoted(i18n.text(lang(), labels[field]))
    return i18n.text(lang(), exc.message, {**exc.params, "what": label}), field


# ---- the weekly check-in --------------------------------------------------------------------


def _typed(form) -> CheckInText:
    """The check-in as the coach typed it in the form."""
    return CheckInText(on=form.get("on"), notes=form.get("notes"), blockers=form.get("blockers"),
                       next_steps=form.get("next_steps"), hours=form.get("hours"), mood=form.get("mood"),
                       missed=form.get("missed") == "yes", reason=form.get("reason"))


@bp.route("/checkin/<int:team_id>/<week>/<token>", methods=["GET", "POST"])
def checkin(team_id: int, week: str, token: str):
    week_days(week)  # a week out of range (2020-W60, 0000-W01, 9999-W52): Invalid, a 400 page, before the link
    error, invalid, values, status = None, None, None, 200
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
                (error, invalid), status = refused(exc, CHECKIN_LABELS), 422
            else:
                raise
        values = request.form
    # The form (again, after a refused submission: a bad link raises its own error here, and its page).
    form = links().checkin_form(token, team_id, week, seen=speak)
    return render_template("checkin.html", team=form.team, week=week, grant=form.grant, mine=form.mine,
                           editable=form.editable, previous=form.previous, error=error, invalid=invalid,
                           labels=CHECKIN_LABELS, values=values or {},
                           saved=request.args.get("saved") == "1" and error is None,
                           monday=form.monday.isoformat(), sunday=form.sunday.isoformat(),
                           default_on=form.default_on.isoformat()), status


# ---- the committee's opinion ----------------------------------------------------------------


@bp.route("/committee/<int:team_id>/<token>", methods=["GET", "POST"])
def committee(team_id: int, token: str):
    error, invalid, status = None, None, 200
    if request.method == "POST":
        try:
            if links().committee(token, team_id, request.form.get("opinion"), seen=speak) is not None:
                return redirect(request.path + "?saved=1", code=303)
            status = 409  # the committee has not sat yet: nothing recorded
        except Invalid as exc:
            (error, invalid), status = refused(exc, COMMITTEE_LABELS), 422
    form = links().committee_form(token, team_id, seen=speak)  # a bad link raises its own error here
    team = form.team
    return render_template("committee.html", team=team, grant=form.grant, opens=team.committee.on,
                           open=form.open, error=error, invalid=invalid, labels=COMMITTEE_LABELS,
                           saved=request.args.get("saved") == "1" and error is None,
                           value=request.form.get("opinion") if error else team.committee.opinion), status
