"""The documents' escaping: stored text as literal Markdown (one line or several), links only when http(s),
a link destination that cannot break out of its parentheses."""

from __future__ import annotations

import pytest

from notifications.documents import FORMATS, md, md_block, md_url, safe_href


@pytest.mark.parametrize("raw,out", [
    ("*gras* _it_ `code`", "\\*gras\\* \\_it\\_ \\`code\\`"),
    ("[lien](https://x.example)", "\\[lien\\]\\(https://x.example\\)"),
    ("a | b", "a \\| b"), ("<script>", "\\<script\\>"), ("# titre", "\\# titre"),
    ("- item", "\\- item"), ("1. item", "1\\. item"), ("===", "\\==="),
    ("deux\nlignes", "deux lignes"), (None, ""),
])
def test_md_is_one_literal_line(raw, out):
    assert md(raw) == out


def test_md_block_keeps_lines_as_hard_breaks_and_drops_blank_ones():
    assert md_block("un *a*\n\n- deux\n") == "un \\*a\\*  \n\\- deux"


def test_links_only_http_and_their_destination_escaped():
    assert safe_href("https://x.example/a") == "https://x.example/a"
    assert safe_href("javascript:alert(1)") is None and safe_href(None) is None
    assert safe_href("https://x.example/a b") is None
    assert md_url("https://x.example/a(b)<c>") == "https://x.example/a%28b%29%3Cc%3E"


def test_each_document_has_its_formats():
    assert FORMATS == {"committee": ("md", "html", "pdf"), "programme": ("md", "html", "xlsx")}
