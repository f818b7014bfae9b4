"""The Flask application: configuration, language, security headers, and errors as short pages.

Every refusal is a short page in the person's language with the right HTTP status (400 bad or
tampered link or form, 403 not allowed, 404 unknown, 410 expired/revoked link or closed team, 413
too large, 503 the store's file deleted or replaced under the server: every request until it is
restarted), that shows no one's data and writes nothing; a 405 names the methods allowed (``Allow``).
Tokens are never logged: the request path (which holds them) is left out of every log line.

Behind a TLS proxy, ``PREINCUB_TRUSTED_PROXIES`` (werkzeug's ProxyFix) makes https known, so the cookie
and the CSRF check's Referer rule apply. No address is ever built from the request's ``Host`` header: a
redirect of the router's (``/team//x`` to ``/team/x``) names the server of ``PREINCUB_BASE_URL``, or none.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any, NoReturn
from urllib.parse import urlsplit

from flask import Flask, Request, make_response, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import RequestRedirect

from notifications import i18n
from workflow.api import Workflow
from workflow.errors import PreincubError
from workflow.services.links import SESSION_IDLE, base_url, cached_key

from web.board import bp as board_bp
from web.forms import bp as forms_bp
from web.hooks import bp as hooks_bp
from web.pages import _, current_wf, lang, refusal, status_of, store_gone
from web.unsubscribe import bp as unsubscribe_bp

MAX_BODY = 64 * 1024  # a check-in is a few KB of text; anything bigger is refused (413)
log = logging.getLogger("preincub.web")


class WebApp(Flask):
    """Flask, with exceptions logged without the request path (it may hold a link's token)."""

    def log_exception(self, exc_info: Any) -> None:
        self.logger.error("Exception on %s request (path withheld: it may hold a link)", request.method,
                          exc_info=exc_info)

    def raise_routing_exception(self, request: Request) -> NoReturn:
        """The router's redirects (merged slashes, a missing final slash) go to the server of
        PREINCUB_BASE_URL, or stay relative: never to the server a ``Host`` header names."""
        exc = request.routing_exception
        if isinstance(exc, RequestRedirect):
            raise RequestRedirect(own_location(exc.new_url, base_url(self.extensions["preincub"].settings)))
        super().raise_routing_exception(request)


def own_location(url: str, base: str | None) -> str:
    """``url``'s path and query on ``base`` (PREINCUB_BASE_URL), else alone (a relative address, never
    ``//server``)."""
    parts = urlsplit(url)
    path = "/" + parts.path.lstrip("/")
    return (base or "") + path + (f"?{parts.query}" if parts.query else "")


def create_app(wf: Workflow, *, testing: bool = False) -> Flask:
    """The application over ``wf`` (its store, clock and settings); each request acts as its person."""
    app = WebApp(__name__, static_folder="static", template_folder="templates")
    settings = wf.settings
    https = (base_url(settings) or "").startswith("https://")
    app.config.update(
        SECRET_KEY=cached_key(settings),
        MAX_CONTENT_LENGTH=MAX_BODY,
        MAX_FORM_MEMORY_SIZE=MAX_BODY,
        SESSION_COOKIE_NAME="preincub",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=SESSION_IDLE,
        SESSION_REFRESH_EACH_REQUEST=True,
        WTF_CSRF_TIME_LIMIT=int(SESSION_IDLE.total_seconds()),
        WTF_CSRF_SSL_STRICT=https,
        TESTING=testing,
        SEND_FILE_MAX_AGE_DEFAULT=timedelta(hours=1),
    )
    app.extensions["preincub"] = wf
    if proxies := settings.web.trusted_proxies:  # their X-Forwarded-Proto says https; the Host header stays unused
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    @app.before_request
    def store_still_there():
        """Every request (but /healthz, which answers its own 503) is refused with 503 once the store's
        SQLite file was deleted or replaced: the server would show the old file's data (a stat each).
        Registered before CSRF's check, so a form sent then gets the 503 too."""
        if request.endpoint != "healthz":
            current_wf().store.check_file()  # a StoreError: library_error's 503 page

    CSRFProtect(app)

    env = app.jinja_env
    env.trim_blocks = env.lstrip_blocks = True
    i18n.install_gettext(env, lang)
    env.globals.update(lang=lang, t=_, colon=lambda: i18n.colon(lang()))
    env.filters["day"] = lambda iso: i18n.format_day(date.fromisoformat(iso), lang()) if iso else "—"
    env.filters["number"] = lambda v: i18n.format_number(v, lang()) if v is not None else "—"
    env.filters["lines"] = lambda text: Markup("<br>").join((text or "").split("\n"))

    app.register_blueprint(forms_bp)
    app.register_blueprint(board_bp)
    app.register_blueprint(unsubscribe_bp)  # one-click links that stop a kind of reminder (RFC 8058)
    app.register_blueprint(hooks_bp)  # POST /hooks/ds: Démarches Simplifiées' hint that a démarche changed

    @app.get("/healthz")
    def healthz():
        """Whether the store answers: 200 ``ok``, else 503 (for monitoring; no data)."""
        try:
            current_wf().store.ping()
        except Exception:  # noqa: BLE001 - any failure is "not healthy"
            log.warning("healthz: the store does not answer")
            return {"status": "unavailable"}, 503
        return {"status": "ok"}, 200

    @app.errorhandler(PreincubError)
    def library_error(exc: PreincubError):
        if store_gone(exc):  # the file's path is the server's business, not the visitor's: it goes to the log
            log.error("%s", exc)
            return refusal(503, i18n.N_("this service is unavailable for now; try again later"))
        return render_template("error.html", status=status_of(exc), message=exc.text(lang())), status_of(exc)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return refusal(400, i18n.N_("this form has expired or did not come from this site; open the link "
                                     "again and submit the form once more"))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {404: i18n.N_("there is no such page"),
                    405: i18n.N_("this page cannot be used that way"),
                    413: i18n.N_("what was sent is too large; shorten the text and submit it again")}
        code = exc.code or 400
        resp = make_response(refusal(code, messages.get(code, i18n.N_("this request cannot be served"))))
        for name, value in exc.get_headers():  # Allow (405), Retry-After...: what the status needs
            if name.lower() != "content-type":
                resp.headers[name] = value
        return resp

    @app.after_request
    def headers(resp):
        resp.headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'self'; img-src 'self' data:; "
                                                   "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "same-origin"  # a page's address (its token) never leaves the site
        resp.headers["X-Frame-Options"] = "DENY"
        if request.endpoint != "static":
            resp.headers["Cache-Control"] = "no-store"
        return resp

    return app
