"""The tamper-evident audit trail: every event is chained to the previous one by a hash.

An event's ``hash`` is sha256 over the previous event's hash and the event's hashed content: when,
who (the actor's person id: a pseudonymous id, never a name), which team, what (action, trigger,
phases, forced) and ``digest``. The personal part (the actor's name or e-mail, the free-text reason,
the data) stays outside: ``digest`` is sha256 of it salted with the event's own ``salt``. An erasure
or a purge rewrites the personal part and forgets the salt; every hash still holds, so the chain stays
valid. A forgotten salt is accepted only on an event a later erasure or purge lists as rewritten (in its
own event's data, which its digest covers: :data:`RELEASING`); anywhere else it is a broken link.

Writing is the store's (``workflow.store.events``), in each change's own transaction, so the chain
stays one line in id order. Here the chain is walked back and the tables held to it.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from operator import itemgetter
from typing import Any

from workflow.context import Context
from workflow.errors import N_, Np_, StoreError
from workflow.records import AuditRecord
from workflow.store import events as event_rows
from workflow.store.events import (FIGURES, RELEASING, ROLES_FIGURE, WALK_COLUMNS, canonical, digest, figures_of,
                                   roles_figure, hashed_at)

# What an error calls each table (catalog words).
FIGURE_LABELS = {"checkin": N_("check-in"), "funding": N_("funding"), "expense": N_("expense"),
                 "statement": N_("statement"), "payment": N_("payment"), "notice": N_("formal notice"),
                 ROLES_FIGURE: N_("person (roles)"), "team": N_("team")}
_SHA256 = hashlib.sha256


def _broken(message: Any, problem: str, event: int | None, verified: int, **params: Any) -> StoreError:
    return StoreError(message, code="audit_broken", problem=problem, event=event, verified=verified, **params)


@dataclass(frozen=True)
class Released:
    """The events whose salt an erasure or a purge forgot, as they recorded it: merged id ranges."""

    starts: tuple[int, ...] = ()
    ends: tuple[int, ...] = ()

    @classmethod
    def of(cls, rows: Iterable[Sequence[Any]]) -> Released:
        """From the erasure and purge events (id, actor, reason, data, salt, digest): only those whose
        personal part checks against their digest count, and only for events before them."""
        spans = []
        for id_, actor, reason, data, salt, dig in rows:
            if salt is None or dig != digest(salt, actor, reason, data):
                continue  # the walk reports it at its place
            try:
                ranges = json.loads(data).get("released") or []
                spans += [(int(a), min(int(b), id_ - 1)) for a, b in ranges if int(a) < id_]
            except (ValueError, TypeError, AttributeError):
                continue
        starts: list[int] = []
        ends: list[int] = []
        for a, b in sorted(spans):
            if ends and a <= ends[-1] + 1:
                ends[-1] = max(ends[-1], b)
            else:
                starts.append(a)
                ends.append(b)
        return cls(tuple(starts), tuple(ends))

    def __contains__(self, event_id: object) -> bool:
        i = bisect.bisect_right(self.starts, event_id) - 1  # type: ignore[call-overload]
        return i >= 0 and event_id <= self.ends[i]  # type: ignore[operator]


@dataclass
class Recorded:
    """What the chain says the tables hold, gathered by :func:`walk`: each figure row's last recorded
    figures ((table, id) -> (event id, that event's salt, figures or None once deleted)), and each
    team's last recorded phase (team id -> (event id, phase))."""

    figures: dict[tuple[str, int], tuple[int, str | None, dict[str, Any] | None]] = field(default_factory=dict)
    phases: dict[int, tuple[int, str]] = field(default_factory=dict)


def walk(rows: Iterable[Sequence[Any]], head: tuple[int, str] | None, total: int,
         released: Released = Released(), recorded: Recorded | None = None) -> AuditRecord:
    """Check the chain: ``rows`` are the events' columns as :data:`WALK_COLUMNS`, in id order (``at``
    a datetime or SQLite's stored text); ``head`` the stored (count, hash); ``total`` the events stored;
    ``released`` the events whose salt a later erasure or purge forgot; ``recorded``, when given,
    gathers what the events say the tables hold (:func:`check_tables`). Raises a StoreError (code
    ``audit_broken``, params problem, event, verified) at the first broken link."""
    prev, prev_id, n, erased = "", 0, 0, 0
    encode, sha, utc = canonical, _SHA256, timezone.utc  # locals: the loop runs once per event
    for (id_, at, actor, actor_id, team_id, action, trigger, from_, to, reason, forced, data, salt, dig,
         stored, figures) in rows:
        if at.__class__ is str and len(at) == 26 and at[10] == " ":  # SQLite's stored text
            when = f"{at[:10]}T{at[11:]}Z"
        elif at.__class__ is str and len(at) == 27 and at[26] == "Z" and at[10] == "T":  # written so (PostgreSQL)
            when = at
        elif at.__class__ is datetime and at.tzinfo is utc:  # a backup's: as hashed_at writes it, without a naive copy
            when = at.isoformat(timespec="microseconds")[:-6] + "Z"
        else:
            when = hashed_at(at)
        hashed = [prev, when, actor_id, team_id, action, trigger, from_, to, bool(forced), dig]
        if figures is not None:
            hashed.append(figures)
        if stored != sha(encode(hashed)).hexdigest():
            missing = (head[0] if head else 0) - total
            if missing > 0 and id_ != prev_id + 1:
                raise _broken(Np_("the audit trail is broken at event #{event}: the hash of the event before it does "
                                  "not match ({n} event was deleted from the trail)",
                                  "the audit trail is broken at event #{event}: the hash of the event before it does "
                                  "not match ({n} events were deleted from the trail)"),
                              "missing", id_, n, n=missing)
            raise _broken(N_("the audit trail is broken at event #{event}: its content no longer matches its hash "
                             "(it was changed or moved after it was written)"), "changed", id_, n)
        if salt is None:
            if action in RELEASING or id_ not in released:
                raise _broken(N_("the audit trail is broken at event #{event}: its personal part was removed without "
                                 "an erasure or purge recording it (its salt is missing)"), "unreleased", id_, n)
            erased += 1
        elif dig != sha(encode([salt, actor, reason, data])).hexdigest():
            raise _broken(N_("the audit trail is broken at event #{event}: its personal part (actor, reason, data) "
                             "no longer matches its digest (it was edited)"), "personal", id_, n)
        if recorded is not None:
            if to is not None and team_id is not None:
                recorded.phases[team_id] = (id_, to)
            if figures is not None:
                try:
                    for name, written in json.loads(figures).items():
                        for row_id, values in written.items():
                            if not (values is None or isinstance(values, dict)):
                                raise TypeError(row_id)
                            recorded.figures[(name, int(row_id))] = (id_, salt, values)
                except (ValueError, TypeError, AttributeError, RecursionError):
                    raise _broken(N_("the audit trail is broken at event #{event}: the figures it recorded cannot "
                                     "be read (they were written outside preincub)"), "figures", id_, n) from None
        prev, prev_id = stored, id_
        n += 1
    if head is None:
        raise _broken(N_("the audit trail is broken: its head is missing"), "head", None, n)
    if head[0] > n:
        raise _broken(Np_("the audit trail is broken after event #{event}, its last: the head counts {n} more event "
                          "(the last one was deleted)",
                          "the audit trail is broken after event #{event}, its last: the head counts {n} more events "
                          "(the last ones were deleted)"), "head", prev_id or None, n, n=head[0] - n)
    if head[0] != n or head[1] != prev:
        raise _broken(N_("the audit trail is broken after event #{event}, its last: it does not match the head "
                         "(events were added or the head edited outside preincub)"), "head", prev_id or None, n)
    return AuditRecord(events=n, erased=erased, last=prev_id or None, head=prev)


def check_tables(recorded: Recorded, tables: Mapping[str, Iterable[Mapping[str, Any]]],
                 teams: Iterable[Sequence[Any]], verified: int) -> None:
    """The tables against what the chain recorded (:func:`walk`'s ``recorded``): every figure row as
    its last recording event wrote it (its texts too while that event's salt is known), none written
    or deleted outside preincub, and each team in the phase its last move took it to. ``tables``: the
    rows of :data:`FIGURES`' tables (mappings of ``workflow.store.events.figure_rows``); ``teams``: (id, phase)."""
    figures = recorded.figures
    for name in FIGURES:
        label = FIGURE_LABELS[name]
        seen = set()
        for row in tables.get(name, ()):
            row_id = row["id"]
            seen.add(row_id)
            found = figures.get((name, row_id))
            if found is None or found[2] is None:
                raise _broken(N_("the audit trail does not match the store: {table!t} #{row} was written outside "
                                 "preincub (no event records it)"), "unrecorded", None, verified,
                              table=label, row=row_id)
            event, salt, values = found
            current = figures_of(name, row, salt)
            for column, value in current.items():
                if values.get(column) != value:
                    raise _broken(N_("the audit trail does not match the store: {table!t} #{row} differs from "
                                     "what event #{event} recorded ({column} was changed outside preincub)"),
                                  "figures", event, verified, table=label, row=row_id, column=column)
        for (kind, row_id), (event, _salt, values) in figures.items():
            if kind == name and values is not None and row_id not in seen:
                raise _broken(N_("the audit trail does not match the store: {table!t} #{row}, recorded by event "
                                 "#{event}, was deleted outside preincub"), "deleted", event, verified,
                              table=label, row=row_id)
    present = set()
    for team_id, phase in teams:
        present.add(team_id)
        found = recorded.phases.get(team_id)
        if found is None:
            raise _broken(N_("the audit trail does not match the store: {table!t} #{row} was written outside "
                             "preincub (no event records it)"), "unrecorded", None, verified,
                          table=FIGURE_LABELS["team"], row=team_id)
        if found[1] != phase:
            raise _broken(N_("the audit trail does not match the store: team #{team} is in the phase {phase}, but "
                             "its last move (event #{event}) took it to {recorded}"), "phase", found[0], verified,
                          team=team_id, phase=phase, recorded=found[1])
    for team_id, (event, _phase) in recorded.phases.items():
        if team_id not in present:
            raise _broken(N_("the audit trail does not match the store: {table!t} #{row}, recorded by event "
                             "#{event}, was deleted outside preincub"), "deleted", event, verified,
                          table=FIGURE_LABELS["team"], row=team_id)


def verify_backup(data: Mapping[str, list[dict[str, Any]]], schema: str) -> AuditRecord | None:
    """A backup's rows (``workflow.formats.dump.rows_of``) checked as ``audit verify`` checks a store, before
    any is written: the chain, and (from schema 0008, when the figures joined it) the tables against
    it. None for a backup from before the chain (0006 or older: it is chained on restore)."""
    if schema < "0007":
        return None
    events = sorted(data.get("event", []), key=lambda r: r["id"])
    head = data.get("audit_head") or []
    released = Released.of([(r["id"], r.get("actor"), r.get("reason"), r.get("data"), r.get("salt"), r.get("digest"))
                            for r in events if r.get("action") in RELEASING])
    recorded = Recorded() if schema >= "0008" else None
    try:  # the rows of a table all have the same columns: taken at once
        rows: Iterable[Sequence[Any]] = list(map(itemgetter(*WALK_COLUMNS), events))
    except KeyError:  # a backup of before the figures (0007)
        rows = ([r.get(c) for c in WALK_COLUMNS] for r in events)
    record = walk(rows,
                  (head[0]["count"], head[0]["hash"]) if head else None, len(events), released, recorded)
    if recorded is not None:
        tables = {name: data.get(name, []) for name in FIGURES}
        tables[ROLES_FIGURE] = roles_figure(((r["person_id"], r["role"]) for r in data.get("person_role", [])),
                                            ((r["person_id"], r["role"], r.get("programme_id"), r.get("partner_id"))
                                             for r in data.get("person_grant", [])))
        check_tables(recorded, tables,
                     [(t["id"], t.get("phase")) for t in data.get("team", [])], record.events)
    return record


@dataclass(frozen=True)
class Audit:
    """The audit trail as a whole: verifying the chain (administrators, and coordinators: the chain is one
    for the instance; what a verification shows is counts, event ids and row ids, and a team's phase
    only to those granted in its programme)."""

    ctx: Context

    def verify(self) -> AuditRecord:
        """Walk the chain in id order: each hash recomputed, each personal part not erased checked
        against its digest, each erased one listed by a later erasure or purge, the head against the
        last event. Raises a StoreError (code
        ``audit_broken``) at the first broken link, with the event's id and what differs."""
        store = self.ctx.store
        with store.read() as s:
            conn = event_rows.repeatable_read(store, s)  # first: the access check reads in the same snapshot
            reach = self.ctx.require(s, "audit")
            head = event_rows.head(conn)
            total = event_rows.count(conn)
            released = Released.of(event_rows.releasing(conn))
            recorded = Recorded()
            with event_rows.walk_rows(store, conn) as rows:
                record = walk(rows, head, total, released, recorded)
            try:
                check_tables(recorded, {name: event_rows.figure_rows(conn, name) for name in FIGURES},
                             event_rows.team_phases(conn), record.events)
            except StoreError as exc:
                # The chain is the instance's: a coordinator verifies it whole and is told where it breaks,
                # but never the phase of a team of a programme they are not granted in.
                if exc.params.get("problem") == "phase" and not reach.everything \
                        and event_rows.team_programme(conn, exc.params["team"]) not in reach.programmes:
                    raise _broken(N_("the audit trail does not match the store: team #{team}, of a programme you "
                                     "are not granted in, is not in the phase its last move (event #{event}) took "
                                     "it to"), "phase", exc.params["event"], exc.params["verified"],
                                  team=exc.params["team"]) from None
                raise
            return record
