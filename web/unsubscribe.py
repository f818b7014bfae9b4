"""Stopping a kind of reminder from a message's one-click link (RFC 8058).

A GET (a person's click, or a mail scanner following every link) only shows what the link stops and a
button: it never mutes. The POST mutes: the form's, or the one a mail provider sends on its own
(``List-Unsubscribe=One-Click``, with no cookie and no CSRF token: the signed link is the proof), so
that POST alone is exempt from the CSRF check. Both call one use of the link in the library
(:class:`workflow.services.mutes.Mutes`), through "web".
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from notifications.i18n import N_
from notifications.render import KIND_LABELS
from workflow.services.mutes import MuteLink, Mutes

from web.pages import current_wf, refusal, speak

bp = Blueprint("unsubscribe", __name__)
ONE_CLICK = ("List-Unsubscribe", "One-Click")  # the body RFC 8058 has a mail provider POST


def _mutes() -> Mutes:
    return current_wf().through("web").mutes


def _page(link: MuteLink, done: bool):
    return render_template("unsubscribe.html", grant=link.grant, what=KIND_LABELS[link.kind], kind=link.kind,
                           muted=link.muted, done=done)


@bp.get("/unsubscribe/<token>")
def confirm(token: str):
    """What the link stops, and the button that stops it."""
    return _page(_mutes().check(token, seen=speak), done=False)


@bp.post("/unsubscribe/<token>")
def one_click(token: str):
    """Mute the link's kind for its person; 200 with a short page (again: still 200, nothing changes)."""
    if request.form.get(ONE_CLICK[0]) != ONE_CLICK[1]:
        return refusal(400, N_("this request cannot be served"))
    return _page(_mutes().unsubscribe(token, seen=speak), done=True)


@bp.record_once
def _exempt(state) -> None:
    """The one-click POST carries no CSRF token (see above); every other form keeps the check."""
    state.app.extensions["csrf"].exempt(one_click)
