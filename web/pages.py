"""What every page of the web service shares: the library of the request, the page's language, and
refusals as short pages. The application (web/app.py) and its blueprints import it; it imports none
of them."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, render_template, request

from notifications import i18n
from workflow.api import Workflow
from workflow.errors import ChangedMeanwhile, Forbidden, NotFound, PreincubError, StoreError
from workflow.services.links import Grant, LinkGone, Links


def current_wf() -> Workflow:
    """The library the application serves (its store, clock and settings)."""
    return current_app.extensions["preincub"]


def links() -> Links:
    """The links' uses, their changes recorded as coming from the web."""
    return current_wf().through("web").links


def speak(grant: Grant) -> None:
    """From now on, the page is in the language of the link's or session's person."""
    g.lang = grant.lang


def lang() -> str:
    """The language of the page: the person's when known, else the browser's (fr by default)."""
    chosen = getattr(g, "lang", None)
    if chosen in i18n.LANGS:
        return chosen
    return request.accept_languages.best_match(i18n.LANGS, default=i18n.DEFAULT_LANG) if request else "fr"


def _(message: str, **params: Any) -> str:
    """A sentence of the catalog in the page's language, its ``{placeholders}`` filled."""
    return i18n.text(lang(), message, params)


def refusal(status: int, message: str, **params: Any):
    """A short page saying why, with ``status``: no data of anyone, nothing written."""
    return render_template("error.html", status=status, message=i18n.text(lang(), message, params)), status


def status_of(exc: PreincubError) -> int:
    """The HTTP status of a library error."""
    if isinstance(exc, LinkGone):
        return 410
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, ChangedMeanwhile):
        return 409
    if store_gone(exc):
        return 503
    return 400  # Invalid, Refused: the request cannot be served as it is


def store_gone(exc: PreincubError) -> bool:
    """Whether the store's file was deleted or replaced under the server."""
    return isinstance(exc, StoreError) and exc.code == "store_replaced"
