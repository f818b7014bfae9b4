"""What reads return: frozen, slotted records with typed fields, not untyped dicts.

A record's fields are its JSON keys, in order (``json_key`` renames one that is a Python keyword),
so the CLI's one serializer builds the output from the class alone, without ``asdict``'s deep copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal
from operator import attrgetter
from typing import Any

from states.guards import Unmet


@dataclass(frozen=True, slots=True)
class TeamRow:
    """One team in ``status`` and ``team list``."""

    name: str
    programme: str
    partner: str | None
    phase: str
    phase_since: str | None
    coach: str | None
    deadline: str
    days_left: int | None
    last_checkin: str | None
    weeks_missing: int | None
    drifting: bool


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One audit event, as ``history`` lists it and a write returns it (JSON key ``from`` for ``from_``)."""

    at: str | None
    actor: str
    action: str
    trigger: str | None
    from_: str | None = field(metadata={"json_key": "from"})
    to: str | None
    reason: str | None
    forced: bool
    data: Any


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """The audit trail verified whole (``audit verify``): its events, those whose personal part was
    erased (their digest can no longer be checked), the last one's id and hash (the head: noted
    elsewhere, it also shows a rewrite of the whole trail)."""

    events: int
    erased: int
    last: int | None
    head: str



@dataclass(frozen=True, slots=True)
class PartnerRecord:
    """A partner body of a programme, as the programme lists it."""

    name: str
    kind: str
    insee: str | None = None  # its INSEE département code ("80", "2A", "971"), when given


@dataclass(frozen=True, slots=True)
class ProgrammeRecord:
    """A programme with its deadline, places taken and teams by phase."""

    name: str
    kind: str
    signed_on: str  # the day the agreement takes effect: its last signature
    signatures: tuple[str, ...]  # every signature's day, in order
    months: int
    deadline: str
    days_left: int
    expired: bool
    capacity: int
    places_taken: int
    min_days_per_week: float
    partners: tuple[PartnerRecord, ...]
    teams: int
    teams_by_phase: dict[str, int]


@dataclass(frozen=True, slots=True)
class GrantRecord:
    """A role held in a place: the instance (no programme), a programme, a partner body of a programme."""

    role: str
    programme: str | None = None
    partner: str | None = None


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """A person with their roles, where they hold them (as far as the reader may see), reminder
    channels and language."""

    name: str
    email: str
    roles: tuple[str, ...]
    channels: tuple[str, ...]
    lang: str
    grants: tuple[GrantRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class CheckInRecord:
    """One weekly check-in (or a week recorded as missed, with its reason)."""

    id: int
    team: str
    author: str
    on: str
    week: str
    notes: str | None
    blockers: str | None
    next_steps: str | None
    hours: float | None
    mood: int | None
    missed: bool
    reason: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One message of the outbox, to one person on one channel."""

    id: int
    key: str
    kind: str
    channel: str
    to: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    due_at: str
    stale_at: str | None
    next_attempt_at: str | None
    failing_since: str | None
    sent_at: str | None
    sent_via: str | None


@dataclass(frozen=True, slots=True)
class Member:
    """A coach or sponsor of a team."""

    name: str
    email: str


@dataclass(frozen=True, slots=True)
class Intrapreneur:
    """An intrapreneur of a team, with the days a week they commit (None: not said)."""

    name: str
    email: str
    days_per_week: float | None


@dataclass(frozen=True, slots=True)
class ProofOfConcept:
    """What the team will present to the committee."""

    summary: str | None
    link: str | None


@dataclass(frozen=True, slots=True)
class Committee:
    """The committee's date and, once it has heard the team, its opinion."""

    on: str | None
    opinion: str | None


@dataclass(frozen=True, slots=True)
class PhaseSpan:
    """A time the team spent in one phase (``end`` None: it is there now)."""

    phase: str
    start: str | None
    end: str | None


@dataclass(frozen=True, slots=True)
class CoachingRecord:
    """Coaching weeks held / expected, last check-in, hours a week against the commitment."""

    weeks_expected: int
    weeks_held: int
    weeks_missing: tuple[str, ...]
    last_checkin: str | None
    hours_per_week: float | None
    hours_committed: float | None
    hours_shortfall: bool


@dataclass(frozen=True, slots=True)
class TeamRecord:
    """One team's full record, as ``team show`` prints it."""

    name: str
    programme: str
    partner: str | None
    phase: str
    phase_since: str | None
    deadline: str
    days_left: int | None
    coach: str | None
    problem: str | None
    intrapreneurs: tuple[Intrapreneur, ...]
    coaches: tuple[Member, ...]
    sponsors: tuple[Member, ...]
    criteria: dict[str, bool | None]
    assessment_note: str | None
    agreements: tuple[str, ...]
    poc: ProofOfConcept
    committee: Committee
    phases: tuple[PhaseSpan, ...]
    coaching: CoachingRecord
    version: int
    ds: DsOrigin | None = None  # the Démarches Simplifiées dossier the team came from


@dataclass(frozen=True, slots=True)
class DsOrigin:
    """The DS dossier a team came from: its démarche, number and state, and when DS deleted it (flagged)."""

    demarche: int
    number: int
    state: str
    updated_at: str
    deleted_at: str | None


@dataclass(frozen=True, slots=True)
class ProgrammePartner:
    """A partner body just added, with its programme (``add_partner``)."""

    name: str
    programme: str
    kind: str
    insee: str | None = None


@dataclass(frozen=True, slots=True)
class CheckRecord:
    """Which triggers may fire now (those that need a reason too), and for each blocked one every unmet
    condition (``states.Unmet``: code, message and params, whether it is only missing)."""

    available: tuple[str, ...]
    blocked: dict[str, tuple[Unmet, ...]]
    team: str
    phase: str
    needs_reason: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GapRecord:
    """A team in investigation with weeks that have no check-in (``gaps``)."""

    team: str
    programme: str
    partner: str | None
    coach: str | None
    investigation_since: str
    weeks_expected: int
    weeks_held: int
    weeks_missing: tuple[str, ...]
    missed_recorded: tuple[str, ...]
    last_checkin: str | None


@dataclass(frozen=True, slots=True)
class PlannedMessage:
    """A message a reminder would enqueue (``remind_preview``): when, what, to whom, on which channel."""

    at: str
    kind: str
    reminder: str
    to: str | None  # None: no real address (a placeholder): nothing is sent
    channel: str
    subject: str
    key: str


@dataclass(frozen=True, slots=True)
class TickResult:
    """What one tick did: messages enqueued, then sent, to retry, failed, waiting for an unconfigured
    channel; ``next_tick``: the daemon's next scheduled one; ``skipped``: another daemon held the lease."""

    at: str
    holder: str
    enqueued: int = 0
    sent: int = 0
    retry: int = 0
    failed: int = 0
    waiting: int = 0
    next_tick: str | None = None
    skipped: bool = False


@dataclass(frozen=True, slots=True)
class TickRecord:
    """The last recorded tick (``last_tick``): its counts, when it ran (``wall``), who holds the lease."""

    at: str | None
    holder: str | None
    enqueued: int
    sent: int
    retry: int
    failed: int
    waiting: int
    next_tick: str | None
    wall: str
    lease_holder: str
    lease_until: str


@dataclass(frozen=True, slots=True)
class OutboxHealth:
    """The outbox for monitoring: pending (of which retrying, and for over an hour) and failed."""

    pending: int
    retrying: int
    retrying_over_an_hour: int
    failed: int
    failing_since: str | None
    healthy: bool


@dataclass(frozen=True, slots=True)
class HealthRecord:
    """``daemon status``: the last tick, the outbox's counts, and what makes it unhealthy; the lease's
    ``holder`` and its last ``heartbeat_at``, from the first tick on (a tick in progress shows there)."""

    healthy: bool
    problems: tuple[str, ...]
    last_tick: TickRecord | None
    pending: int
    retrying: int
    retrying_over_an_hour: int
    failed: int
    failing_since: str | None
    holder: str | None = None
    heartbeat_at: str | None = None
    lease_held: bool = False  # the holder's lease is live now (it ticks); else it was released or lapsed
    poller: PollerRecord | None = None  # the IMAP mailbox poller (PREINCUB_IMAP_URL): None before its first poll


@dataclass(frozen=True, slots=True)
class Received:
    """What became of one e-mail received at the reply address (``inbox serve``, ``inbox poll``).

    ``outcome``: logged (a new check-in), corrected (the coach's check-in of that week), refused (``reason``
    is the error's code; the sender was answered), ignored (an auto-reply or a bounce: ``reason`` says
    which; never answered) or duplicate (its Message-ID was already received: nothing done)."""

    outcome: str
    reason: str | None = None
    team: str | None = None
    week: str | None = None
    checkin: int | None = None
    answered: bool = False


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """One e-mail received, as ``inbox status`` lists it (never what it said)."""

    received_at: str
    via: str
    outcome: str
    reason: str | None
    team: str | None
    week: str | None
    person: str | None
    checkin: int | None


@dataclass(frozen=True, slots=True)
class InboxCount:
    outcome: str
    reason: str | None
    count: int


@dataclass(frozen=True, slots=True)
class PollerRecord:
    """How the mailbox poller fares: its last attempt, its last success (and how many mails it handled),
    and the error of the last attempt when it failed."""

    polled_at: str | None
    ok_at: str | None
    handled: int
    error: str | None


@dataclass(frozen=True, slots=True)
class InboxStatus:
    """``inbox status``: the mails received over a period, counted by outcome and reason, the latest
    listed, and the poller's health (None when PREINCUB_IMAP_URL is not set and it never polled)."""

    since: str
    until: str
    received: int
    logged: int
    corrected: int
    refused: int
    ignored: int
    counts: tuple[InboxCount, ...]
    entries: tuple[InboxEntry, ...]
    poller: PollerRecord | None


@dataclass(frozen=True, slots=True)
class PollResult:
    """One poll of the mailbox: how many mails it found and what became of them."""

    found: int
    logged: int = 0
    corrected: int = 0
    refused: int = 0
    ignored: int = 0
    duplicate: int = 0


_KEYS: dict[type, tuple[tuple[str, str], ...]] = {}


def json_keys(cls: type) -> tuple[tuple[str, str], ...]:
    """``(attribute, JSON key)`` of a record class, computed once per class."""
    keys = _KEYS.get(cls)
    if keys is None:
        keys = _KEYS[cls] = tuple((f.name, f.metadata.get("json_key", f.name)) for f in fields(cls))
    return keys


def plain(value: Any) -> Any:
    """A record (or tuple, list, dict of them) as JSON-ready dicts and lists: the one serializer."""
    cls = type(value)
    if cls in _KEYS or hasattr(cls, "__dataclass_fields__"):
        return {k: plain(getattr(value, a)) for a, k in json_keys(cls)}
    if cls is list or cls is tuple:
        return [plain(v) for v in value]
    if cls is dict:
        return {k: plain(v) for k, v in value.items()}
    if cls is Decimal:  # money: its exact text ("9000.00"), never a float
        return str(value)
    return value


def row_plain(cls: type) -> Any:
    """A fast serializer for a flat record class (no nested records): one dict per row."""
    attrs = tuple(a for a, _ in json_keys(cls))
    keys = tuple(k for _, k in json_keys(cls))
    get = attrgetter(*attrs)
    return lambda r: dict(zip(keys, get(r)))


@dataclass(frozen=True, slots=True)
class ErasureRecord:
    """What ``person erase`` did: the pseudonym the person now has and the rows it rewrote or deleted;
    ``compacted``: the SQLite file was rewritten (VACUUM), so no old byte of them is left in it."""

    pseudonym: str
    checkins: int  # their check-ins, emptied of free text
    events: int  # events whose personal part was rewritten
    messages: int  # their outbox messages, deleted
    rows: int  # other rows that named them, rewritten
    compacted: bool


@dataclass(frozen=True, slots=True)
class PurgeRecord:
    """What ``purge`` removed (or, ``dry_run``, would remove): free text of programmes ended before ``before``."""

    before: str
    dry_run: bool
    programmes: tuple[str, ...]
    checkins: int
    assessments: int
    events: int
    notices: int = 0  # formal notices emptied of their breach and answer text
    expenses: int = 0  # expenses emptied of their label

