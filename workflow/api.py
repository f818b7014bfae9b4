"""The library's one public facade: :class:`Workflow`, composed of small services around one context.

``wf.teams``, ``wf.transitions``, ``wf.directory``, ``wf.checkins``, ``wf.reminders``,
``wf.outbox``, ``wf.delivery`` and ``wf.lease`` are the services; the flat names (``wf.advance``,
``wf.status``, ``wf.tick``…) delegate to them, so a caller needs only ``wf``. Acting as someone
else or at another time is a new facade: ``wf.acting_as(email)``, ``wf.at(clock)``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from workflow import validate
from workflow.clock import Clock
from workflow.context import SYSTEM, Context, default_actor
from workflow.db import Store, open_store
from workflow.settings import Settings
from workflow.teams import iso, iso_date

if TYPE_CHECKING:
    from workflow.checkins import CheckIns
    from workflow.daemon import Lease
    from workflow.delivery import Delivery
    from workflow.directory import Directory
    from workflow.intake import Intake
    from workflow.links import Links
    from workflow.outbox import Outbox
    from workflow.remind import Reminders
    from workflow.reports import Reports
    from workflow.teams import Teams
    from workflow.transitions import Transitions
    from workflow.exports import Exports
    from workflow.ics import Calendars
    from workflow.backup import Backup
    from workflow.storecopy import StoreCopy
    from workflow.privacy import Privacy
    from workflow.audit import Audit
    from workflow.notices import Notices
    from workflow.funding import Funding

_DIRECTORY_NAMES = ("MEMBER_ROLES", "PARTNER_KINDS", "PROGRAMME_KINDS", "ROLES")


def __getattr__(name: str) -> Any:
    """The directory's constants, imported on first use like the services (PEP 562)."""
    if name not in _DIRECTORY_NAMES:
        raise AttributeError(f"module 'workflow.api' has no attribute {name!r}")
    value = getattr(import_module("workflow.directory"), name)
    globals()[name] = value
    return value


__all__ = ["MEMBER_ROLES", "PARTNER_KINDS", "PROGRAMME_KINDS", "ROLES", "SYSTEM", "Workflow", "default_actor", "iso",
           "iso_date"]


class _Via:
    """A flat facade name that is a service's method: ``advance = _Via("transitions")``."""

    def __init__(self, service: str, name: str | None = None) -> None:
        self.service, self.name = service, name

    def __set_name__(self, owner: type, attr: str) -> None:
        self.name = self.name or attr
        self.__doc__ = f"Delegates to ``{self.service}.{self.name}``."

    def __get__(self, obj: Workflow | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(getattr(obj, self.service), self.name)


class _Service:
    """A service of the facade, made (and its module imported) on first use: a read such as ``status``
    loads neither the reminders (jinja2, holidays) nor the transitions. ``needs`` are the other
    services its constructor takes after the context."""

    def __init__(self, module: str, cls: str, *needs: str) -> None:
        self.module, self.cls, self.needs = module, cls, needs

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr

    def __get__(self, obj: Workflow | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        cls = getattr(import_module(f"workflow.{self.module}"), self.cls)
        service = obj.__dict__[self.attr] = cls(obj.ctx, *(getattr(obj, n) for n in self.needs))
        return service


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

    directory: Directory = _Service("directory", "Directory")  # type: ignore[assignment]
    checkins: CheckIns = _Service("checkins", "CheckIns")  # type: ignore[assignment]
    teams: Teams = _Service("teams", "Teams", "checkins")  # type: ignore[assignment]
    transitions: Transitions = _Service("transitions", "Transitions")  # type: ignore[assignment]
    delivery: Delivery = _Service("delivery", "Delivery")  # type: ignore[assignment]
    reminders: Reminders = _Service("remind", "Reminders", "delivery")  # type: ignore[assignment]
    outbox: Outbox = _Service("outbox", "Outbox")  # type: ignore[assignment]
    lease: Lease = _Service("daemon", "Lease")  # type: ignore[assignment]
    links: Links = _Service("links", "Links")  # type: ignore[assignment]
    exports: Exports = _Service("exports", "Exports", "teams")  # type: ignore[assignment]
    calendars: Calendars = _Service("ics", "Calendars")  # type: ignore[assignment]
    backup: Backup = _Service("backup", "Backup")  # type: ignore[assignment]
    store_copy: StoreCopy = _Service("storecopy", "StoreCopy")  # type: ignore[assignment]
    intake: Intake = _Service("intake", "Intake", "directory", "teams")  # type: ignore[assignment]
    reports: Reports = _Service("reports", "Reports")  # type: ignore[assignment]
    privacy: Privacy = _Service("privacy", "Privacy")  # type: ignore[assignment]
    audit: Audit = _Service("audit", "Audit")  # type: ignore[assignment]
    notices: Notices = _Service("notices", "Notices")  # type: ignore[assignment]
    funding: Funding = _Service("funding", "Funding", "notices")  # type: ignore[assignment]

    def _bind(self, ctx: Context) -> None:
        for name in list(vars(self)):  # services made over the previous context
            if isinstance(getattr(type(self), name, None), _Service):
                del self.__dict__[name]
        self.ctx = ctx

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

    @clock.setter
    def clock(self, clock: Clock) -> None:
        """Move this facade in time (tests stepping through days); elsewhere prefer :meth:`at`."""
        self._bind(self.ctx.at(clock))

    @property
    def settings(self) -> Settings:
        """The ``PREINCUB_*`` settings, each section read on first use."""
        return self.ctx.settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        """Other settings for this facade (tests); the services are composed again around them."""
        self._bind(self.ctx.with_settings(settings))

    def close(self) -> None:
        """Release the store's connections (facades made by ``at``/``acting_as`` share them)."""
        self.ctx.store.close()

    # ---- the flat names: each is one service's method --------------------------------------

    # directory
    add_programme = _Via("directory")
    sign_programme = _Via("directory")
    programmes = _Via("directory")
    programme = _Via("directory")
    add_partner = _Via("directory")
    add_person = _Via("directory")
    edit_person = _Via("directory")
    people = _Via("directory")
    complete = _Via("directory")
    # teams
    add_team = _Via("teams")
    edit_team = _Via("teams")
    assess = _Via("teams")
    agree = _Via("teams")
    poc = _Via("teams")
    committee = _Via("teams")
    team = _Via("teams")
    status = _Via("teams")
    import_teams = _Via("intake", "import_file")
    # transitions
    check = _Via("transitions")
    advance = _Via("transitions")
    history = _Via("transitions")
    # check-ins
    log_checkin = _Via("checkins", "log")
    edit_checkin = _Via("checkins", "edit")
    gaps = _Via("checkins")
    # reminders, delivery, the outbox, the daemon's lease
    remind_preview = _Via("reminders", "preview")
    enqueue_due = _Via("reminders", "enqueue")
    tick = _Via("reminders")
    deliver = _Via("delivery")
    may_remind = _Via("delivery")
    outbox_health = _Via("outbox", "health")
    outbox_retry = _Via("outbox", "retry")
    outbox_retry_all = _Via("outbox", "retry_all")
    outbox_cancel = _Via("outbox", "cancel")
    acquire_lease = _Via("lease", "acquire")
    release_lease = _Via("lease", "release")
    last_tick = _Via("lease")
    # web links
    revoke_links = _Via("links", "revoke")
    signin_url = _Via("links")
    # exports, calendar, backup (the restore is workflow.backup.import_all: it opens an empty store itself)
    export_rows = _Via("exports", "rows")
    export_ics = _Via("calendars", "ics")
    export_all = _Via("backup", "dump")
    # the SQLite file copied while in use (its restore is workflow.storecopy.restore: it must hold no connection)
    backup_file = _Via("store_copy", "backup")
    # reports
    committee_pack = _Via("reports", "committee")
    programme_report = _Via("reports", "programme")
    # personal data: access, erasure, retention
    export_person = _Via("privacy", "export")
    erase_person = _Via("privacy", "erase")
    purge = _Via("privacy")
    # formal notices
    add_notice = _Via("notices", "add")
    answer_notice = _Via("notices", "answer")
    # funding, expenses, statements, payments
    set_funding = _Via("funding", "set")
    add_expense = _Via("funding")
    issue_statement = _Via("funding")
    record_payment = _Via("funding", "pay")
    funding_sheet = _Via("funding", "show")

