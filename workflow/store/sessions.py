"""The web's server-side state: signed-in browsers (``web_session``) and single-use links already used
(``spent_link``). The store keeps only SHA-256 digests: a copy of the store opens no session and replays
no link. Every instant comes from the caller's clock. A request reads its session with one prebuilt
statement; writes (sign-in, sign-out, a session seen again after a while) prune what has expired."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from workflow.store.models import Person, SpentLink, WebSession

_SESSION = WebSession.__table__
_SPENT = SpentLink.__table__
_FIND = (select(WebSession.seen_at, Person.id, Person.email, Person.name, Person.lang, Person.link_generation)
         .join(Person, Person.id == WebSession.person_id).where(WebSession.id_hash == sa.bindparam("id_hash")))


def find(conn: Any, id_hash: str) -> Any:
    """The session's last request and its person (seen_at, id, email, name, lang, link_generation), or None."""
    return conn.execute(_FIND, {"id_hash": id_hash}).first()


def open_session(s: Session, id_hash: str, person_id: int, now: datetime, idle_since: datetime) -> None:
    """Record a new session of ``person_id``; sessions idle since before ``idle_since`` go."""
    conn = s.connection()
    conn.execute(sa.delete(_SESSION).where(_SESSION.c.seen_at < idle_since))
    conn.execute(sa.insert(_SESSION).values(id_hash=id_hash, person_id=person_id, created_at=now, seen_at=now))


def touch(s: Session, id_hash: str, now: datetime) -> None:
    """The session was seen at ``now`` (its idle expiry starts again)."""
    s.connection().execute(sa.update(_SESSION).where(_SESSION.c.id_hash == id_hash).values(seen_at=now))


def end(s: Session, id_hash: str) -> bool:
    """End one session (sign-out); whether it was there."""
    return s.connection().execute(sa.delete(_SESSION).where(_SESSION.c.id_hash == id_hash)).rowcount > 0


def end_all(s: Session, person_id: int) -> int:
    """End every session of ``person_id`` (their links revoked); how many there were."""
    return s.connection().execute(sa.delete(_SESSION).where(_SESSION.c.person_id == person_id)).rowcount


def spent(conn: Any, digest: str) -> bool:
    """Whether a single-use link was already used (its page may be shown any number of times: a mail
    scanner's visit uses nothing)."""
    return conn.execute(sa.select(_SPENT.c.digest).where(_SPENT.c.digest == digest)).first() is not None


def spend(s: Session, digest: str, until: datetime, now: datetime) -> bool:
    """Record a single-use link as used until its own expiry; False when it already was. Rows past
    their expiry go (their links are refused as expired anyway)."""
    conn = s.connection()
    conn.execute(sa.delete(_SPENT).where(_SPENT.c.until < now))
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # loaded only on PostgreSQL
    else:
        insert = sqlite_insert
    # On conflict, nothing: of two concurrent uses, the one that inserts second is told the link was used.
    ins = insert(SpentLink).values(digest=digest, until=until).on_conflict_do_nothing(index_elements=["digest"])
    return len(conn.execute(ins.returning(SpentLink.digest)).all()) == 1
