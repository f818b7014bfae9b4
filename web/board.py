"""Signing in with a one-hour link, and the read-only board: programmes, the status table, a team.

The board reads through the library acting as the signed-in person: each sees what the permission
table (workflow/rules/permissions.py) lets them read, and nothing more, from the same code as the CLI.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, redirect, render_template, session, url_for

import states
from notifications.i18n import N_
from workflow.api import Workflow
from workflow.errors import Forbidden
from workflow.services.links import Grant, LinkGone
from workflow.services.notices import TERMINABLE_FLAG

from web.pages import _, current_wf, links, refusal, speak
from web.timeline import timeline

bp = Blueprint("board", __name__)


@bp.get("/signin/<token>")
def signin(token: str):
    """A valid sign-in link opens a session (8 idle hours) and leads to the board."""
    grant = links().signin(token)
    speak(grant)
    session.clear()
    session.permanent = True
    session.update(p=grant.person_id, g=grant.generation)
    return redirect(url_for("board.index"), code=303)


@bp.post("/signout")
def signout():
    session.clear()
    return redirect(url_for("board.signed_out"), code=303)


@bp.get("/signed-out")
def signed_out():
    return refusal(200, N_("you are signed out; a new sign-in link signs you in again"))


def signed_in() -> tuple[Grant, Workflow] | None:
    """The session's person (revoked links end sessions too) and the library acting as them."""
    if "p" not in session:
        return None
    try:
        grant = current_wf().links.session(int(session["p"]), int(session["g"]))
    except LinkGone:
        session.clear()
        raise
    speak(grant)
    return grant, current_wf().acting_as(grant.email).through("web")


def _need_session():
    return refusal(403, N_("sign in first: ask a coordinator of your programme for a sign-in link"))


@bp.get("/")
def index():
    who = signed_in()
    if who is None:
        return _need_session()
    grant, wf = who
    programmes = wf.directory.programmes()
    rows = wf.teams.status()
    # Agreements an unanswered formal notice made terminable, as `status` flags them (for those who
    # read every team; nothing for a coach).
    flags = [_(TERMINABLE_FLAG, **n.flag_params()) for n in wf.notices.flags()]
    return render_template("board.html", grant=grant, programmes=programmes, rows=rows, phases=states.PHASES,
                           flags=flags)


@bp.get("/team/<path:name>")
def team(name: str):
    who = signed_in()
    if who is None:
        return _need_session()
    grant, wf = who
    rec = wf.teams.show(name)  # NotFound 404, Forbidden 403 (not one of their teams)
    checkins = wf.checkins(team=rec.name)
    today = wf.clock.today()
    svg = timeline(rec, today, date.fromisoformat(rec.deadline))
    return render_template("team.html", grant=grant, team=rec, checkins=checkins, svg=svg, phases=states.PHASES)


__all__ = ["Forbidden", "bp"]
