"""Signed, timed links to the web service: what a link allows, to whom, until when.

A link is an itsdangerous token (HMAC-SHA1 over a compact JSON payload, with a timestamp) signed with
the secret key: ``PREINCUB_SECRET_KEY``, else a 0600 file in the user's data directory, created on
first need (``init`` creates it too). Rotating the key invalidates every link. Each payload carries
the person's *link generation*: ``revoke`` bumps it and every earlier link of that person dies.

Kinds (the salt keeps one kind from passing for another):

- ``checkin``: one coach, one team, one ISO week; 14 days.
- ``committee``: one committee member (or coordinator), one team; 30 days.
- ``signin``: one person; one hour; it opens a session (whose cookie carries the generation too).

Timestamps come from the business clock (``--now``), so a pinned date signs and checks alike. Tokens
are never logged or put in an error: errors say what is wrong with a link, not what it was.
"""

from __future__ import annotations

import os
import secrets as _secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlmodel import Session, select

from workflow.clock import Clock
from workflow.context import Context, find
from workflow.errors import N_, Invalid, NotFound, PreincubError
from workflow.models import Person, PersonRole
from workflow.settings import Settings
from workflow.storefile import PRIVATE_FILE, private_dirs

KINDS: dict[str, timedelta] = {"checkin": timedelta(days=14), "committee": timedelta(days=30),
                               "signin": timedelta(hours=1)}
SESSION_IDLE = timedelta(hours=8)
SECRET_FILE = "secret_key"


class LinkGone(PreincubError):
    """An expired or revoked link, or one of a person no longer in the store (HTTP 410)."""


def secret_path() -> Path:
    from platformdirs import user_data_path

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
    from itsdangerous import TimestampSigner

    class ClockSigner(TimestampSigner):
        """Timestamps from the business clock (``--now``), not the machine's."""

        def get_timestamp(self) -> int:
            return int(clock.now().timestamp())

    return ClockSigner


def serializer(key: str, kind: str, clock: Clock):
    from itsdangerous import URLSafeTimedSerializer

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


# The reads of every form request, built once (building a statement costs more than running it on SQLite).
def _statements() -> tuple[Any, ...]:
    from workflow.models import CheckIn, Partner, Programme, Team, TeamMember

    grant = select(Person.id, Person.email, Person.name, Person.lang, Person.link_generation).where(
        Person.id == sa.bindparam("person"))
    target = (select(Team.name, Team.phase, Programme.name, Partner.name)
              .join(Programme, Programme.id == Team.programme_id)
              .outerjoin(Partner, Partner.id == Team.partner_id).where(Team.id == sa.bindparam("team")))
    coaches = (select(Person.email).join(TeamMember, TeamMember.person_id == Person.id)
               .where(TeamMember.team_id == sa.bindparam("team"), TeamMember.role == "coach"))
    own = (select(CheckIn.id).where(CheckIn.team_id == sa.bindparam("team"), CheckIn.week == sa.bindparam("week"),
                                    CheckIn.author_id == sa.bindparam("person")).order_by(CheckIn.id.desc()))
    return grant, target, coaches, own


_GRANT, _TARGET, _COACHES, _OWN_CHECKIN = _statements()


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
        if kind == "committee_soon" and s.exec(select(PersonRole.role).where(
                PersonRole.person_id == person.id, PersonRole.role.in_(("committee", "coordinator")))).first():
            token = sign(self.key(), self.ctx.clock, "committee", person.id, gen, team_id)
            return {"committee_url": base + committee_path(token, team_id)}
        return {}

    def signin_url(self, email: str) -> tuple[str, Grant]:
        """A sign-in link for ``email``, valid one hour (coordinators make them: ``web link``)."""
        with self.ctx.store.read() as s:
            self.ctx.require(s, "manage")
            p = find(s, "person", email)
            grant = Grant("signin", p.id, p.email, p.name, p.lang, p.link_generation or 0, channels=p.channels)
        path = signin_path(sign(self.key(), self.ctx.clock, "signin", p.id, grant.generation))
        return (base_url(self.ctx.settings) or "") + path, grant

    def send_signin(self, email: str) -> list[str]:
        """Make a sign-in link for ``email`` and send it at once through their channels (not through the
        outbox: the link is not kept in the store); the channels it went through."""
        from notifications.message import DeliveryError, Message
        from notifications.render import render
        from notifications.wiring import open_channel
        from workflow.outbox import channels_for

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
        from itsdangerous import BadSignature, SignatureExpired

        try:
            payload = serializer(self.key(), kind, self.ctx.clock).loads(
                token, max_age=int(KINDS[kind].total_seconds()))
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
            p = s.connection().execute(_GRANT, {"person": person_id}).first()
        if p is None or (p.link_generation or 0) != generation:
            raise LinkGone(N_("this link was revoked; ask a coordinator for a new one"), code="link_revoked")
        return Grant(kind, p.id, p.email, p.name, p.lang, generation)

    def target(self, team_id: int, s: Session | None = None) -> Target:
        """The team of a link (NotFound when it is gone); what the person may do with it is checked by the
        library's operations themselves."""
        with self._reading(s) as s:
            conn = s.connection()
            row = conn.execute(_TARGET, {"team": team_id}).first()
            if row is None:
                raise NotFound(N_("this team is no longer in the store"), code="unknown_team_id")
            coaches = conn.execute(_COACHES, {"team": team_id}).scalars().all()
        return Target(team_id, row[0], row[1], row[2], row[3], tuple(coaches))

    def own_checkin(self, team_id: int, week: str, person_id: int, s: Session | None = None) -> int | None:
        """The id of the check-in ``person_id`` logged for that team and week, if any (one indexed
        lookup: a submission corrects it rather than logging a second one)."""
        with self._reading(s) as s:
            return s.connection().execute(_OWN_CHECKIN, {"team": team_id, "week": week,
                                                         "person": person_id}).scalars().first()

    # ---- revoking --------------------------------------------------------------------------

    def revoke(self, email: str) -> int:
        """Every link and session of ``email`` dies: their generation goes up by one; audited."""
        with self.ctx.store.write() as s:
            self.ctx.require(s, "manage")
            p = find(s, "person", email)
            s.execute(sa.update(Person).where(Person.id == p.id)
                      .values(link_generation=Person.link_generation + 1))
            gen = s.execute(select(Person.link_generation).where(Person.id == p.id)).scalar_one()
            self.ctx.event(s, "person.revoke_links", data={"person": p.email, "generation": gen})
            return gen


__all__ = ["Grant", "KINDS", "LinkGone", "Links", "SESSION_IDLE", "base_url", "checkin_path",
           "committee_path", "secret_key", "sign", "signin_path"]
