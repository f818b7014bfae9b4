"""Long lists of ids in ``IN (...)`` taken a slice at a time: PostgreSQL's protocol carries at most 65,535
parameters a statement (psycopg refuses more) and SQLite 32,766, and a tick at 100,000 teams asks about more
people than that."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

IN_BATCH = 10_000  # ids per statement: far under both limits, few enough statements at any size


def batches(ids: Iterable[int], size: int = IN_BATCH) -> Iterator[list[int]]:
    """``ids`` sorted, without repeats, in slices of ``size``."""
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), size):
        yield ordered[i:i + size]
