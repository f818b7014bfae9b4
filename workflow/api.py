"""The library's one public facade: :class:`Workflow`, composed of small services around one context.

Its services are plain attributes, made once per facade: ``wf.teams.add(...)``,
``wf.transitions.advance(...)``, ``wf.checkins.log(...)``, ``wf.outbox.retry(...)``. Acting as someone
else, at another time or through another channel is a new facade: ``wf.acting_as(email)``,
``wf.at(clock)``, ``wf.through("web")``.
"""

from __future__ import annotations

from workflow.clock import Clock
from workflow.context import SYSTEM, Context, default_actor
from workflow.formats.backup import Backup
from workflow.formats.dump import Dump
from workflow.formats.exports import Exports
from workflow.formats.ics import Calendars
from workflow.formats.imap import Mailbox
from workflow.formats.intake import Intake
from workflow.formats.reports import Reports
from workflow.rules import validate
from workflow.services.audit import Audit
from workflow.services.checkins import CheckIns
from workflow.services.daemon import Lease
from workflow.services.delivery import Delivery
from workflow.services.ds import DsSync
from workflow.services.directory import MEMBER_ROLES, PARTNER_KINDS, PROGRAMME_KINDS, ROLES, Directory
from workflow.services.funding import Funding
from workflow.services.inbox import Inbox
from workflow.services.links import Links
from workflow.services.mutes import Mutes
from workflow.services.notices import Notices
from workflow.services.outbox import Outbox
from workflow.services.poller import Poller
from workflow.services.privacy import Privacy
from workflow.services.reminders import Reminders
from workflow.services.teams import Teams, iso, iso_date
from workflow.services.transitions import Transitions
from workflow.settings import Settings
from workflow.store.engine import Store, open_store

__all__ = ["MEMBER_ROLES", "PARTNER_KINDS", "PROGRAMME_KINDS", "ROLES", "SYSTEM", "Workflow", "default_actor", "iso",
           "iso_date"]


class Workflow:
    """One store, one clock, one acting person, one set of settings: the services composed over them."""

    def __init__(self, store: Store, clock: Clock | None = None, actor: str | None = None,
                 settings: Settings | None = None) -> None:
        self._bind(Context(store, clock or Clock(), actor or default_actor(), settings or Settings.from_env()))

    @classmethod
    def open(cls, db: str | None = None, *, clock: Clock | None = None, actor: str | None = None,
             create: bool = False, settings: Settings | None = None) -> Workflow:
        """Open (``create``: create or upgrade) the store at ``db`` (path or URL; default: the setting
        PREINCUB_DB, else a file in the user data dir).

        On a store with nobody in it yet, ``create`` records the acting person as its first
        coordinator, so whoever runs ``init`` (or ``demo``) is never locked out.
        """
        who = validate.email(actor, local=True) if actor else default_actor()
        settings = settings or Settings.from_env()
        wf = cls(open_store(db or settings.store.db, create=create), clock or Clock(), who, settings)
        if create:
            wf.directory.bootstrap()
            wf.links.ensure_key()  # the web links' secret key file (0600), unless PREINCUB_SECRET_KEY is set
        return wf

    @classmethod
    def of(cls, ctx: Context) -> Workflow:
        """The facade over an existing context."""
        wf = cls.__new__(cls)
        wf._bind(ctx)
        return wf


    def _bind(self, ctx: Context) -> None:
        """The services, each made once over ``ctx`` (constructors only keep references: cheap)."""
        self.ctx = ctx
        self.directory = Directory(ctx)
        self.checkins = CheckIns(ctx)
        self.teams = Teams(ctx, self.checkins)
        self.transitions = Transitions(ctx)
        self.delivery = Delivery(ctx)
        self.reminders = Reminders(ctx, self.delivery)
        self.outbox = Outbox(ctx)
        self.lease = Lease(ctx)
        self.links = Links(ctx)
        self.mutes = Mutes(ctx)  # the reminder kinds people chose not to receive
        self.inbox = Inbox(ctx, self.links)  # check-ins by e-mail reply
        self.poller = Poller(ctx, self.inbox, Mailbox)  # the IMAP mailbox's replies, to the inbox
        self.exports = Exports(ctx, self.teams)
        self.calendars = Calendars(ctx)
        self.dump = Dump(ctx)  # the whole store as JSON (export-all); import-all is formats.dump.import_all
        self.backup = Backup(ctx)  # the SQLite file copied while in use; restore is formats.backup.restore
        self.intake = Intake(ctx, self.directory, self.teams)
        self.ds = DsSync(ctx, self.intake, self.transitions)  # applications from Démarches Simplifiées
        self.reports = Reports(ctx)
        self.privacy = Privacy(ctx)
        self.audit = Audit(ctx)
        self.notices = Notices(ctx)
        self.funding = Funding(ctx, self.notices)

    # ---- the context ---------------------------------------------------------------------

    def acting_as(self, actor: str) -> Workflow:
        """The same store, clock and settings, acting as ``actor`` (an e-mail): a new facade."""
        return Workflow.of(self.ctx.acting_as(validate.email(actor, local=True)))

    def through(self, via: str) -> Workflow:
        """The same facade, its changes recorded as coming through ``via`` ("web") in each event."""
        return Workflow.of(self.ctx.through(via))

    def at(self, clock: Clock) -> Workflow:
        """The same store, person and settings, at the time ``clock`` gives: a new facade."""
        return Workflow.of(self.ctx.at(clock))

    @property
    def store(self) -> Store:
        """The store every service of this facade reads and writes."""
        return self.ctx.store

    @property
    def actor(self) -> str:
        """Who acts (recorded on every change); another is :meth:`acting_as`."""
        return self.ctx.actor

    @property
    def clock(self) -> Clock:
        """The business clock; another time is :meth:`at`."""
        return self.ctx.clock

    @property
    def settings(self) -> Settings:
        """The ``PREINCUB_*`` settings, each section read on first use."""
        return self.ctx.settings

    def with_settings(self, settings: Settings) -> Workflow:
        """The same store, person and clock, with other settings: a new facade."""
        return Workflow.of(self.ctx.with_settings(settings))

    def close(self) -> None:
        """Release the store's connections (facades made by ``at``/``acting_as`` share them)."""
        self.ctx.store.close()
