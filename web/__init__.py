"""The web service: a Flask application served by waitress (``preincub serve``).

Routes are as thin as the CLI's commands: they parse the request, call ``workflow`` once (a signed
link's use, or the library acting as the session's person), and render a template. See
:func:`web.app.create_app`; what every page shares is in ``web.pages``.
"""

from web.app import create_app

__all__ = ["create_app"]
