"""Hooks other services call: ``POST /hooks/ds``, Démarches Simplifiées' hint that a dossier changed.

DS posts form fields ``procedure_id``, ``dossier_id``, ``state`` and ``updated_at``, with no signature:
anyone may post anything. So the body is trusted for nothing but "something changed in this démarche":
the hook only marks the démarche wanted (:meth:`workflow.services.ds.DsSync.want`), and the daemon's next
tick reads the dossiers through the API with our token. It answers 204 whether or not the démarche is one
we sync, so it tells a stranger nothing; 400 only for a ``procedure_id`` that is not a number. No session
and no CSRF token come with it: it is exempt from the CSRF check, and writes nothing else.
"""

from __future__ import annotations

from flask import Blueprint, request

from notifications.i18n import N_

from web.pages import current_wf, refusal

bp = Blueprint("hooks", __name__)
MAX_DIGITS = 12  # a démarche's number; longer is not one (and would not fit the store's integer)


@bp.post("/hooks/ds")
def ds_hint():
    """Mark the démarche ``procedure_id`` as wanted; 204 with no body, known or not."""
    raw = request.form.get("procedure_id", "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > MAX_DIGITS:
        return refusal(400, N_("this request cannot be served"))
    current_wf().through("web").ds.want(int(raw))
    return "", 204


@bp.record_once
def _exempt(state) -> None:
    """DS posts without a session or CSRF token; the hint writes nothing but "sync this démarche soon"."""
    state.app.extensions["csrf"].exempt(ds_hint)
