"""Signing in with a one-hour link, and the read-only board: programmes, the status table, a team.

The link's page (GET) only shows whom it signs in, with a button; the button's POST (CSRF-checked, as
every form) uses the link and opens the session.

The board reads through the library acting as the signed-in person: each sees what the permission
table (workflow/rules/permissions.py) lets them read, and nothing more, from the same code as the CLI.
The session cookie holds a random session id only; the session itself lives in the store, so signing out
ends it there (``workflow.services.links``). A team one may not read answers as one that does not exist.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, redirect, render_template, session, url_for

import states
from notifications.i18n import N_
from workflow.api import Workflow
from workflow.errors import Forbidden, NotFound
from workflow.services.links import Grant, LinkGone
from workflow.services.notices import TERMINABLE_FLAG

from web.pages import _, current_wf, links, refusal, speak
from web.timeline import timeline

bp = Blueprint("board", __name__)


@bp.get("/signin/<token>")
def signin_page(token: str):
    """Whom a valid sign-in link signs in, and the button that does it: a GET uses nothing, so a mail
    scanner fetching every link of the message leaves the link to its person (as the unsubscribe page)."""
    grant = links().signin_check(token, seen=speak)
    return render_template("signin.html", person=grant)


@bp.post("/signin/<token>")
def signin(token: str):
    """The button of a valid sign-in link: used once, it opens a session (8 idle hours) and leads to the
    board."""
    _grant, session_id = links().signin(token, seen=speak)
    session.clear()
    session.permanent = True
    session["s"] = session_id
    return redirect(url_for("board.index"), code=303)


@bp.post("/signout")
def signout():
    """The session ends on the server, not only in this browser."""
    session_id = session.get("s")
    if isinstance(session_id, str):
        current_wf().links.end_session(session_id)
    session.clear()
    return redirect(url_for("board.signed_out"), code=303)


@bp.get("/signed-out")
def signed_out():
    return refusal(200, N_("you are signed out; a new sign-in link signs you in again"))


def signed_in() -> tuple[Grant, Workflow] | None:
    """The session's person and the library acting as them; LinkGone (410) once the session ended
    (signed out, idle, revoked), after which the cookie is emptied."""
    session_id = session.get("s")
    if not isinstance(session_id, str):
        return None
    try:
        grant = current_wf().links.session(session_id)
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
    try:
        rec = wf.teams.show(name)
    except (NotFound, Forbidden):  # one answer for both: the page tells no one which names exist
        return refusal(404, N_("there is no such page"))
    checkins = wf.checkins(team=rec.name)
    today = wf.clock.today()
    svg = timeline(rec, today, date.fromisoformat(rec.deadline))
    return render_template("team.html", grant=grant, team=rec, checkins=checkins, svg=svg, phases=states.PHASES)


__all__ = ["bp"]
