"""The store's tables (SQLModel). Datetimes are stored in UTC and come back timezone-aware."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import BigInteger, Index, UniqueConstraint, func, select
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (naive storage) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware one")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _when() -> datetime:  # a column's type; values always come from the Clock
    return Field(sa_type=UTCDateTime)


class Programme(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    kind: str
    signed_on: date  # the day the agreement takes effect
    months: int
    capacity: int
    min_days_per_week: float
    created_at: datetime = _when()


class Partner(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("programme_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id")
    name: str
    kind: str
    insee: str | None = None  # its INSEE code ("80", "2A", "971"): a Démarches Simplifiées département matches it


class Person(SQLModel, table=True):
    __table_args__ = (Index("uq_person_login", "login", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    name: str
    email: str = Field(unique=True)  # stored lower-case
    # The system user name this person acts as when no --as is given (the first coordinator, at init).
    login: str | None = None
    channels: str = "email"  # comma-separated: email, chat, console (unconfigured ones fall back to console)
    lang: str = "fr"  # of the reminders they receive
    created_at: datetime = _when()
    link_generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # web links carry it: `person revoke-links` bumps it, and every earlier link dies
    # Set by `person erase`: name and e-mail are a pseudonym since; no message goes to them, no one acts as them.
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PersonRole(SQLModel, table=True):
    __tablename__ = "person_role"
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    role: str = Field(primary_key=True)


class PersonGrant(SQLModel, table=True):
    """A role held *in* something: ``admin`` of the instance (no programme); ``coordinator`` or
    ``committee`` of a programme; ``partner`` reader of one partner body of a programme. Team roles
    (coach, intrapreneur, sponsor) stay in ``person_role``, and ``team_member`` says of which teams."""

    __tablename__ = "person_grant"
    __table_args__ = (Index("uq_person_grant", "person_id", "role", "programme_id", "partner_id", unique=True),
                      Index("ix_person_grant_programme", "programme_id", "role"))
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    role: str  # admin, coordinator, committee, partner
    programme_id: int | None = Field(default=None, foreign_key="programme.id")  # None: the instance (admin)
    partner_id: int | None = Field(default=None, foreign_key="partner.id")  # a partner reader's body


class PersonMute(SQLModel, table=True):
    """A kind of reminder a person chose not to receive (``person edit --mute``, or a message's one-click
    unsubscribe link). Deadline and notice messages to a programme's coordinators are never muted."""

    __tablename__ = "person_mute"
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    kind: str = Field(primary_key=True)  # a reminder kind (workflow.rules.due)


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random id; the store holds its SHA-256 only, so sign-out
    (and ``person revoke-links``) ends the session on the server: a copied cookie opens nothing after."""

    __tablename__ = "web_session"
    __table_args__ = (Index("ix_web_session_person", "person_id"),)
    id_hash: str = Field(primary_key=True)  # hex SHA-256 of the cookie's session id
    person_id: int = Field(foreign_key="person.id")
    created_at: datetime = _when()
    seen_at: datetime = _when()  # last request (idle expiry)


class SpentLink(SQLModel, table=True):
    """A single-use link already used (a sign-in link): its signature's SHA-256, kept until it expires."""

    __tablename__ = "spent_link"
    digest: str = Field(primary_key=True)
    until: datetime = _when()  # the link's own expiry: a row past it can go

class Team(SQLModel, table=True):
    __table_args__ = (Index("ix_team_programme_phase", "programme_id", "phase"), Index("ix_team_phase", "phase"),
                      Index("ix_team_programme_name", "programme_id", "name"))  # the listings' order
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    programme_id: int = Field(foreign_key="programme.id")
    partner_id: int | None = Field(default=None, foreign_key="partner.id")
    problem: str | None = None
    phase: str
    phase_since: datetime = _when()
    version: int = 1  # compare-and-swap: every change bumps it
    poc_summary: str | None = None
    poc_link: str | None = None
    committee_on: date | None = None
    committee_opinion: str | None = None
    created_at: datetime = _when()


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_member"
    __table_args__ = (Index("ix_team_member_person", "person_id"),)
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    role: str = Field(primary_key=True)  # intrapreneur, coach, sponsor
    days_per_week: float | None = None  # an intrapreneur's time commitment


def coach_email():
    """The team's coach e-mail (the first, when several), correlated to the query's ``team`` row: for
    set-based listings, one primary-key lookup per team rather than a grouped join over all of them."""
    return (select(func.min(Person.email)).select_from(TeamMember).join(Person, Person.id == TeamMember.person_id)
            .where(TeamMember.team_id == Team.id, TeamMember.role == "coach").scalar_subquery())


def commitment(days: list[float | None]) -> float | None:
    """A team's intrapreneur time: the smallest commitment, unknown while one is not recorded."""
    return min(days) if days and all(d is not None for d in days) else None  # type: ignore[type-var]


class DsSync(SQLModel, table=True):
    """Where the sync of one Démarches Simplifiées démarche stands: the programme it feeds, the
    ``updatedSince`` of the next sync and the cursor of a sync cut short (resumed from there)."""

    __tablename__ = "ds_sync"
    demarche: int = Field(primary_key=True, sa_type=BigInteger)  # the démarche's number
    programme_id: int = Field(foreign_key="programme.id")
    updated_since: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the next sync asks from there
    cursor: str | None = None  # after the last page committed, while a sync is unfinished
    synced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the last sync that finished
    wanted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # a hint from DS: sync soon
    failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the last sync that failed, and why
    error: str | None = None


class DsDossier(SQLModel, table=True):
    """A team that came from a DS dossier: keyed by the dossier's DS id (its number too: a deletion record
    names the number), with its state and last modification as DS gave them."""

    __tablename__ = "ds_dossier"
    __table_args__ = (Index("ix_ds_dossier_number", "demarche", "number"),)
    ds_id: str = Field(primary_key=True)
    demarche: int = Field(foreign_key="ds_sync.demarche", sa_type=BigInteger)
    number: int = Field(sa_type=BigInteger)
    team_id: int | None = Field(default=None, foreign_key="team.id", unique=True)  # None: never a live team
    state: str  # en_construction, en_instruction, accepte, refuse, sans_suite
    updated_at: datetime = _when()  # dateDerniereModification
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # listed in deletedDossiers

class InboundMail(SQLModel, table=True):
    """One e-mail received at the reply address (LMTP, SMTP or IMAP), once: keyed by the digest of its
    Message-ID, so the same mail delivered twice is handled once. What became of it, never what it said
    nor who sent it when that was not the key's person."""

    __tablename__ = "inbound_mail"
    __table_args__ = (Index("ix_inbound_mail_received", "received_at"),)
    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(unique=True)  # SHA-256 of the Message-ID (of the whole message when it has none)
    received_at: datetime = _when()  # business clock
    via: str  # lmtp, smtp, imap
    outcome: str  # logged, corrected, refused, ignored
    reason: str | None = None  # the error's code (refused) or why it was ignored (auto_reply, bounce...)
    person_id: int | None = Field(default=None, foreign_key="person.id")  # the key's person, when the key was ours
    team_id: int | None = Field(default=None, foreign_key="team.id")
    week: str | None = None
    checkin_id: int | None = Field(default=None, foreign_key="checkin.id")
    size: int = 0  # bytes received


class InboxPoll(SQLModel, table=True):
    """How the mailbox poller fares (``daemon status``, ``inbox status``): its last attempt, its last
    success, and the error of a failed one."""

    __tablename__ = "inbox_poll"
    name: str = Field(primary_key=True)  # "imap"
    polled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ok_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = None
    handled: int = 0  # messages handled by the last poll that succeeded


class ReminderPlan(SQLModel, table=True):
    """What the last full look at the reminders saw: the audit chain's head then (every change the reminders
    depend on writes an event), the settings they depend on, and when. Until the head or the settings
    change and until the next moment a reminder can fall due, a tick has nothing new to enqueue."""

    __tablename__ = "reminder_plan"
    name: str = Field(primary_key=True)  # "all": the instance administrator's view (the daemon's)
    events: int  # audit_head.count when the look began
    head: str  # audit_head.hash then
    settings: str  # a digest of the settings reminders depend on
    computed_at: datetime = _when()  # business clock


class Assessment(SQLModel, table=True):
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    real: bool | None = None
    major: bool | None = None
    actionable: bool | None = None
    note: str | None = None
    at: datetime = _when()
    actor: str


class Agreement(SQLModel, table=True):
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    party: str = Field(primary_key=True)  # partner, operator
    at: datetime = _when()
    actor: str


class PhasePeriod(SQLModel, table=True):
    __tablename__ = "phase_period"
    __table_args__ = (Index("ix_phase_period_team", "team_id", "start"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    phase: str
    start: datetime = _when()
    end: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Event(SQLModel, table=True):
    """The audit trail: append-only and hash-chained (``workflow.store.events``; verified by ``workflow.services.audit``).

    ``hash`` covers the previous event's hash and this event's content with pseudonymous ids only (the
    actor's person id, never their name or e-mail). The personal part (``actor``, ``reason``, ``data``)
    is kept beside it, covered by ``digest`` = a hash of it salted with ``salt``: an erasure rewrites the
    personal part and forgets the salt, and the chain stays valid. The database refuses DELETE, and
    UPDATE of any hashed column.
    """

    __table_args__ = (Index("ix_event_team", "team_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when()
    actor: str  # personal: an e-mail or "<login> (system user)"
    actor_id: int | None = Field(default=None, foreign_key="person.id")  # hashed: who, pseudonymously
    team_id: int | None = Field(default=None, foreign_key="team.id")
    action: str  # advance, team.add, team.edit, assess, agree, poc, committee, programme.add, ...
    trigger: str | None = None
    from_phase: str | None = None
    to_phase: str | None = None
    reason: str | None = None  # personal: free text
    forced: bool = False
    data: str | None = None  # personal: JSON
    salt: str | None = None  # of ``digest``; NULL once the personal part was erased or purged
    digest: str | None = None  # hashed: sha256 of the salted personal part
    hash: str | None = None  # sha256 of the previous event's hash and this event's hashed content
    # hashed: the figures this event wrote (check-in hours, amounts, notice dates...; texts as digests salted
    # with ``salt``), JSON {table: {id: {column: value}}}: what ``audit verify`` holds the tables to
    figures: str | None = None


class AuditHead(SQLModel, table=True):
    """The chain's head, one row: the write lock every event insert takes, and what catches a deleted last event."""

    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True)
    count: int = 0  # events chained
    hash: str = ""  # the last event's hash ("" before the first)


class CheckIn(SQLModel, table=True):
    """A coach's weekly check-in with a team (point hebdomadaire), or a week recorded as missed."""

    __tablename__ = "checkin"
    __table_args__ = (Index("ix_checkin_team_week", "team_id", "week"), Index("ix_checkin_author", "author_id"))
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    author_id: int = Field(foreign_key="person.id")
    on: date  # the day it was held, in Europe/Paris
    week: str  # its ISO week, "2020-W30": what coaching is counted in
    notes: str | None = None
    blockers: str | None = None
    next_steps: str | None = None
    hours: float | None = None  # the intrapreneur's time on the project that week
    mood: int | None = None  # 1 to 5
    missed: bool = False
    reason: str | None = None  # why it was missed
    created_at: datetime = _when()
    updated_at: datetime = _when()


class Outbox(SQLModel, table=True):
    """One message to one person on one channel. ``key`` is unique: enqueuing twice is a no-op."""

    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"), Index("ix_outbox_due", "due_at"))
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)  # <reminder key>:p<person id>:<channel>; travels with the message
    reminder: str  # the reminder's own key, e.g. coaching:12:2020-W30 or deadline:1:J-7
    kind: str
    channel: str
    recipient: str  # e-mail address
    recipient_name: str
    lang: str
    subject: str
    body_text: str
    body_html: str
    team_id: int | None = Field(default=None, foreign_key="team.id")
    programme_id: int | None = Field(default=None, foreign_key="programme.id")
    due_at: datetime = _when()
    status: str = "pending"  # pending, sending, sent, failed, cancelled
    attempts: int = 0
    next_attempt_at: datetime = _when()
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = None
    last_error: str | None = None
    created_at: datetime = _when()
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Retried while the reminder is current: failed only from stale_at on (NULL: retried by hand, see RETRY_MAX).
    stale_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)  # first failed attempt (wall time)
    sent_via: str | None = None  # the channel that delivered it: its own, or the console (--console)
    in_reply_to: str | None = None  # an answer to an e-mail: its thread of Message-IDs, the answered one last


class DaemonLease(SQLModel, table=True):
    """Which daemon ticks (one at a time), until when, and when it last ticked."""

    __tablename__ = "daemon_lease"
    name: str = Field(primary_key=True)
    holder: str
    until: datetime = _when()
    last_tick_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_tick: str | None = None  # JSON summary of the last tick
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the holder renewed its lease (wall time)


# ---- agreements and money (amounts in integer cents: exact; ``workflow.rules.money`` gives them as Decimal euros) ----

class Signature(SQLModel, table=True):
    """One signature of a programme's agreement; it takes effect at the last one (seed 2: 23 and 31 October 2019)."""

    __table_args__ = (Index("ix_signature_programme", "programme_id", "signed_on"),)
    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id")
    signed_on: date


class Funding(SQLModel, table=True):
    """What one partner contributes to a programme: a cap, a share of the expenses, and when it pays."""

    __table_args__ = (UniqueConstraint("programme_id", "partner_id"),)
    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id")
    partner_id: int = Field(foreign_key="partner.id")
    cap_cents: int = Field(sa_type=BigInteger)
    share_bp: int = 10000  # its share of the expenses, in hundredths of a percent (50 % = 5000)
    payment: str  # after-statement (seed 1), on-signature (seed 2)
    created_at: datetime = _when()
    updated_at: datetime = _when()


class Expense(SQLModel, table=True):
    """An expense the operator really incurred for a programme (what the partners' shares are of)."""

    __table_args__ = (Index("ix_expense_programme", "programme_id", "on"),)
    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id")
    amount_cents: int = Field(sa_type=BigInteger)
    on: date
    label: str
    created_at: datetime = _when()


class Statement(SQLModel, table=True):
    """A statement of the expenses really incurred, issued to one partner: its figures as issued."""

    __table_args__ = (Index("ix_statement_funding", "funding_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    funding_id: int = Field(foreign_key="funding.id")
    issued_on: date
    expenses_cents: int = Field(sa_type=BigInteger)
    due_cents: int = Field(sa_type=BigInteger)
    created_at: datetime = _when()


class Payment(SQLModel, table=True):
    """The one single payment of a partner's funding (both agreements): unique per funding."""

    id: int | None = Field(default=None, primary_key=True)
    funding_id: int = Field(foreign_key="funding.id", unique=True)
    on: date
    amount_cents: int = Field(sa_type=BigInteger)
    created_at: datetime = _when()


class Notice(SQLModel, table=True):
    """A formal notice (mise en demeure) to a partner: left unanswered for one month, the agreement is terminable."""

    __table_args__ = (Index("ix_notice_programme", "programme_id", "on"),)
    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id")
    partner_id: int = Field(foreign_key="partner.id")
    on: date
    breach: str
    answered_on: date | None = None
    answer: str | None = None
    created_at: datetime = _when()
