"""Listening sockets bound before a server says it serves (``serve``, ``inbox serve``): the address it
announces is one it really holds, and a busy port is one line at once, naming it."""

from __future__ import annotations

import errno
import socket

import click

from notifications.i18n import Message

from commands.text import tr


def listening(host: str, port: int, *, busy: Message, unusable: Message) -> list[socket.socket]:
    """Sockets that hold ``host``:``port`` (each address the host has, as waitress would bind them; ``*``: every
    address). ``busy`` (port taken) and ``unusable`` (any other refusal, with ``{why}``) say what to do, in the
    words of the command's own options."""
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
            raise click.ClickException(tr(busy, port=port, host=host)) from None
        raise click.ClickException(tr(unusable, host=host, port=port, why=exc.strerror or type(exc).__name__)) from None
    return held
