"""The web service: a Flask application served by waitress (``preincub serve``).

Routes are as thin as the CLI's commands: they check a signed link or the session, call ``workflow``
acting as that person, and render a template. See :func:`web.app.create_app`.
"""

from web.app import create_app

__all__ = ["create_app"]
