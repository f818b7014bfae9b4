"""Stopping reminders from a message's one-click link (RFC 8058), and choosing which kinds to receive.

A GET (a person's click, or a mail scanner following every link) only shows the page: the button that
stops the link's kind, and a form of every kind its person may stop, ticked for those they receive. It
never writes. Two POSTs write, and the signed link is the proof of both, so they alone are exempt from
the CSRF check: the one-click body (``List-Unsubscribe=One-Click``, which a mail provider sends on its
own, with no cookie and no CSRF token) stops the link's kind; the form's body (``choice=1`` and a
``receive`` per ticked kind) sets the person's choice, so they take a kind back without a coordinator.
Any other body is refused. Each calls one use of the link in the library
(:class:`workflow.services.mutes.Mutes`), through "web".
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from notifications.i18n import N_
from notifications.render import KIND_LABELS
from workflow.rules.due import REMINDER_NAMES
from workflow.services.mutes import MuteLink, Mutes

from web.pages import current_wf, refusal, speak

bp = Blueprint("unsubscribe", __name__)
ONE_CLICK = ("List-Unsubscribe", "One-Click")  # the body RFC 8058 has a mail provider POST
CHOICE = ("choice", "1")  # the body of the page's form, with its ticked ``receive`` kinds


def _mutes() -> Mutes:
    return current_wf().through("web").mutes


def _page(link: MuteLink, done: str | None):
    """The page; ``done``: None (a GET), "stopped" (the one-click POST) or "chosen" (the form's)."""
    return render_template("unsubscribe.html", grant=link.grant, what=KIND_LABELS[link.kind], kind=link.kind,
                           muted=link.muted, stoppable=link.stoppable, mutes=link.mutes, names=REMINDER_NAMES,
                           done=done)


@bp.get("/unsubscribe/<token>")
def confirm(token: str):
    """What the link stops and the button that stops it; the choice of every kind its person may stop."""
    return _page(_mutes().check(token, seen=speak), done=None)


@bp.post("/unsubscribe/<token>")
def one_click(token: str):
    """The one-click body mutes the link's kind; the form's sets the choice. 200 with a short page (again:
    still 200, nothing changes); any other body 400."""
    form = request.form
    stop = form.get(ONE_CLICK[0]) == ONE_CLICK[1]
    choose = form.get(CHOICE[0]) == CHOICE[1]
    if stop == choose:  # neither, or both at once
        return refusal(400, N_("this request cannot be served"))
    if choose:
        return _page(_mutes().choose(token, form.getlist("receive"), seen=speak), done="chosen")
    return _page(_mutes().unsubscribe(token, seen=speak), done="stopped")


@bp.record_once
def _exempt(state) -> None:
    """The link's POSTs carry no CSRF token (see above); every other form keeps the check."""
    state.app.extensions["csrf"].exempt(one_click)
