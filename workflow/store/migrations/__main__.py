"""``python -m workflow.store.migrations [--check]``: write again (or check) the schema snapshot an empty SQLite
store is made from (``workflow.store.snapshot``), from a store made by these migrations. Run it after adding
a migration (``tests/workflow/store/test_snapshot.py`` fails until then)."""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

from workflow.store import snapshot
from workflow.store.engine import HEAD_REVISION, make_engine, upgrade


def generate() -> str:
    """The script, from a store made by the migrations (Alembic) in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="preincub-snapshot-") as tmp:
        path = Path(tmp) / "head.db"
        engine = make_engine(f"sqlite:///{path}")
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        con = sqlite3.connect(path)
        try:
            return snapshot.dump_schema(con, HEAD_REVISION)
        finally:
            con.close()


def main(argv: list[str] | None = None) -> int:
    """Write the script again (``--check``: only say whether it is current; exit 1 if not)."""
    args = sys.argv[1:] if argv is None else argv
    text = generate()
    current = snapshot.SCRIPT.read_text(encoding="utf-8") if snapshot.SCRIPT.exists() else None
    if "--check" in args:
        said = "current" if current == text else "out of date: run python -m workflow.store.migrations"
        print(f"{snapshot.SCRIPT}: {said}")
        return 0 if current == text else 1
    if current != text:
        snapshot.SCRIPT.write_text(text, encoding="utf-8")
    print(f"{snapshot.SCRIPT}: {'unchanged' if current == text else 'written'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
