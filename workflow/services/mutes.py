"""Stopping reminders: the kinds a person chose not to receive, from the CLI (``person edit --mute``) or
from a message's one-click link (RFC 8058), whose page also lets the person choose every kind they receive
(:meth:`Mutes.choose`): the way back needs no coordinator.

What a mute stops is decided by :func:`workflow.rules.due.mutable`: anything, but the deadline and
formal-notice messages to a programme's coordinators, which keep the programme within its agreement.

A mute link is an itsdangerous token signed with the web links' key (``serializer`` of
:mod:`workflow.services.links`, its own salt ``mute``), bound to one person, their link generation
(``person revoke-links`` kills it) and one kind. Its timestamp is the reminder's due time, so the
message's footer and its ``List-Unsubscribe`` header, made at enqueue and at delivery, carry the same
link. It lives a year: a person may stop a kind from an old message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired

from workflow.clock import FixedClock
from workflow.context import Context, find
from workflow.errors import N_, Invalid
from workflow.rules import due, validate
from workflow.services.links import Grant, LinkGone, Links, base_url, cached_key, serializer
from workflow.store import mutes as mute_rows
from workflow.store.engine import Session
from workflow.store.models import Person

MUTE_LIFETIME = timedelta(days=365)
ALL = "all"
CHOICES = (*due.REMINDER_KINDS, ALL)
_KIND = N_("a kind of reminder")
_RECIPIENT = re.compile(r":p(\d+):[^:]+$")  # an outbox key ends with :p<person>:<channel>
Seen = Callable[[Grant], None]


def unsubscribe_path(token: str) -> str:
    return f"/unsubscribe/{token}"


@dataclass(frozen=True, slots=True)
class MuteLink:
    """What a valid mute link is about: its person (as the store knows them now) and the kind it stops;
    ``stoppable``: the kinds that person may stop (their page's choice), ``mutes``: those muted now."""

    grant: Grant
    kind: str
    stoppable: tuple[str, ...]
    mutes: tuple[str, ...]

    @property
    def muted(self) -> bool:
        """Whether the link's kind is muted for its person now."""
        return self.kind in self.mutes


@dataclass(frozen=True)
class Mutes:
    """Muting and unmuting kinds of reminders; the links that do it in one click."""

    ctx: Context

    # ---- links -----------------------------------------------------------------------------

    def url(self, person_id: int, generation: int, kind: str, at: datetime) -> str | None:
        """The one-click link that stops ``kind`` for the person (None without PREINCUB_BASE_URL), signed
        as of ``at`` (the reminder's due time: the same link whenever it is made)."""
        base = base_url(self.ctx.settings)
        if base is None:
            return None
        token = serializer(cached_key(self.ctx.settings), "mute", FixedClock(at)).dumps([person_id, generation, kind])
        return base + unsubscribe_path(token)

    def message_links(self, rows: Iterable[Any]) -> dict[int, str]:
        """Outbox row id -> the link its ``List-Unsubscribe`` header carries: that of its footer, made
        again at delivery (none for a message its person cannot stop, nor without PREINCUB_BASE_URL)."""
        if base_url(self.ctx.settings) is None:
            return {}
        whom = {r.id: int(m.group(1)) for r in rows if (m := _RECIPIENT.search(r.key))}
        with self.ctx.store.read() as s:
            generations, coordinators = mute_rows.recipients(s, whom.values())
        out = {}
        for r in rows:
            pid = whom.get(r.id)
            if pid not in generations:
                continue
            role = "coordinator" if (pid, r.programme_id) in coordinators else "other"
            if r.kind in due.REMINDER_KINDS and due.mutable(r.kind, role):
                out[r.id] = self.url(pid, generations[pid], r.kind, r.due_at)
        return out

    def check(self, token: str, *, seen: Seen | None = None) -> MuteLink:
        """What a mute link is about, if valid: Invalid when tampered, LinkGone when expired, revoked, or
        its person is gone. The token is never in the error."""
        try:
            payload = serializer(cached_key(self.ctx.settings), "mute", self.ctx.clock).loads(
                token, max_age=int(MUTE_LIFETIME.total_seconds()))
        except SignatureExpired:
            raise LinkGone(N_("this link has expired; use the link of a more recent message, or ask a "
                              "coordinator for a new one"), code="link_expired") from None
        except BadSignature:
            payload = None
        if not (isinstance(payload, list) and len(payload) == 3 and all(type(x) is int for x in payload[:2])
                and payload[2] in due.REMINDER_KINDS):
            raise Invalid(N_("this link is not valid (it was cut or changed); open it again from the message"),
                          code="link_invalid")
        person_id, generation, kind = payload
        with self.ctx.store.read() as s:
            grant = Links(self.ctx).person_grant("mute", person_id, generation, s)
            if seen is not None:
                seen(grant)
            return MuteLink(grant, kind, stoppable(bool(mute_rows.coordinated(s, person_id))),
                            mute_rows.kinds(s, person_id))

    def unsubscribe(self, token: str, *, seen: Seen | None = None) -> MuteLink:
        """Mute the kind a link names, for its person, as them; audited. Muted already: nothing changes."""
        link = self.check(token, seen=seen)
        if link.muted:
            return link
        ctx = self.ctx.acting_as(validate.email(link.grant.email, local=True))
        with ctx.store.write() as s:
            person = find(s, "person", link.grant.email)
            added = self.change(s, person, [link.kind], ())
            ctx.event(s, "person.mute", data={"email": person.email, "mute": added, "by": "link"})
        return replace(link, mutes=tuple(sorted({*link.mutes, link.kind})))

    # ---- the choice ------------------------------------------------------------------------

    def choose(self, token: str, receive: Iterable[str], *, seen: Seen | None = None) -> MuteLink:
        """The link's person receives exactly the kinds in ``receive`` of those they may stop, and stops the
        others (their page's form); audited as them, once, when something changes. A kind they may not stop
        is never changed, whatever ``receive`` says of it (the form offers no box for it); an unknown kind is
        refused (Invalid), and nothing changes."""
        link = self.check(token, seen=seen)
        wanted = {validate.choice(k, due.REMINDER_KINDS, _KIND) for k in receive}
        ctx = self.ctx.acting_as(validate.email(link.grant.email, local=True))
        with ctx.store.write() as s:  # what they may stop and have stopped, as of this transaction
            person = find(s, "person", link.grant.email)
            may_stop = stoppable(bool(mute_rows.coordinated(s, person.id)))
            had = set(mute_rows.kinds(s, person.id))
            mute = [k for k in may_stop if k not in wanted and k not in had]
            unmute = [k for k in may_stop if k in wanted and k in had]
            if mute or unmute:
                self.change(s, person, mute, unmute)
                ctx.event(s, "person.mute", data={"email": person.email, "mute": mute, "unmute": unmute,
                                                  "by": "link"})
            now = mute_rows.kinds(s, person.id)
        return replace(link, stoppable=may_stop, mutes=now)

    def change(self, s: Session, person: Person, mute: Iterable[str], unmute: Iterable[str]) -> list[str]:
        """In the caller's transaction: mute and unmute kinds (or ``all``) for ``person``; the kinds newly
        muted. Refused (Invalid): an unknown kind, one given to both, or one the person may not stop."""
        mute = {validate.choice(k, CHOICES, _KIND) for k in mute}
        unmute = {validate.choice(k, CHOICES, _KIND) for k in unmute}
        both = sorted(mute & unmute)
        if both:
            raise Invalid(N_("{kind!t} is both muted and unmuted; give it once"), code="mute_and_unmute",
                          kind=due.REMINDER_NAMES.get(both[0], both[0]))
        coordinates = mute_rows.coordinated(s, person.id)
        for kind in sorted(mute - {ALL}):
            _refuse_unmutable(kind, person.email, coordinates)
        if ALL in mute:  # every kind they may stop
            mute = set(stoppable(bool(coordinates)))
        unmute = set(due.REMINDER_KINDS) if ALL in unmute else unmute
        had = set(mute_rows.kinds(s, person.id))
        mute_rows.add(s, self.ctx.store.dialect, person.id, mute)
        mute_rows.remove(s, person.id, unmute)
        return sorted(mute - had)


def stoppable(coordinates: bool) -> tuple[str, ...]:
    """The kinds a person may stop, in order: not what only coordinators receive, nor, for one who coordinates
    a programme (``coordinates``), what its coordinators are always told."""
    return tuple(k for k in due.REMINDER_KINDS if k not in due.COORDINATORS_ONLY
                 and (not coordinates or due.mutable(k, "coordinator")))


def _refuse_unmutable(kind: str, email: str, coordinates: list[str]) -> None:
    """A kind only coordinators receive, or a deadline for one who coordinates, cannot be muted."""
    if kind in due.COORDINATORS_ONLY:
        raise Invalid(N_("{kind!t} messages go to a programme's coordinators only, and cannot be muted"),
                      code="not_mutable", kind=due.REMINDER_NAMES[kind])
    if coordinates and not due.mutable(kind, "coordinator"):
        raise Invalid(N_("{kind!t} messages cannot be muted for {email}: a programme's coordinators are always told "
                         "of its deadline (coordinator of {programme!q})"), code="not_mutable",
                      kind=due.REMINDER_NAMES[kind], email=email,
                      programme=coordinates[0])


__all__ = ["ALL", "CHOICES", "MUTE_LIFETIME", "MuteLink", "Mutes", "stoppable", "unsubscribe_path"]
