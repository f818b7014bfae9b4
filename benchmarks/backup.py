"""Benchmark the whole-store backup: ``export json`` and ``import-all`` against SQLite's own dump and restore.

Run it as a script (never a test):

    python benchmarks/backup.py [--teams 10000] [--repeat 5] [--keep] [--json FILE]

It builds a SQLite store of ``--teams`` teams spread over every phase (``benchmarks/common.py``: the
real migrations, then bulk inserts), then, alternating each pair A B A B, whole processes both:

* ``preincub export json -o FILE`` (the backup, every table) against ``sqlite3 STORE .dump`` to a file
  (the sqlite3 command-line shell; Python's ``Connection.iterdump()`` in a process if it is missing,
  said in the row); target ≤ 3 ×;
* ``preincub import-all FILE`` into a new store against the shell restoring that dump into a new file
  with the same integrity checks left on (``PRAGMA foreign_keys = ON``, checked at commit) and the
  store's PRAGMAs (WAL, ``synchronous = NORMAL``); target ≤ 2 ×.

It checks the restored stores hold as many teams, prints its rows and exits 0 (targets reported, not
enforced).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
from datetime import datetime
from pathlib import Path

from common import (STORE_PRAGMAS_SQL, add_json_option, alternate, build_store, cli_command, cli_env, emit,
                    run_process, scratch, timed_build)

from workflow.clock import PARIS  # noqa: E402  (after common: it makes the checkout importable)

NOW = datetime(2020, 7, 1, 10, 0, tzinfo=PARIS)
ACTOR = "benchmark@example.org"
SQLITE3 = shutil.which("sqlite3")
ITERDUMP = ("import sqlite3, sys\ncon = sqlite3.connect(sys.argv[1])\n"
            "with open(sys.argv[2], 'w', encoding='utf-8') as f:\n"
            "    for line in con.iterdump():\n        f.write(line + '\\n')\n")
RESTORE = ("import sqlite3, sys\ncon = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
           "con.executescript(open(sys.argv[2], encoding='utf-8').read())\n")


def gone(*paths: Path) -> None:
    for p in paths:
        for q in (p, Path(f"{p}-wal"), Path(f"{p}-shm")):
            q.unlink(missing_ok=True)


def teams(path: Path) -> int:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute("SELECT count(*) FROM team").fetchone()[0]
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--teams", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5, help="alternated rounds of each pair")
    ap.add_argument("--keep", action="store_true", help="keep the files (prints where)")
    add_json_option(ap)
    args = ap.parse_args(argv)
    if args.teams < 1 or args.repeat < 1:
        ap.error("give --teams >= 1 and --repeat >= 1")
    env = cli_env(ACTOR)
    pre = cli_command()
    with scratch(args.keep) as work:
        store = work / "store.db"
        timed_build(store, args.teams, lambda: build_store(store, args.teams, now=NOW, actor=ACTOR))
        backup, dump, script = work / "backup.json", work / "dump.sql", work / "restore.sql"
        helper = work / "helper.py"
        if SQLITE3:
            dump_cmd = [SQLITE3, str(store), f".output {dump}", ".dump"]
            how = "the sqlite3 shell"
        else:
            helper.write_text(ITERDUMP, encoding="utf-8")
            dump_cmd = [sys.executable, str(helper), str(store), str(dump)]
            how = "Python's Connection.iterdump() (no sqlite3 shell on this machine)"

        export = alternate(lambda: run_process([*pre, "--db", str(store), "export", "json", "-o", str(backup)],
                                               env)[0],
                           lambda: run_process(dump_cmd)[0], args.repeat, warmup=1)
        text = dump.read_text(encoding="utf-8")
        # The dump turns the foreign keys off; the restore keeps them on, with the store's PRAGMAs.
        text = text.replace("PRAGMA foreign_keys=OFF;\n", "", 1)
        script.write_text(STORE_PRAGMAS_SQL + "PRAGMA defer_foreign_keys = ON;\n" + text, encoding="utf-8")
        restored, raw_restored = work / "restored.db", work / "raw_restored.db"
        if SQLITE3:
            def restore() -> float:
                gone(raw_restored)
                with script.open("rb") as f:
                    return run_process([SQLITE3, "-bail", str(raw_restored)], stdin=f)[0]
        else:
            (work / "restore.py").write_text(RESTORE, encoding="utf-8")

            def restore() -> float:
                gone(raw_restored)
                return run_process([sys.executable, str(work / "restore.py"), str(raw_restored), str(script)])[0]

        def import_all() -> float:
            gone(restored)
            return run_process([*pre, "--db", str(restored), "import-all", str(backup)], env)[0]

        imports = alternate(import_all, restore, args.repeat, warmup=1)
        assert teams(restored) == teams(raw_restored) == args.teams, (teams(restored), teams(raw_restored))
        emit("backup", [
            export.named(f"export json, {args.teams:,} teams, whole process", target=("<=", 3.0),
                         baseline=f"sqlite3 .dump to a file, by {how}"),
            imports.named(f"import-all of that backup, {args.teams:,} teams, whole process", target=("<=", 2.0),
                          baseline=f"restoring the dump with {how}, foreign keys on (checked at commit), "
                                   "the store's PRAGMAs"),
        ], args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
