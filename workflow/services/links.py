"""Signed, timed links to the web service: what a link allows, to whom, until when.

A link is an itsdangerous token (HMAC-SHA1 over a compact JSON payload, with a timestamp) signed with
the secret key: ``PREINCUB_SECRET_KEY``, else a 0600 file in the user's data directory, created on
first need (``init`` creates it too). Rotating the key invalidates every link. Each payload carries
the person's *link generation*: ``revoke`` bumps it and every earlier link of that person dies.

Kinds (the salt keeps one kind from passing for another):

- ``checkin``: one coach, one team, one ISO week; 14 days.
- ``committee``: one committee member (or coordinator) of the team's programme, one team; 30 days.
- ``signin``: one person; one hour; it opens a session (whose cookie carries the generation too).

Timestamps come from the business clock (``--now``), so a pinned date signs and checks alike. Tokens
are never logged or put in an error: errors say what is wrong with a link, not what it was.

What a link lets its person do is written here once, from the token to the write, for every channel
that brings one (the web's forms today): log or correct the week's check-in, record the committee's
opinion, sign in.
"""

from __future__ import annotations

import os
import secrets as _secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from platformdirs import user_data_path

import states
from notifications.message import DeliveryError, Message
from workflow.clock import Clock
from workflow.context import Context, find
from workflow.errors import N_, Forbidden, Invalid, NotFound, PreincubError
from workflow.records import CheckInRecord, EventRecord, TeamRecord
from workflow.rules import validate
from workflow.rules.coaching import parse_week
from workflow.services.checkins import CheckIns
from workflow.services.outbox import channels_for
from workflow.services.teams import Teams
from workflow.settings import Settings
from workflow.store import links as link_rows
from workflow.store.engine import Session
from workflow.store.files import PRIVATE_FILE, private_dirs
from workflow.store.models import Person

LINK_LIFETIMES: dict[str, timedelta] = {"checkin": timedelta(days=14), "committee": timedelta(days=30),
                                        "signin": timedelta(hours=1)}
SESSION_IDLE = timedelta(hours=8)
SECRET_FILE = "secret_key"


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

    return ClockSigner


def serializer(key: str, kind: str, clock: Clock):
    return URLSafeTimedSerializer(key, salt=f"preincub.{kind}", signer=_signer_class(clock))


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

    def signin_url(self, email: str) -> tuple[str, Grant]:
        """A sign-in link for ``email``, valid one hour (``web link``): made by whoever manages every
        programme the person appears in (a coordinator of A signs in no one of B)."""
        with self.ctx.store.read() as s:
            self.ctx.require(s, "manage")  # one who manages nothing is refused before any lookup
            p = find(s, "person", email)
            self.ctx.require_person(s, "manage", p.id)  # a person of the actor's programmes only
            grant = Grant("signin", p.id, p.email, p.name, p.lang, p.link_generation or 0, channels=p.channels)
        path = signin_path(sign(self.key(), self.ctx.clock, "signin", p.id, grant.generation))
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
        try:
            payload = serializer(self.key(), kind, self.ctx.clock).loads(
                token, max_age=int(LINK_LIFETIMES[kind].total_seconds()))
        except SignatureExpired:
            raise LinkGone(N_("this link has expired; use the link of a more recent message, or ask a "
                              "coordinator for a new one"), code="link_expired") from None
        except BadSignature:
            raise Invalid(N_("this link is not valid (it was cut or changed); open it again from the message"),
                          code="link_invalid") from None
        if not isinstance(payload, list) or len(payload) < 2 or not all(isinstance(x, int) for x in payload[:2]):
            raise Invalid(N_("this link is not valid (it was cut or changed); open it again from the message"),
                          code="link_invalid")
        return self.person_grant(kind, payload[0], payload[1], s), payload[2:]

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
        checkins = CheckIns(self._as(grant))
        values = _checkin_values(typed, week, self.ctx.clock.today())
        if logged is None:
            return checkins.log(team.name, **values, once=True)
        values.pop("missed")
        return checkins.edit(logged, **values)

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

    def signin(self, token: str) -> Grant:
        """The person a sign-in link signs in (Invalid, LinkGone as :meth:`check`): a client keeps
        their id and link generation in its session, and :meth:`session` finds them again."""
        return self.check("signin", token)[0]

    def session(self, person_id: int, generation: int) -> Grant:
        """The person of a session: LinkGone once their links were revoked (sessions end with them)."""
        return self.person_grant("session", person_id, generation)

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
        """Every link and session of ``email`` dies: their generation goes up by one; audited. Refused as
        :meth:`signin_url` is, for a person of a programme the actor does not manage."""
        with self.ctx.store.write() as s:
            self.ctx.require(s, "manage")  # one who manages nothing is refused before any lookup
            p = find(s, "person", email)
            self.ctx.require_person(s, "manage", p.id)  # a person of the actor's programmes only
            gen = link_rows.revoke(s, p.id)
            self.ctx.event(s, "person.revoke_links", data={"person": p.email, "generation": gen})
            return gen


def _open_team(name: str, phase: str) -> None:
    """Nothing more is recorded for a closed team: its links are gone."""
    if states.PHASES[phase].terminal:
        raise LinkGone(N_("the team {team!q} is closed ({phase!t}): nothing more can be recorded for it"),
                       code="team_closed", team=name, phase=states.PHASES[phase].label)


def week_days(week: str) -> tuple[date, date]:
    """The Monday and the Sunday of an ISO week ("2020-W47"); Invalid when it is not one."""
    monday = date.fromisocalendar(*map(int, parse_week(week).replace("-W", " ").split()), 1)
    return monday, monday + timedelta(days=6)


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
    raw = (raw or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise Invalid(N_("{what!t} must be a number"), code="not_a_number", what=what) from None


def _typed_text(raw: str | None) -> str | None:
    raw = (raw or "").replace("\r\n", "\n").strip()
    return raw or None


__all__ = ["CheckInForm", "CheckInText", "CommitteeForm", "Grant", "LINK_LIFETIMES", "LinkGone", "Links",
           "SESSION_IDLE", "base_url", "checkin_path", "committee_path", "secret_key", "sign", "signin_path", "week_days"]
