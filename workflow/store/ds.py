"""Démarches Simplifiées in the store: where each démarche's sync stands (``ds_sync``), the dossiers seen
(``ds_dossier``, keyed by DS id, a team's when it became one), and the partners' INSEE codes the
départements are matched against."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from workflow.store.models import DsDossier, DsSync, Event, Partner, Programme, Team

# ---- where a démarche's sync stands --------------------------------------------------------------

def sync_row(s: Session, demarche: int) -> DsSync | None:
    return s.get(DsSync, demarche)


def programme_name(s: Session, programme_id: int) -> str | None:
    p = s.get(Programme, programme_id)
    return None if p is None else p.name


def save_sync(s: Session, demarche: int, programme_id: int, **values: Any) -> DsSync:
    """Create or update the démarche's row with ``values`` (written at the next flush)."""
    row = s.get(DsSync, demarche)
    if row is None:
        row = DsSync(demarche=demarche, programme_id=programme_id)
    for column, value in values.items():
        setattr(row, column, value)
    s.add(row)
    s.flush()
    return row


def set_sync(s: Session, demarche: int, **values: Any) -> bool:
    """Update an existing démarche's row; False when it was never synced."""
    row = s.get(DsSync, demarche)
    if row is None:
        return False
    for column, value in values.items():
        setattr(row, column, value)
    s.add(row)
    return True


def syncs(s: Session) -> list[tuple[DsSync, str]]:
    """Every démarche's row with its programme's name, by number."""
    q = select(DsSync, Programme.name).join(Programme, Programme.id == DsSync.programme_id).order_by(DsSync.demarche)
    return [(r, n) for r, n in s.exec(q)]


# ---- dossiers ------------------------------------------------------------------------------------

IN_CHUNK = 500  # values in one IN (...): well under every driver's limit on bound parameters


def _rows_in(s: Session, query: Callable[[list[Any]], Any], values: Iterable[Any]) -> list[Any]:
    """The rows ``query(chunk)`` gives for every chunk of the distinct ``values`` (a page's ids, numbers)."""
    distinct = sorted(set(values))
    return [row for i in range(0, len(distinct), IN_CHUNK) for row in s.exec(query(distinct[i:i + IN_CHUNK]))]


def dossiers(s: Session, ds_ids: Iterable[str]) -> dict[str, DsDossier]:
    """{DS id: its row} of those already seen."""
    return {d.ds_id: d for d in _rows_in(s, lambda ids: select(DsDossier).where(DsDossier.ds_id.in_(ids)), ds_ids)}


def by_numbers(s: Session, demarche: int, numbers: Iterable[int]) -> list[DsDossier]:
    """The démarche's dossiers with these numbers (a deletion record names the number, not the id)."""
    return _rows_in(s, lambda nums: select(DsDossier).where(DsDossier.demarche == demarche,
                                                            DsDossier.number.in_(nums)), numbers)


def save_dossier(s: Session, row: DsDossier | None, **values: Any) -> DsDossier:
    """Insert a dossier's row (``row`` None) or update it with ``values``."""
    if row is None:
        row = DsDossier(**values)
    else:
        for column, value in values.items():
            setattr(row, column, value)
    s.add(row)
    return row


def of_team(s: Session, team_id: int) -> DsDossier | None:
    """The dossier a team came from, if it came from one."""
    return s.exec(select(DsDossier).where(DsDossier.team_id == team_id)).first()


def last_update(s: Session, demarche: int) -> datetime | None:
    """The latest ``dateDerniereModification`` seen in the démarche: the next sync asks from there."""
    return s.exec(select(sa.func.max(DsDossier.updated_at)).where(DsDossier.demarche == demarche)).one()


# ---- teams and partners --------------------------------------------------------------------------

def teams(s: Session, ids: Iterable[int]) -> dict[int, Team]:
    """{id: team} of these teams."""
    return {t.id: t for t in _rows_in(s, lambda chunk: select(Team).where(Team.id.in_(chunk)), ids)}


def team_ids(s: Session, names: Iterable[str]) -> dict[str, int]:
    """{name: id} of the teams named so."""
    return dict(_rows_in(s, lambda chunk: select(Team.name, Team.id).where(Team.name.in_(chunk)), names))


def partners(s: Session, programme_id: int) -> list[tuple[int, str, str | None]]:
    """(id, name, INSEE code) of a programme's partners."""
    return [tuple(r) for r in s.execute(select(Partner.id, Partner.name, Partner.insee)
                                        .where(Partner.programme_id == programme_id).order_by(Partner.id))]


def team_events(s: Session, team_id: int, actions: Iterable[str]) -> list[tuple[str, dict[str, Any]]]:
    """(action, data) of the team's events of these ``actions``, newest first: what a sync wrote before."""
    q = (select(Event.action, Event.data).where(Event.team_id == team_id, Event.action.in_(list(actions)))
         .order_by(Event.id.desc()))
    out = []
    for action, data in s.execute(q):
        try:
            value = json.loads(data) if data else {}
        except ValueError:  # an erasure rewrote it: nothing to read there
            value = {}
        out.append((action, value if isinstance(value, dict) else {}))
    return out


def set_insee(s: Session, programme_id: int, name: str, code: str) -> None:
    """Give a partner (created by an import just now) its INSEE code."""
    s.execute(sa.update(Partner).where(Partner.programme_id == programme_id, Partner.name == name)
              .values(insee=code))


__all__ = ["by_numbers", "dossiers", "last_update", "partners", "programme_name", "save_dossier", "save_sync",
           "set_insee", "set_sync", "sync_row", "syncs", "team_events", "team_ids", "teams"]
