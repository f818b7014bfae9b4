"""Every reading command on the demo store leaves it byte for byte as it was (what each one prints:
tests/commands/)."""

from __future__ import annotations

from tests.cli_helpers import NOW, dump_hash, invoke, ok


def test_reads_leave_the_store_unchanged(demo_ro):
    before = dump_hash(demo_ro)
    for args in (["status"], ["team", "show", "Insertion RSA"], ["check", "Insertion RSA"],
                 ["history", "Insertion RSA"], ["programme", "list"], ["person", "list"]):
        ok(invoke(*args, db=demo_ro, now=NOW))
    assert dump_hash(demo_ro) == before
