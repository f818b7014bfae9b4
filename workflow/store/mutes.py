"""The reminder kinds people chose not to receive (table ``person_mute``), and what deciding on a mute
reads: the programmes a person coordinates, the link generation of a message's recipient.

What may be muted, and what a mute stops, is decided above (:mod:`workflow.services.mutes`,
:mod:`workflow.rules.due`); these functions only read and write the rows.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from workflow.store.batches import batches
from workflow.store.models import Person, PersonGrant, PersonMute, Programme

_T = PersonMute.__table__


def kinds(s: Session, person_id: int) -> tuple[str, ...]:
    """The kinds ``person_id`` muted, in order."""
    return tuple(s.connection().execute(select(_T.c.kind).where(_T.c.person_id == person_id)
                                        .order_by(_T.c.kind)).scalars())


def muted(s: Session, person_ids: Iterable[int]) -> set[tuple[int, str]]:
    """(person, kind) of every mute of these people (a tick's recipients: a query a slice of ids)."""
    conn = s.connection()
    return {(pid, kind) for chunk in batches(person_ids) for pid, kind in conn.execute(
        select(_T.c.person_id, _T.c.kind).where(_T.c.person_id.in_(chunk)))}


def add(s: Session, dialect: str, person_id: int, new: Iterable[str]) -> None:
    """Mute ``new`` for ``person_id``; a kind muted already (meanwhile, by a second click) stays so."""
    rows = [{"person_id": person_id, "kind": k} for k in sorted(set(new))]
    if not rows:
        return
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # loaded only on PostgreSQL
    else:
        insert = sqlite_insert
    s.connection().execute(insert(_T).on_conflict_do_nothing(index_elements=["person_id", "kind"]), rows)


def remove(s: Session, person_id: int, gone: Iterable[str]) -> None:
    """Receive ``gone`` again."""
    gone = sorted(set(gone))
    if gone:
        s.connection().execute(sa.delete(_T).where(_T.c.person_id == person_id, _T.c.kind.in_(gone)))


def coordinated(s: Session, person_id: int) -> list[str]:
    """The names of the programmes ``person_id`` coordinates, in order."""
    return list(s.connection().execute(
        select(Programme.name).join(PersonGrant, PersonGrant.programme_id == Programme.id)
        .where(PersonGrant.person_id == person_id, PersonGrant.role == "coordinator")
        .order_by(Programme.name)).scalars())


def recipients(s: Session, person_ids: Iterable[int]) -> tuple[dict[int, int], set[tuple[int, int]]]:
    """Of the people ``person_ids`` (a batch of messages' recipients): each one's link generation, and the
    (person, programme) pairs where they are a coordinator (two queries)."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}, set()
    conn = s.connection()
    generations = {pid: gen or 0 for pid, gen in conn.execute(
        select(Person.id, Person.link_generation).where(Person.id.in_(ids), Person.erased_at.is_(None)))}
    coordinators = {(pid, prog) for pid, prog in conn.execute(
        select(PersonGrant.person_id, PersonGrant.programme_id)
        .where(PersonGrant.person_id.in_(ids), PersonGrant.role == "coordinator"))}
    return generations, coordinators
