"""Text as a reader may see it: controls, bidirectional overrides, line separators and lone surrogates
escaped visibly; printable text untouched; newline and tab kept only where several lines are expected."""

from __future__ import annotations

import pytest

from notifications.visible import shown, visible


@pytest.mark.parametrize("raw,escaped", [
    ("\x1b[31mrouge", "\\x1b[31mrouge"), ("a\u202eb", "a\\u202eb"), ("a\u2028b", "a\\u2028b"),
    ("\x9b2J", "\\x9b2J"), ("\udcff", "\\udcff"), ("a\nb\tc", "a\\x0ab\\x09c"),
])
def test_what_could_drive_a_terminal_or_disguise_text_is_escaped(raw, escaped):
    assert shown(raw) == escaped


def test_printable_text_is_returned_as_is():
    text = "Équipe « Zéro papier » — 50 % ; <b>&amp;</b>"
    assert shown(text) is text


def test_several_lines_keep_their_newlines_and_tabs():
    assert shown("a\nb\tc\x07", multiline=True) == "a\nb\tc\\x07"
    assert visible(None) == "" and visible(3) == "3"
    assert visible("x\ny\x1b") == "x\ny\\x1b"
