"""The web service's commands: serve, web link, person revoke-links (cli.COMMANDS names the first two,
the ``person`` group of commands/directory.py the last)."""

from __future__ import annotations

import errno
import logging
import socket

import click
import waitress

from notifications.i18n import N_
from web import create_app
from workflow.errors import Invalid

from commands.context import current_ctx
from commands.output import say
from commands.params import IntegerRange
from commands.text import tr


@click.command(short_help="Serve the web forms and board.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=IntegerRange(1, 65535), default=8080, show_default=True, help="Port to listen on.")
@click.option("--threads", type=IntegerRange(1, 64), default=8, show_default=True, help="Worker threads.")
def serve(host: str, port: int, threads: int) -> None:
    """Serve the web forms and board (waitress), on the same store as the CLI.

    Put it behind a reverse proxy for HTTPS; PREINCUB_BASE_URL is its public address."""
    wf = current_ctx().wf()
    sockets = listening(host, port)  # before the app is built and before saying it serves
    server = waitress.create_server(create_app(wf), sockets=sockets, threads=threads, ident="preincub",
                                    clear_untrusted_proxy_headers=True, max_request_body_size=1024 * 1024)
    say(tr("serving {where} on http://{host}:{port} (Ctrl+C stops)", where=wf.store.where, host=host, port=port))
    # No access log: link tokens are in the paths. waitress logs only its own errors, without a path; its
    # "task queue depth" notes under load are not errors.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server.run()


def listening(host: str, port: int) -> list[socket.socket]:
    """Sockets that hold ``host``:``port`` (each address the host has, as waitress would bind them), so that
    serve announces an address it really has, and a busy port is one line at once, naming it, rather than
    waitress's English error after start-up."""
    held: list[socket.socket] = []
    try:
        addresses: dict[tuple[str, int], tuple] = {}  # getaddrinfo may give one address twice
        for family, kind, proto, _name, address in socket.getaddrinfo(
                None if host == "*" else host, port, socket.AF_UNSPEC, socket.SOCK_STREAM, socket.IPPROTO_TCP,
                socket.AI_PASSIVE):
            addresses.setdefault((address[0].split("%", 1)[0], address[1]), (family, kind, proto, address))
        for family, kind, proto, address in addresses.values():
            sock = socket.socket(family, kind, proto)
            held.append(sock)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress: a restart reuses the port
            sock.bind(address)
            sock.listen()
    except OSError as exc:
        for sock in held:
            sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise click.ClickException(tr("port {port} is already in use on {host}: stop what uses it, or choose "
                                          "another port with --port", port=port, host=host)) from None
        raise click.ClickException(tr("cannot listen on {host}, port {port} ({why}): choose another address with "
                                      "--host or another port with --port", host=host, port=port,
                                      why=exc.strerror or type(exc).__name__)) from None
    return held


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
