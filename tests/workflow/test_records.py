"""Records as JSON: the one serializer (nested records, tuples, dicts, money as its exact text), the keys
a record renames, and the fast serializer of flat rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from workflow.records import PurgeRecord, TeamRow, json_keys, plain, row_plain


@dataclass(frozen=True)
class _Inner:
    amount: Decimal
    when: str | None = field(default=None, metadata={"json_key": "at"})


@dataclass(frozen=True)
class _Outer:
    name: str
    inner: _Inner
    many: tuple[_Inner, ...]
    by: dict[str, int]


def test_plain_walks_records_and_writes_money_as_text():
    value = _Outer("x", _Inner(Decimal("9000.10"), "2020-07-01"), (_Inner(Decimal("0.00")),), {"a": 1})
    assert plain(value) == {"name": "x", "inner": {"amount": "9000.10", "at": "2020-07-01"},
                            "many": [{"amount": "0.00", "at": None}], "by": {"a": 1}}
    assert plain([Decimal("1.50"), None, 3]) == ["1.50", None, 3]


def test_json_keys_rename_once_per_class():
    assert json_keys(_Inner) == (("amount", "amount"), ("when", "at"))
    assert json_keys(_Inner) is json_keys(_Inner)
    assert [k for _, k in json_keys(PurgeRecord)][:2] == ["before", "dry_run"]


def test_row_plain_gives_what_plain_gives_for_a_flat_row():
    row = TeamRow("Alpha", "P", None, "selection", "2020-07-01T10:00:00+02:00", "c@example.org", "2020-12-23", 100,
                  None, None, False)
    assert row_plain(TeamRow)(row) == plain(row)
    assert list(plain(row)) == [k for _, k in json_keys(TeamRow)]
