"""Signed, timed links to the web service: what a link allows, to whom, until when.

A link is an itsdangerous token (HMAC-SHA1 over a compact JSON payload, with a timestamp) signed with
the secret key: ``PREINCUB_SECRET_KEY``, else a 0600 file in the user's data directory, created on
first need (``init`` creates it too). Rotating the key invalidates every link. Each payload carries
the person's *link generation*: ``revoke`` bumps it and every earlier link of that person dies.

Kinds (the salt keeps one kind from passing for another):

- ``checkin``: one coach, one team, one ISO week; 14 days.
- ``committee``: one committee member (or coordinator) of the team's programme, one team; 30 days.
- ``signin``: one person; one hour; single use: it opens a session, kept in the store. Checking it
  (:meth:`Links.signin_check`, the page a GET shows) uses nothing: a mail scanner's visit is harmless.

A token is accepted in its canonical spelling only (no extra ``=`` padding, no stray base64 bits on its
signature): one link, one spelling, so a used single-use link cannot come back spelled otherwise.

A session is a random id in the browser's cookie; the store keeps its SHA-256 (``workflow.store.sessions``)
with the person and the last request, so signing out, revoking the person's links, and erasing the person
end it on the server: a copied cookie opens nothing after. It ends after 8 idle hours; the last request
is stamped at most every few minutes, so a page view stays a read.

Timestamps come from the business clock (``--now``), so a pinned date signs and checks alike. Tokens
are never logged or put in an error: errors say what is wrong with a link, not what it was.

What a link lets its person do is written here once, from the token to the write, for every channel
that brings one (the web's forms today): log or correct the week's check-in, record the committee's
opinion, sign in.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import secrets as _secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from itsdangerous import BadData, BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode, want_bytes
from platformdirs import user_data_path

import states
from notifications.message import DeliveryError, Message
from workflow.clock import Clock
from workflow.context import Context, find
from workflow.errors import N_, Forbidden, Invalid, NotFound, PreincubError
from workflow.records import CheckInRecord, EventRecord, TeamRecord
from workflow.rules import validate
from workflow.rules.coaching import parse_week
from workflow.rules.numbers import parse_decimal
from workflow.rules import replykey
from workflow.rules.replykey import ReplyKey
from workflow.services.checkins import Also, CheckIns
from workflow.services.outbox import channels_for
from workflow.services.teams import Teams
from workflow.settings import Settings
from workflow.store import inbox as inbox_rows
from workflow.store import links as link_rows
from workflow.store import sessions as session_rows
from workflow.store.engine import Session
from workflow.store.files import PRIVATE_FILE, private_dirs
from workflow.store.models import Person

LINK_LIFETIMES: dict[str, timedelta] = {"checkin": timedelta(days=14), "committee": timedelta(days=30),
                                        "signin": timedelta(hours=1), "reply": timedelta(days=14)}
SESSION_IDLE = timedelta(hours=8)
SESSION_TOUCH = timedelta(minutes=5)  # a session's last request is stamped at most this often
SECRET_FILE = "secret_key"
# A weekly reminder's outbox key by e-mail: coaching:<team>:<week>:p<person>:email
_REPLY_ROW = re.compile(r"(coaching:(\d+):\d{4}-W\d{2}):p(\d+):email")
_MAX_ID = 2 ** 31 - 1  # a store's ids (a 4-byte integer on PostgreSQL), and a reply key's fields


class LinkGone(PreincubError):
    """An expired or revoked link, one of a person no longer in the store, or one about a closed team
    (HTTP 410)."""


def secret_path() -> Path:
    return user_data_path("preincub", appauthor=False) / SECRET_FILE


@lru_cache(maxsize=16)
def cached_key(settings: Settings) -> str:
    """:func:`secret_key`, read once per settings object (a tick signs thousands of links)."""
    return secret_key(settings)


def secret_key(settings: Settings, *, create: bool = True) -> str:
    """PREINCUB_SECRET_KEY, else the key file of the data directory (created 0600 when missing)."""
    given = settings.web.secret_key
    if given is not None and given.get_secret_value():
        return given.get_secret_value()
    path = secret_path()
    try:
        return _read_key(path)
    except FileNotFoundError:
        if not create:
            raise
    private_dirs(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:  # created meanwhile by another process: theirs is the key
        return _read_key(path)
    try:
        os.fchmod(fd, PRIVATE_FILE)  # os.open's mode goes through the umask
        os.write(fd, (_secrets.token_urlsafe(48) + "\n").encode())
    finally:
        os.close(fd)
    return _read_key(path)


def _read_key(path: Path) -> str:
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < 16:
        raise Invalid(N_("the secret key file {path} is empty or too short; delete it and a new one is made "
                         "(every link already sent stops working)"), code="secret_key_short", path=str(path))
    return key


def _signer_class(clock: Clock):
    class ClockSigner(TimestampSigner):
        """Timestamps from the business clock (``--now``), not the machine's."""

        def get_timestamp(self) -> int:
            return int(clock.now().timestamp())

        def verify_signature(self, value: str | bytes, sig: str | bytes) -> bool:
            """The signature in its canonical spelling only: base64 decoding forgives extra padding and
            stray low bits, which would give one link several spellings."""
            return canonical(sig) and super().verify_signature(value, sig)

    return ClockSigner


def canonical(sig: str | bytes) -> bool:
    """Whether ``sig`` is the one URL-safe base64 spelling of its bytes (unpadded, as itsdangerous signs)."""
    raw = want_bytes(sig)
    try:
        return base64_encode(base64_decode(raw)) == raw
    except BadData:
        return False


def serializer(key: str, kind: str, clock: Clock):
    """The serializer of every signed link of ``kind`` (times from ``clock``; canonical tokens only)."""
    return URLSafeTimedSerializer(key, salt=f"preincub.{kind}", signer=_signer_class(clock))


def _digest(text: str) -> str:
    """What the store keeps of a session id or a used link's signature: its SHA-256, in hex."""
    return hashlib.sha256(text.encode()).hexdigest()


def _used(token: str) -> str:
    """What the store keeps of a used single-use link: its signature's digest (canonical, so one per link)."""
    return _digest(token.rsplit(".", 1)[-1])


def _link_used() -> LinkGone:
    return LinkGone(N_("this sign-in link was already used; ask a coordinator for a new one"), code="link_used")


@dataclass(frozen=True, slots=True)
class Grant:
    """What a valid link allows: who (the person as the store knows them now), and on what."""

    kind: str
    person_id: int
    email: str
    name: str
    lang: str
    generation: int
    team_id: int | None = None
    week: str | None = None
    channels: str = "email"


def sign(key: str, clock: Clock, kind: str, person_id: int, generation: int, *extra: Any) -> str:
    return serializer(key, kind, clock).dumps([person_id, generation, *extra])


def base_url(settings: Settings) -> str | None:
    url = (settings.web.base_url or "").strip().rstrip("/")
    return url or None


def checkin_path(token: str, team_id: int, week: str) -> str:
    return f"/checkin/{team_id}/{quote(week)}/{token}"


def committee_path(token: str, team_id: int) -> str:
    return f"/committee/{team_id}/{token}"


def signin_path(token: str) -> str:
    return f"/signin/{token}"


@dataclass(frozen=True, slots=True)
class Target:
    """The team a link is about, in two small queries (the form needs no full team record)."""

    id: int
    name: str
    phase: str
    programme: str
    partner: str | None
    coaches: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CheckInText:
    """A check-in as its coach typed it (a form, a reply to a message): the library reads it once the
    link is checked, so a bad field never hides a dead link."""

    on: str | None = None  # YYYY-MM-DD; none: today, or the week's Sunday for a past week
    notes: str | None = None
    blockers: str | None = None
    next_steps: str | None = None
    hours: str | None = None  # a decimal comma is read as a point
    mood: str | None = None
    missed: bool = False
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class CheckInForm:
    """What a check-in link shows its coach: the team, the week's days, their check-in of the week (and
    whether it may still be corrected), and the team's last held check-in before that week."""

    grant: Grant
    team: Target
    week: str
    monday: date
    sunday: date
    default_on: date
    mine: CheckInRecord | None
    previous: CheckInRecord | None
    editable: bool


@dataclass(frozen=True, slots=True)
class CommitteeForm:
    """What a committee link shows: the team as its person may read it, and whether the committee has
    sat (its opinion is taken from the committee's day on)."""

    grant: Grant
    team: TeamRecord
    opens: date | None
    open: bool


Seen = Callable[[Grant], None]


@dataclass(frozen=True)
class Links:
    """Making and checking links; revoking a person's links."""

    ctx: Context

    def ensure_key(self) -> None:
        """Create the secret key file now (``init``), if no key is set; a data directory that cannot be
        written is left for the first link to report."""
        try:
            secret_key(self.ctx.settings)
        except (OSError, Invalid):
            pass

    def key(self) -> str:
        return cached_key(self.ctx.settings)

    @contextmanager
    def _reading(self, s: Session | None) -> Iterator[Session]:
        """The caller's read session (a web request reads its link, team and check-in in one), else a new one."""
        if s is not None:
            yield s
            return
        with self.ctx.store.read() as own:
            yield own

    # ---- making ----------------------------------------------------------------------------

    def for_message(self, s: Session, kind: str, person: Person, context: dict[str, Any],
                    team_id: int | None) -> dict[str, str]:
        """The links a reminder of ``kind`` carries for ``person`` (none without PREINCUB_BASE_URL): the
        check-in form for a coach, the committee's opinion for those who may record it."""
        base = base_url(self.ctx.settings)
        if base is None or team_id is None:
            return {}
        gen = person.link_generation or 0
        if kind == "coaching":
            token = sign(self.key(), self.ctx.clock, "checkin", person.id, gen, team_id, context["week"])
            return {"checkin_url": base + checkin_path(token, team_id, context["week"])}
        if kind == "committee_soon" and link_rows.gives_opinions(s, person.id, team_id):
            token = sign(self.key(), self.ctx.clock, "committee", person.id, gen, team_id)
            return {"committee_url": base + committee_path(token, team_id)}
        return {}

    def reply_key(self, person_id: int, generation: int, team_id: int, week: str, at: datetime) -> str:
        """The key of ``person_id``'s reply about ``team_id``'s check-in of ``week``, signed as of ``at``
        (the reminder's due time: the same key whenever the message is sent again)."""
        return replykey.encode(self.key(), person_id, team_id, week, generation, at)

    def reply_addresses(self, rows: Iterable[Any]) -> dict[int, tuple[str, str]]:
        """Outbox row id -> (the Reply-To address, its key) of each weekly check-in reminder by e-mail, made
        again at delivery from the row with its person's current link generation (one query): none
        without PREINCUB_REPLY_ADDRESS, nor for a person erased or no longer in the store."""
        reply_address = self.ctx.settings.inbox.reply_address
        if not reply_address:
            return {}
        wanted = {}  # row id -> (person, team, week, due at)
        for r in rows:
            m = _REPLY_ROW.fullmatch(r.key)
            if (r.kind == "coaching" and r.channel == "email" and m and m.group(1) == r.reminder
                    and m.group(2) == str(r.team_id) and int(m.group(3)) <= _MAX_ID):
                wanted[r.id] = (int(m.group(3)), r.team_id, r.reminder.rpartition(":")[2], r.due_at)
        if not wanted:
            return {}
        with self.ctx.store.read() as s:
            people = inbox_rows.people(s.connection(), {pid for pid, *_ in wanted.values()})
        out = {}
        for row_id, (pid, team_id, week, at) in wanted.items():
            p = people.get(pid)
            if p is None or p.erased_at is not None:
                continue
            try:
                key = self.reply_key(pid, p.link_generation or 0, team_id, week, at)
            except (ValueError, struct.error):  # not an ISO week, or a number beyond the key's fields: no Reply-To
                continue
            out[row_id] = (replykey.address(reply_address, key), key)
        return out

    def signin_url(self, email: str) -> tuple[str, Grant]:
        """A sign-in link for ``email``, valid one hour (``web link``): made by whoever manages every
        programme the person appears in (a coordinator of A signs in no one of B)."""
        with self.ctx.store.read() as s:
            self.ctx.require(s, "manage")  # one who manages nothing is refused before any lookup
            p = find(s, "person", email)
            self.ctx.require_person(s, "manage", p.id)  # a person of the actor's programmes only
            grant = Grant("signin", p.id, p.email, p.name, p.lang, p.link_generation or 0, channels=p.channels)
        # A nonce: two links made in the same second are two links, each usable once.
        nonce = _secrets.token_urlsafe(6)
        path = signin_path(sign(self.key(), self.ctx.clock, "signin", p.id, grant.generation, nonce))
        return (base_url(self.ctx.settings) or "") + path, grant

    def send_signin(self, email: str) -> list[str]:
        """Make a sign-in link for ``email`` and send it at once through their channels (not through the
        outbox: the link is not kept in the store); the channels it went through."""
        # Jinja and the channels' libraries: only the few commands that send a message at once load them.
        from notifications.render import render
        from notifications.wiring import open_channel

        self.ctx.settings.check_delivery()
        url, grant = self.signin_url(email)
        if not url.startswith("http"):
            raise Invalid(N_("set PREINCUB_BASE_URL (e.g. https://preincub.example.org) to make links"),
                          code="no_base_url")
        subject, text, html = render("signin", grant.lang, {"name": grant.name, "url": url})
        msg = Message(f"signin:p{grant.person_id}:{self.ctx.clock.now().isoformat()}", grant.email, grant.name,
                      subject, text, html, grant.lang)
        sent = []
        for channel in channels_for(Person(name=grant.name, email=grant.email, channels=grant.channels)):
            try:
                with open_channel(channel, self.ctx.settings) as ch:
                    ch.send(msg)
            except DeliveryError as exc:
                raise Invalid(N_("the sign-in link could not be sent by {channel}: {reason!t}"), code="not_sent",
                              channel=channel, reason=self.ctx.settings.redact(str(exc))) from None
            sent.append(channel)
        return sent

    # ---- checking --------------------------------------------------------------------------

    def check(self, kind: str, token: str, s: Session | None = None) -> tuple[Grant, list[Any]]:
        """The grant of a valid link of ``kind`` and the rest of its payload (read in ``s`` if given).

        Invalid: tampered or not a link of this kind (400); LinkGone: expired, revoked, or its person
        is gone (410). The token itself is never in the error.
        """
        payload, _ = self._verify(kind, token)
        return self.person_grant(kind, payload[0], payload[1], s), payload[2:]

    def _verify(self, kind: str, token: str) -> tuple[list[Any], datetime]:
        """The payload of a valid token of ``kind`` and when it was signed (errors as :meth:`check`'s)."""
        try:
            payload, signed_at = serializer(self.key(), kind, self.ctx.clock).loads(
                token, max_age=int(LINK_LIFETIMES[kind].total_seconds()), return_timestamp=True)
        except SignatureExpired:
            raise LinkGone(N_("this link has expired; use the link of a more recent message, or ask a "
                              "coordinator for a new one"), code="link_expired") from None
        except BadSignature:
            raise Invalid(N_("this link is not valid (it was cut or changed); open it again from the message"),
                          code="link_invalid") from None
        if not isinstance(payload, list) or len(payload) < 2 or not all(isinstance(x, int) for x in payload[:2]):
            raise Invalid(N_("this link is not valid (it was cut or changed); open it again from the message"),
                          code="link_invalid")
        return payload, signed_at

    def person_grant(self, kind: str, person_id: int, generation: int, s: Session | None = None) -> Grant:
        """The person of a link or session, if its generation is still theirs (one Core row, no ORM object)."""
        with self._reading(s) as s:
            p = link_rows.person(s.connection(), person_id)
        if p is None or (p.link_generation or 0) != generation:
            raise LinkGone(N_("this link was revoked; ask a coordinator for a new one"), code="link_revoked")
        return Grant(kind, p.id, p.email, p.name, p.lang, generation)

    def target(self, team_id: int, s: Session | None = None) -> Target:
        """The team of a link (NotFound when it is gone); what the person may do with it is checked by the
        library's operations themselves."""
        with self._reading(s) as s:
            found = link_rows.target(s.connection(), team_id)
        if found is None:
            raise NotFound(N_("this team is no longer in the store"), code="unknown_team_id")
        row, coaches = found
        return Target(team_id, row[0], row[1], row[2], row[3], tuple(coaches))

    # ---- what a link lets its person do -------------------------------------------------------
    #
    # Each use of a link, from its token to the write, whatever channel brought it (the web's forms; a
    # reply to the message): the client parses what the person sent, calls one of these through its
    # channel (``wf.through("web").links``), and shows the result or the error. ``seen`` is called
    # with the link's grant as soon as it is known, so the client answers in that person's language
    # from then on, errors included.

    def checkin_form(self, token: str, team_id: int, week: str, *, seen: Seen | None = None) -> CheckInForm:
        """What a check-in link shows its coach (the link's errors as :meth:`checkin`'s)."""
        with self.ctx.store.read() as s:
            grant, team = self._coach_link(s, token, team_id, week, seen)
        return self._checkin_form(grant, team, week)

    def checkin(self, token: str, team_id: int, week: str, typed: CheckInText, *,
                seen: Seen | None = None) -> CheckInRecord:
        """Log the week's check-in a link asks its coach for, as them; or correct theirs, when they
        already logged one (empty fields change nothing, and a missed week stays missed).

        The link: Invalid (tampered), LinkGone (expired, revoked, or the team is closed), Forbidden (a
        link of another team or week; its person no longer coaches the team), NotFound (the team is
        gone). Then the fields: Invalid (not a date or a number, a day outside the week, or the
        library's own rules, the correction window's among them); ChangedMeanwhile when a check-in of
        theirs for that week was logged meanwhile (nothing written: show what is there).
        """
        # The link, the team and the coach's check-in of the week: one short read, before the write
        # transaction (which checks again what it relies on).
        with self.ctx.store.read() as s:
            grant, team = self._coach_link(s, token, team_id, week, seen)
            logged = link_rows.own_checkin(s.connection(), team.id, week, grant.person_id)
        return self._write_checkin(grant, team, week, typed, logged)[0]

    def _write_checkin(self, grant: Grant, team: Target, week: str, typed: CheckInText, logged: int | None,
                       also: Also | None = None) -> tuple[CheckInRecord, bool]:
        """The week's check-in logged as the grant's person, or theirs corrected (True) when ``logged`` names
        it: whatever channel brought it (the web's form, a reply by e-mail), the same rules and events."""
        checkins = CheckIns(self._as(grant))
        values = _checkin_values(typed, week, self.ctx.clock.today())
        if logged is None:
            return checkins.log(team.name, **values, once=True, also=also), False
        values.pop("missed")
        if not (typed.on or "").strip():  # a correction that names no day keeps the check-in's
            values.pop("on")
        return checkins.edit(logged, also=also, **values), True

    # ---- a reply by e-mail -----------------------------------------------------------------------
    #
    # The reminder's Reply-To carries a key (workflow.rules.replykey) that grants what its check-in link
    # grants: the same person, team and week, the same lifetime and link generation. The inbox
    # (workflow.services.inbox) reads the mail; these check its key and write its check-in.

    def reply_key_of(self, key: str) -> ReplyKey:
        """What a reply key was signed for; Invalid (code link_invalid) when it is not one of ours (cut,
        changed, or signed with another secret key). Its lifetime and person are :meth:`reply_grant`'s."""
        found = replykey.decode(self.key(), key)
        if found is None:
            raise Invalid(N_("this reply address is not valid (it was cut or changed); reply to the reminder "
                             "itself"), code="link_invalid")
        return found

    def reply_grant(self, found: ReplyKey, s: Session | None = None) -> tuple[Grant, Target, int | None]:
        """The coach and the team of a valid reply key, and the id of their check-in of its week if any: errors as the check-in link's (LinkGone when expired
        or revoked or the team is closed, NotFound when the team is gone, Forbidden when its person no longer
        coaches the team)."""
        if self.ctx.clock.now() - found.signed_at > LINK_LIFETIMES["reply"]:
            raise LinkGone(N_("this reminder is too old to be answered; reply to a more recent one, or use its "
                              "link"), code="link_expired")
        with self._reading(s) as s:
            grant = self.person_grant("reply", found.person_id, found.generation, s)
            team = self.target(found.team_id, s)
            _open_team(team.name, team.phase)
            if grant.email not in team.coaches:
                raise Forbidden(N_("you are no longer a coach of {team!q}; this link no longer works"),
                                code="no_longer_coach", team=team.name)
            logged = link_rows.own_checkin(s.connection(), team.id, found.week, grant.person_id)
        return replace(grant, team_id=team.id, week=found.week), team, logged

    def reply_checkin(self, found: ReplyKey, typed: CheckInText, *,
                      also: Callable[[Session, CheckInRecord, bool], None] | None = None) -> tuple[CheckInRecord, bool]:
        """Log the week's check-in a reply key asks its coach for, or correct theirs (True): as
        :meth:`checkin` does for the form; ``also(session, check-in, corrected)`` is written in the same
        transaction. Errors as :meth:`reply_grant`'s, then the fields' and the library's rules."""
        grant, team, logged = self.reply_grant(found)
        hook = None if also is None else lambda s, record: also(s, record, logged is not None)
        return self._write_checkin(grant, team, found.week, typed, logged, hook)

    def form_url(self, person_id: int, generation: int, team_id: int, week: str) -> str | None:
        """A fresh link to the check-in form of ``week`` (None without PREINCUB_BASE_URL): what a refused reply
        offers, when its key still stands."""
        base = base_url(self.ctx.settings)
        if base is None:
            return None
        token = sign(self.key(), self.ctx.clock, "checkin", person_id, generation, team_id, week)
        return base + checkin_path(token, team_id, week)

    def committee_form(self, token: str, team_id: int, *, seen: Seen | None = None) -> CommitteeForm:
        """What a committee link shows (the link's errors as :meth:`committee`'s)."""
        with self.ctx.store.read() as s:
            grant, target = self._link(s, "committee", token, seen, team_id)
        team = self._teams(grant).show(target.name)  # Forbidden when the person may no longer read it
        _open_team(team.name, team.phase)
        opens = date.fromisoformat(team.committee.on) if team.committee.on else None
        return CommitteeForm(grant, team, opens, opens is not None and self.ctx.clock.today() >= opens)

    def committee(self, token: str, team_id: int, opinion: str | None, *,
                  seen: Seen | None = None) -> EventRecord | None:
        """Record the committee's opinion a link asks for, as its person, once the committee has sat
        (from its day on); None before (nothing recorded).

        The link: Invalid (tampered), LinkGone (expired, revoked, or the team is closed), Forbidden (a
        link of another team; its person may no longer read the team), NotFound (the team is gone).
        Then Invalid: an empty opinion, or the library's rules of the committee.
        """
        form = self.committee_form(token, team_id, seen=seen)
        if not form.open:
            return None
        return self._teams(form.grant).committee(form.team.name, opinion=_typed_text(opinion) or "")

    def signin_check(self, token: str, *, seen: Seen | None = None) -> Grant:
        """The person a sign-in link would sign in, without using it: its page asks them to confirm with
        a button, so that a mail scanner fetching every link of a message uses nothing.

        Errors as :meth:`signin`'s (nothing is written).
        """
        payload, _signed_at = self._verify("signin", token)
        with self.ctx.store.read() as s:
            grant = self.person_grant("signin", payload[0], payload[1], s)
            if seen is not None:
                seen(grant)
            if session_rows.spent(s.connection(), _used(token)):
                raise _link_used()
        return grant

    def signin(self, token: str, *, seen: Seen | None = None) -> tuple[Grant, str]:
        """Sign in with a sign-in link, once: the person, and the id of the session it opens, which the
        client keeps (a cookie) for :meth:`session`. The store keeps the digests of the session id and of
        the used link, never either.

        Invalid, LinkGone as :meth:`check`; LinkGone too when the link was already used.
        """
        payload, signed_at = self._verify("signin", token)
        now = self.ctx.clock.now()
        session_id = _secrets.token_urlsafe(32)
        with self.ctx.store.write() as s:  # the person checked in the transaction that opens their session
            grant = self.person_grant("signin", payload[0], payload[1], s)
            if seen is not None:
                seen(grant)
            if not session_rows.spend(s, _used(token), signed_at + LINK_LIFETIMES["signin"], now):
                raise _link_used()
            session_rows.open_session(s, _digest(session_id), grant.person_id, now, now - SESSION_IDLE)
        return grant, session_id

    def session(self, session_id: str) -> Grant:
        """The person of a session :meth:`signin` opened; LinkGone once it has ended (signed out, idle
        for 8 hours, the person's links revoked, the person erased)."""
        digest, now = _digest(session_id), self.ctx.clock.now()
        with self.ctx.store.read() as s:
            row = session_rows.find(s.connection(), digest)
        if row is None or now - row.seen_at > SESSION_IDLE:
            raise LinkGone(N_("your session has ended; ask a coordinator for a new sign-in link"),
                           code="session_ended")
        if now - row.seen_at >= SESSION_TOUCH:  # page views stay reads: one stamp every few minutes
            with self.ctx.store.write() as s:
                session_rows.touch(s, digest, now)
        return Grant("session", row.id, row.email, row.name, row.lang, row.link_generation or 0)

    def end_session(self, session_id: str) -> None:
        """Sign out: the session ends on the server (its cookie, even copied, opens nothing after)."""
        with self.ctx.store.write() as s:
            session_rows.end(s, _digest(session_id))

    def _link(self, s: Session, kind: str, token: str, seen: Seen | None, team_id: int,
              *extra: Any) -> tuple[Grant, Target]:
        """The grant of a valid link for exactly this team (and week), and the team, still open."""
        grant, rest = self.check(kind, token, s)
        if seen is not None:
            seen(grant)
        if rest != [team_id, *extra]:
            raise Forbidden(N_("this link is for another team or another week; open the one of the message"),
                            code="link_elsewhere")
        team = self.target(team_id, s)
        if kind == "checkin":  # a committee's team is checked once read as its person may read it
            _open_team(team.name, team.phase)
        return grant, team

    def _coach_link(self, s: Session, token: str, team_id: int, week: str,
                    seen: Seen | None) -> tuple[Grant, Target]:
        grant, team = self._link(s, "checkin", token, seen, team_id, week)
        if grant.email not in team.coaches:
            raise Forbidden(N_("you are no longer a coach of {team!q}; this link no longer works"),
                            code="no_longer_coach", team=team.name)
        return grant, team

    def _checkin_form(self, grant: Grant, team: Target, week: str) -> CheckInForm:
        """The form's facts: the coach's check-in of the week (their last) and the team's last held one
        before it, from one read."""
        ctx = self._as(grant)
        rows = CheckIns(ctx).entries(team=team.name)  # in order of day
        mine = [c for c in rows if c.week == week and c.author == grant.email]
        previous = [c for c in rows if c.week < week and not c.missed]
        monday, sunday = week_days(week)
        window = timedelta(days=ctx.settings.coaching.checkin_edit_days)
        editable = bool(mine) and ctx.clock.now() - datetime.fromisoformat(mine[-1].created_at) <= window
        return CheckInForm(grant, team, week, monday, sunday, min(ctx.clock.today(), sunday),
                           mine[-1] if mine else None, previous[-1] if previous else None, editable)

    def _as(self, grant: Grant) -> Context:
        """This context acting as the link's person (through the same channel)."""
        return self.ctx.acting_as(validate.email(grant.email, local=True))

    def _teams(self, grant: Grant) -> Teams:
        ctx = self._as(grant)
        return Teams(ctx, CheckIns(ctx))

    # ---- revoking --------------------------------------------------------------------------

    def revoke(self, email: str) -> int:
        """Every link and session of ``email`` dies: their generation goes up by one and their sessions
        are deleted; audited. Refused as :meth:`signin_url` is, for a person of a programme the actor
        does not manage."""
        with self.ctx.store.write() as s:
            self.ctx.require(s, "manage")  # one who manages nothing is refused before any lookup
            p = find(s, "person", email)
            self.ctx.require_person(s, "manage", p.id)  # a person of the actor's programmes only
            gen = link_rows.revoke(s, p.id)
            session_rows.end_all(s, p.id)
            self.ctx.event(s, "person.revoke_links", data={"person": p.email, "generation": gen})
            return gen


def _open_team(name: str, phase: str) -> None:
    """Nothing more is recorded for a closed team: its links are gone."""
    if states.PHASES[phase].terminal:
        raise LinkGone(N_("the team {team!q} is closed ({phase!t}): nothing more can be recorded for it"),
                       code="team_closed", team=name, phase=states.PHASES[phase].label)


def week_days(week: str) -> tuple[date, date]:
    """The Monday and the Sunday of an ISO week ("2020-W47"); Invalid when it is not one, or when its
    days are not all dates (9999-W52 ends in year 10000)."""
    monday = date.fromisocalendar(*map(int, parse_week(week).replace("-W", " ").split()), 1)
    try:
        return monday, monday + timedelta(days=6)
    except OverflowError:
        raise Invalid(N_("{value!q} is out of range: use a week of a year before 9999"), code="week_out_of_range",
                      value=week) from None


def _checkin_values(typed: CheckInText, week: str, today: date) -> dict[str, Any]:
    """The typed fields as :meth:`CheckIns.log` takes them; the day must be in the link's week."""
    monday, sunday = week_days(week)
    raw_on = (typed.on or "").strip()
    try:
        on = date.fromisoformat(raw_on) if raw_on else min(today, sunday)
    except ValueError:
        raise Invalid(N_("{value!q} is not a date; use YYYY-MM-DD"), value=raw_on) from None
    if not monday <= on <= sunday:
        raise Invalid(N_("the day of the check-in must be in week {week} ({first!d} to {last!d})"),
                      code="not_in_week", week=week, first=monday, last=sunday)
    mood = _typed_number(typed.mood, "mood")
    return {"on": on, "notes": _typed_text(typed.notes), "blockers": _typed_text(typed.blockers),
            "next_steps": _typed_text(typed.next_steps), "hours": _typed_number(typed.hours, "hours"),
            "mood": int(mood) if mood is not None and mood == int(mood) else mood,
            "missed": typed.missed, "reason": _typed_text(typed.reason)}


def _typed_number(raw: str | None, what: str) -> float | None:
    """A number typed in a form, as on the command line (:func:`parse_decimal`: "2,5" or "2.5")."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return parse_decimal(raw)
    except Invalid:
        raise Invalid(N_("{what!t} must be a number"), code="not_a_number", what=what) from None


def _typed_text(raw: str | None) -> str | None:
    raw = (raw or "").replace("\r\n", "\n").strip()
    return raw or None


__all__ = ["CheckInForm", "CheckInText", "CommitteeForm", "Grant", "LINK_LIFETIMES", "LinkGone", "Links",
           "SESSION_IDLE", "SESSION_TOUCH", "base_url", "canonical", "checkin_path", "committee_path", "secret_key",
           "serializer", "sign", "signin_path", "week_days"]
