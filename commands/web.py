"""The web service's commands: serve, web link, person revoke-links (cli.COMMANDS names the first two,
the ``person`` group of commands/directory.py the last)."""

from __future__ import annotations

import logging

import click
import waitress

from notifications.i18n import N_
from web import create_app
from workflow.errors import Invalid

from commands.context import current_ctx
from commands.output import say
from commands.params import IntegerRange
from commands.sockets import listening
from commands.text import tr


@click.command(short_help="Serve the web forms and board.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=IntegerRange(1, 65535), default=8080, show_default=True, help="Port to listen on.")
@click.option("--threads", type=IntegerRange(1, 64), default=8, show_default=True, help="Worker threads.")
def serve(host: str, port: int, threads: int) -> None:
    """Serve the web forms and board (waitress), on the same store as the CLI.

    Put it behind a reverse proxy for HTTPS; PREINCUB_BASE_URL is its public address."""
    wf = current_ctx().wf()
    sockets = listening(host, port, busy=N_("port {port} is already in use on {host}: stop what uses it, or choose "
                                            "another port with --port"),
                        unusable=N_("cannot listen on {host}, port {port} ({why}): choose another address with "
                                    "--host or another port with --port"))  # before the app is built and said
    server = waitress.create_server(create_app(wf), sockets=sockets, threads=threads, ident="preincub",
                                    clear_untrusted_proxy_headers=True, max_request_body_size=1024 * 1024)
    say(tr("serving {where} on http://{host}:{port} (Ctrl+C stops)", where=wf.store.where, host=host, port=port))
    # No access log: link tokens are in the paths. waitress logs only its own errors, without a path; its
    # "task queue depth" notes under load are not errors.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server.run()


@click.group()
def web() -> None:
    """Links to the web service."""


@web.command(name="link", short_help="A sign-in link for a person.")
@click.argument("email")
@click.option("--send", is_flag=True, help="Send it through the person's channels instead of printing it.")
def web_link(email: str, send: bool) -> None:
    """A sign-in link for EMAIL, valid one hour (coordinators). Example: preincub web link a@b.example"""
    wf = current_ctx().wf()
    if send:
        channels = wf.links.send_signin(email)
        say(tr("sign-in link sent to {email} ({channels})", email=email.lower(), channels=", ".join(channels)))
        return
    url, _grant = wf.links.signin_url(email)
    if not url.startswith("http"):
        raise Invalid(N_("set PREINCUB_BASE_URL (e.g. https://preincub.example.org) to make links"),
                      code="no_base_url")
    click.echo(url)


@click.command(name="revoke-links", short_help="End a person's web links and sessions.")
@click.argument("email")
def revoke_links(email: str) -> None:
    """End every web link and session of EMAIL (coordinators). Example: preincub person revoke-links a@b.example"""
    wf = current_ctx().wf()
    gen = wf.links.revoke(email)
    say(tr("every earlier link of {email} is revoked (link generation {generation})", email=email.lower(),
           generation=gen))
