"""Personal data: everything the store holds about a person (right of access), erasing it (right to
erasure), and forgetting the free text of programmes long ended (retention).

Erasure gives the person a pseudonym (name ``erased-<id>``, e-mail ``erased-<id>@erased.invalid``) and
keeps every id, count, phase and date, so reports stay true. It removes what they wrote (the free text
of their check-ins, their assessment notes, the reasons of the events they acted in), deletes the
messages queued for them, rewrites the actor columns that are exactly one of their identities, and
replaces their e-mail (and their full name, when it has two words or more) in the free-text columns of
:data:`workflow.store.privacy.SCANNED` (``workflow.rules.scrub``). Events keep their hashed content; their personal part (``actor``,
``reason``, ``data``) is rewritten and its salt forgotten; the erasure's own event lists them, so the
chain stays valid (``workflow.services.audit``). On SQLite the file is then checkpointed and VACUUMed: no byte
of the old text is left in it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from workflow.context import SYSTEM, Context
from workflow.errors import N_, Forbidden, Invalid, NotFound
from workflow.records import ErasureRecord, PurgeRecord
from workflow.rules import validate
from workflow.rules.permissions import Grant
from workflow.rules.deadlines import deadline
from workflow.rules.scrub import Scrubber, identifies, scrubber
from workflow.store import events
from workflow.store import people as people_rows
from workflow.store import privacy as personal_rows
from workflow.store.privacy import CHECKIN_EVENTS, CHECKIN_TEXT

FORMAT = "preincub-personal-data"
FIGURES = events.FIGURES  # the tables whose rows' figures the audit trail records
NOT_EXPORTED = {"event": ("salt", "digest", "hash")}  # the chain's own values: nothing about the person


def _without_checkin_text(value: Any) -> Any:
    """A ``checkin.edit`` event's data with the free text of the changes blanked (what changed stays)."""
    if isinstance(value, dict) and isinstance(value.get("changes"), dict):
        return {**value, "changes": {k: ([None] * len(v) if k in CHECKIN_TEXT and isinstance(v, list) else v)
                                     for k, v in value["changes"].items()}}
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Privacy:
    """Personal data: the right of access, the right to erasure, and retention (the purge)."""

    ctx: Context

    # ---- access --------------------------------------------------------------------------

    def export(self, email: str) -> dict[str, Any]:
        """Everything held about the person, table by table, as plain JSON values (the person themselves,
        a coordinator of every programme they are in, an administrator): the rows that refer to them, the
        rows that name them, their teams."""
        with self.ctx.store.read() as s:
            p = self._person(s, email)
            if self.ctx.me(s).id != p["id"]:
                self._require_over(s, p)
            actors = _actors(p)
            rows: dict[str, dict[tuple, dict[str, Any]]] = {}

            def add(name: str, found: list[dict[str, Any]]) -> None:
                pk = personal_rows.primary_key(name)
                for r in found:
                    rows.setdefault(name, {})[tuple(r[k] for k in pk)] = r

            for name, found in personal_rows.referring(s, p["id"], actors).items():
                rows.setdefault(name, {})  # listed even when empty: the export says it looked there
                add(name, found)
            for name, found in personal_rows.mentions(s, scrubber(p)).items():
                add(name, found)
            mine = {r["id"]: r["team_id"] for r in rows["checkin"].values() if r["author_id"] == p["id"]}
            if mine:  # the events of their check-ins, also when someone else corrected one
                add("event", [r for r in personal_rows.checkin_events(s, sorted(set(mine.values())))
                              if _checkin_of(r["data"]) in mine])
            teams = ({r["team_id"] for r in rows["team_member"].values()}
                     | {r["team_id"] for r in rows["checkin"].values()})
            if teams:
                add("team", personal_rows.teams(s, sorted(teams)))
            out = {name: [_exported(name, r, actors) for _key, r in sorted(by_key.items())]
                   for name, by_key in sorted(rows.items())}
            return {"format": FORMAT, "version": 1, "exported_at": _plain(self.ctx.clock.now()),
                    "person": {k: _plain(v) for k, v in p.items()}, "tables": out}

    # ---- erasure -------------------------------------------------------------------------

    def erase(self, email: str, reason: str) -> ErasureRecord:
        """Replace the person with a pseudonym everywhere (a coordinator of every programme they are in,
        an administrator; not oneself); audited without saying whose data it was. On SQLite the file is
        compacted afterwards (see :meth:`compact`)."""
        reason = validate.text(reason, "reason")
        with self.ctx.store.write() as s:
            self.ctx.require(s, "privacy")
            p = self._person(s, email)
            self._require_over(s, p)
            if p["erased_at"] is not None:
                raise Invalid(N_("{email} is already erased"), code="already_erased", email=p["email"])
            if self.ctx.me(s).id == p["id"]:
                raise Invalid(N_("you may not erase yourself: ask another coordinator (an erasure records who "
                                 "made it)"), code="erase_yourself")
            sc = scrubber(p)
            if identifies(p, reason):
                raise Invalid(N_("the reason names the person: the erasure is recorded without saying whose data "
                                 "it was; give a reason without any of their names or their e-mail"),
                              code="reason_names_person")
            record, rewritten, sealed = self._erase(s, p, sc)
            self._released(s, "person.erase", rewritten, reason=reason, sealed=sealed)
        return ErasureRecord(**record, compacted=self.compact())

    def _require_over(self, s: Any, p: dict[str, Any]) -> None:
        """Refuse to export or erase someone else's data unless the actor reaches, for ``privacy``, every
        programme the person is in (an administrator: anyone). A person in no programme, or an instance
        administrator, is an administrator's to handle: their data may be of any programme."""
        reach = self.ctx.require(s, "privacy")
        if reach.everything:
            return
        params = {"actor": self.ctx.actor, "email": p["email"]}
        if people_rows.grant_held(s, p["id"], Grant("admin")):
            raise Forbidden(N_("acting as {actor}, you may not export or erase the data of {email}, an instance "
                               "administrator: ask another instance administrator"), code="admin_needed", **params)
        if not people_rows.programmes_of(s, p["id"]):
            raise Forbidden(N_("acting as {actor}, you may not export or erase the data of {email}: they are in no "
                               "programme of yours; ask an instance administrator"), code="admin_needed", **params)
        self.ctx.require_person(s, "privacy", p["id"])  # a coordinator of each of their programmes

    def _released(self, s: Any, action: str, rewritten: list[int], reason: str | None = None,
                  data: dict[str, Any] | None = None, sealed: dict[str, list[int]] | None = None) -> None:
        """The event of an erasure or a purge: it lists the events whose personal part it rewrote (their
        salt forgotten: ``audit verify`` accepts that only for the events such an event lists); its actor
        is pseudonymous ("person <id>"), so a later erasure of that coordinator never rewrites it. It
        records the figures of the rows whose text it changed (``sealed``): their new text is the one
        ``audit verify`` then expects."""
        row = self.ctx.event_row(action, data={**(data or {}), "released": id_ranges(rewritten)}, sealed=sealed)
        row["actor"], row["reason"] = f"person {self.ctx.me(s).id}", reason
        self.ctx.log_rows(s.connection(), [row])

    def _erase(self, s: Any, p: dict[str, Any],
               sc: Scrubber) -> tuple[dict[str, Any], list[int], dict[str, list[int]]]:
        """The erasure's rows, in the caller's transaction: the counts of :class:`ErasureRecord`, the
        ids of the events rewritten, and the figure rows whose text changed ({table: [ids]})."""
        pid, actors = p["id"], _actors(p)
        mine = personal_rows.blank_checkins(s, pid)
        personal_rows.pseudonymous_actor(s, actors, sc.to_email)
        messages = personal_rows.drop_messages(s, pid, actors)
        # Events: those they acted in lose their reason; those about their check-ins, the check-in's text;
        # every other one only loses their name and e-mail. The salt goes with any rewrite. The events of
        # erasures and purges are pseudonymous and never rewritten (the chain checks forgotten salts by them).
        rewritten = []
        for r in personal_rows.events_to_rewrite(s, pid, actors, sorted(set(mine.values())), sc):
            authored = r.actor_id == pid or r.actor in actors
            theirs = r.action in CHECKIN_EVENTS and _checkin_of(r.data) in mine
            new = (sc.to_email if authored else r.actor, None if authored or theirs else sc.text(r.reason),
                   sc.json(r.data, _without_checkin_text if theirs else None))
            if new != (r.actor, r.reason, r.data):
                personal_rows.rewrite_event(s, r.id, *new)
                rewritten.append(r.id)
        rows = 0
        sealed = {"checkin": list(mine), events.ROLES_FIGURE: [pid]}  # their roles are gone with them
        for name, found in personal_rows.mentions(s, sc).items():
            if name in ("event", "person"):
                continue
            rows += personal_rows.scrub_rows(s, name, found, sc)
            if name in FIGURES:
                sealed[name] = sealed.get(name, []) + [r["id"] for r in found]
        personal_rows.pseudonymise(s, pid, sc, self.ctx.clock.now())
        return ({"pseudonym": sc.to_email, "checkins": len(mine), "events": len(rewritten), "messages": messages,
                 "rows": rows}, rewritten, sealed)

    def compact(self) -> bool:
        """On SQLite: checkpoint the WAL into the file, VACUUM (the file rewritten from its live rows only:
        no freed page keeps old text), and truncate the WAL. False when another process held it open
        (then old bytes may remain until the next VACUUM) or on PostgreSQL (see the README)."""
        return personal_rows.compact(self.ctx.store)

    # ---- retention -----------------------------------------------------------------------

    def purge(self, before: date, *, dry_run: bool = False) -> PurgeRecord:
        """Remove the free text of every programme whose deadline is before ``before`` (of those the actor
        reaches for ``privacy``: a coordinator, their programmes; an administrator, all): the text of
        check-ins, assessment notes, event reasons (also of formal notices and their answers), the text
        of check-in corrections in events, formal notices' breach and answer, expense labels (in their
        rows and events). Counts, amounts, phases, dates, team records and the committee's opinions
        stay; ``dry_run`` writes nothing."""
        validate.plausible_date(before, N_("the purge date"))
        today = self.ctx.clock.today()
        if before > today:
            raise Invalid(N_("the purge date, {before!d}, is after today ({today!d}): only programmes already ended "
                             "are purged"), code="purge_in_future", before=before, today=today)
        with (self.ctx.store.read() if dry_run else self.ctx.store.write()) as s:
            reach = self.ctx.require(s, "privacy")
            ended = [(pid, name) for pid, name, signed, months in personal_rows.programmes(s)
                     if deadline(signed, months) < before and (reach.everything or pid in reach.programmes)]
            purge = personal_rows.Purge(s, [pid for pid, _ in ended])
            checkins, assessments, notices, expenses = (purge.count(name) for name in
                                                        ("checkin", "assessment", "notice", "expense"))
            rewrites = _purged_events(purge.events(), {name for _, name in ended})
            record = PurgeRecord(before.isoformat(), dry_run, tuple(n for _, n in ended), checkins, assessments,
                                 len(rewrites), notices, expenses)
            if dry_run or not (checkins or assessments or rewrites or notices or expenses):
                return record
            sealed = {name: purge.ids(name) for name in ("checkin", "notice", "expense")}
            purge.blank(rewrites)
            self._released(s, "purge", [r["event_id"] for r in rewrites], data={
                "before": before.isoformat(), "programmes": list(record.programmes), "checkins": checkins,
                "assessments": assessments, "notices": notices, "expenses": expenses, "events": len(rewrites)},
                sealed=sealed)
        self.compact()
        return record

    # ---- lookups -------------------------------------------------------------------------

    @staticmethod
    def _person(s: Any, email: str) -> dict[str, Any]:
        addr = validate.email(email, local=True)
        row = personal_rows.person(s, addr)
        if row is None:
            raise NotFound(N_("no person with the e-mail {email} in this store (never added, or erased since)"),
                           code="no_such_person", email=addr)
        return row


# Messages to others that mention the person are other people's data (GDPR article 15(4)): the export
# lists them by id and dates only, marked withheld; their text is not given.
WITHHELD = ("id", "created_at", "sent_at")


def _exported(table: str, row: dict[str, Any], actors: list[str]) -> dict[str, Any]:
    """One row of the export, as plain JSON values."""
    if table == "outbox" and row["recipient"] not in actors:
        return {**{k: _plain(row[k]) for k in WITHHELD}, "withheld": True}
    return {k: _plain(v) for k, v in row.items() if k not in NOT_EXPORTED.get(table, ())}


def _actors(p: dict[str, Any]) -> list[str]:
    """How events, assessments and agreements name the person as their actor: their e-mail, or the
    system user whose login they have."""
    return [p["email"]] + ([p["login"] + SYSTEM] if p["login"] else [])


def id_ranges(ids: list[int]) -> list[list[int]]:
    """Event ids as ranges [[first, last], ...]: what an erasure or a purge records it rewrote."""
    out: list[list[int]] = []
    for i in sorted(set(ids)):
        if out and out[-1][1] == i - 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def _checkin_of(data: str | None) -> int | None:
    try:
        value = json.loads(data) if data else None
    except ValueError:
        return None
    return value.get("checkin") if isinstance(value, dict) else None


def _purged_events(rows: list[Any], programmes: set[str]) -> list[dict[str, Any]]:
    """The events a purge rewrites (``event_id``, ``new_data``; their reason goes), of ``rows``
    (``Purge.events``): those of the ended programmes' teams with a reason or a check-in correction, and
    those of the programmes themselves (formal notices, expenses: no team, the programme named in their
    data) with a reason or a label."""
    out = []
    for eid, reason, data, action, team_id in rows:
        value = _loads(data)
        if team_id is None:
            if not (isinstance(value, dict) and value.get("programme") in programmes):
                continue
            new = value if value.get("label") is None else {**value, "label": None}
        else:
            new = _without_checkin_text(value) if action == "checkin.edit" else value
        new_data = data if new == value else json.dumps(new, ensure_ascii=False, sort_keys=True)
        if reason is not None or new_data != data:
            out.append({"event_id": eid, "new_data": new_data})
    return out


def _loads(data: str | None) -> Any:
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None
