"""The key of a reply address: a coach replies to ``points+KEY@programme.example`` and the key says who
may log which team's check-in of which week.

A web link's token (JSON, base64, a timestamp, a 27-character signature) is too long for the 64
characters of an address's local part, and some servers lowercase addresses. So the key is packed:
person id, team id, ISO year and week, the person's link generation and the signing time (seconds),
then 10 bytes of an HMAC-SHA256 over them with the secret key, all in unpadded lowercase base32 (47
characters, read back in any case). Like a link, it dies with the person's link generation
(``person revoke-links``) and after its lifetime, which the caller checks against its clock.

Servers that drop sub-addresses (Exchange, Office 365) are met by the key also being the first part
of the reminder's Message-ID, found again in the reply's In-Reply-To or References.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

_FIELDS = struct.Struct(">IIHBII")  # person, team, ISO year, ISO week, link generation, signed at (epoch seconds)
_MAC = 10
_SALT = b"preincub.reply"
LENGTH = len(base64.b32encode(b"\0" * (_FIELDS.size + _MAC)).rstrip(b"="))  # 47
_SHAPE = re.compile(rf"[a-z2-7]{{{LENGTH}}}", re.IGNORECASE)
_WEEK = re.compile(r"(\d{4})-W(\d{2})")


@dataclass(frozen=True, slots=True)
class ReplyKey:
    """What a valid key was signed for (its lifetime and generation still to be checked)."""

    person_id: int
    team_id: int
    week: str  # ISO week, "2020-W48"
    generation: int
    signed_at: datetime  # UTC


def _mac(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode(), _SALT + body, hashlib.sha256).digest()[:_MAC]


def encode(secret: str, person_id: int, team_id: int, week: str, generation: int, signed_at: datetime) -> str:
    """The key (lowercase base32) of ``person_id``'s reply about ``team_id`` in ``week``."""
    m = _WEEK.fullmatch(week)
    if m is None:
        raise ValueError(f"not an ISO week: {week!r}")
    body = _FIELDS.pack(person_id, team_id, int(m[1]), int(m[2]), generation, int(signed_at.timestamp()))
    return base64.b32encode(body + _mac(secret, body)).decode().rstrip("=").lower()


def decode(secret: str, key: str) -> ReplyKey | None:
    """What ``key`` was signed for; None when it is not one of ours (cut, changed, or signed with another
    secret). Compared in constant time."""
    if not isinstance(key, str) or not _SHAPE.fullmatch(key):
        return None
    padded = key.upper() + "=" * (-len(key) % 8)
    try:
        raw = base64.b32decode(padded)
    except (binascii.Error, ValueError):
        return None
    body, mac = raw[:_FIELDS.size], raw[_FIELDS.size:]
    if len(mac) != _MAC or not hmac.compare_digest(mac, _mac(secret, body)):
        return None
    person, team, year, week, generation, at = _FIELDS.unpack(body)
    return ReplyKey(person, team, f"{year:04d}-W{week:02d}", generation, datetime.fromtimestamp(at, timezone.utc))


def address(reply_address: str, key: str) -> str:
    """``points@example`` and a key -> ``points+KEY@example`` (a sub-address, RFC 5233)."""
    local, _, domain = reply_address.rpartition("@")
    return f"{local}+{key}@{domain}"


def message_id_local(key: str, digest: str) -> str:
    """The left side of the reminder's Message-ID when it carries a key: the key first, then part of a
    digest of the outbox key, which keeps it unique."""
    return f"{key}.{digest[:16]}"


def message_id(key: str, digest: str, domain: str) -> str:
    """The reminder's whole Message-ID (:func:`message_id_local` at ``domain``)."""
    return f"<{message_id_local(key, digest)}@{domain}>"


def candidates(reply_address: str | None, addresses: Iterable[str], message_ids: Iterable[str]) -> list[str]:
    """The strings that may be keys, best first: the sub-address of any recipient at the reply address's
    local part (any case, any domain: a relay may rewrite it), then the first part of each referenced
    Message-ID. Only the shape is checked here; :func:`decode` says which is ours."""
    local = (reply_address or "").rpartition("@")[0].lower()
    found: list[str] = []
    for addr in addresses:
        box = addr.strip().strip("<>").rpartition("@")[0]
        base, plus, tail = box.partition("+")
        if plus and (not local or base.lower() == local) and _SHAPE.fullmatch(tail):
            found.append(tail)
    for mid in message_ids:
        head = mid.strip().strip("<>").partition("@")[0].partition(".")[0]
        if _SHAPE.fullmatch(head):
            found.append(head)
    return list(dict.fromkeys(k.lower() for k in found))
