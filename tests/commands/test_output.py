"""What commands print: JSON compact off a terminal (rows streamed in the same bytes as the whole list),
tables whose cells are never markup, days left and times as a cell shows them."""

from __future__ import annotations

import json
from decimal import Decimal

import click
import pytest
from click.testing import CliRunner

from commands import output, text
from workflow.records import TeamRow


def printed(fn, *args) -> str:
    @click.command()
    def cmd():
        fn(*args)

    return CliRunner().invoke(cmd, []).output


ROWS = [TeamRow(f"T{i}", "P", None, "selection", None, None, "2020-12-23", i - 1, None, None, False)
        for i in range(5)]


def test_json_is_compact_off_a_terminal_and_money_exact():
    out = printed(output.emit_json, {"amount": Decimal("9000.10"), "name": "É\u2028"})
    assert out == '{"amount": "9000.10", "name": "É\\u2028"}\n'


@pytest.mark.parametrize("batch", [1, 2, 2000])
def test_rows_streamed_give_the_bytes_of_the_whole_list(batch):
    whole = printed(output.emit_json, ROWS)
    assert printed(output.emit_json_rows, iter(ROWS), batch) == whole
    assert json.loads(whole)[1]["days_left"] == 0
    assert printed(output.emit_json_rows, iter([])) == "[]\n"


def test_cells_are_text_never_markup():
    t = output.table("a")
    t.add_row("[bold]x[/] \x1b[31m")
    assert t.columns[0]._cells[0].plain == "[bold]x[/] \\x1b[31m"
    assert output.styled("a", ("b", "red")).plain == "ab"


def test_days_and_times_as_cells_show_them():
    before = text.current_lang()
    text.set_lang("en")
    try:
        assert output.days_cell(None).plain == "—"
        assert output.days_cell(3).style == "yellow" and output.days_cell(30).plain == "30"
        assert output.days_cell(-2).plain == "-2 (expired)" and output.days_cell(-2).style == "red"
    finally:
        text.set_lang(before)
    assert output.when_cell("2020-07-06T09:00:00+02:00") == "2020-07-06 09:00"
    assert output.when_cell("2020-07-06T09:00:00+02:00", with_time=False) == "2020-07-06"
    assert output.when_cell(None) == "—"
