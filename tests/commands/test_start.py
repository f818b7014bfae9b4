"""What the CLI does before click parses: the language its own errors are in, input that is not UTF-8,
and the one error line (controls made visible, cut, its hint kept)."""

from __future__ import annotations

import pytest

from commands import start


@pytest.mark.parametrize("args,env,lang", [
    (["--lang", "en", "status"], None, "en"), (["--lang=en"], None, "en"), (["status"], "en", "en"),
    (["--db", "--lang", "status"], None, "fr"),  # --db takes a value: "--lang" is the store's path here
    (["person", "add", "--lang", "en"], None, "fr"),  # that person's language, not the invocation's
    (["--lang", "de"], None, "fr"), ([], None, "fr"),
])
def test_the_chosen_language_from_the_global_options_only(monkeypatch, args, env, lang):
    if env:
        monkeypatch.setenv("PREINCUB_LANG", env)
    assert start.chosen_lang(args) == lang


def test_arguments_and_settings_that_are_not_utf8(monkeypatch):
    assert start.undecodable(["status", "Équipe"]) is None
    bad = b"caf\xe9".decode("utf-8", "surrogateescape")
    assert "caf\\xe9" in start.undecodable(["status", bad]) and "2" in start.undecodable(["status", bad])
    monkeypatch.setenv("PREINCUB_DB", bad)
    assert "PREINCUB_DB" in start.undecodable(["status"])


def test_fail_prints_one_visible_line_and_exits_with_the_code(capsys):
    with pytest.raises(SystemExit) as e:
        start.fail("bad\x1b[2J" + "x" * 2000, 3, hint=" (hint)")
    assert e.value.code == 3
    err = capsys.readouterr().err
    assert err.startswith("preincub: bad\\x1b[2J") and err.endswith("… (hint)\n") and err.count("\n") == 1
    assert len(err) - 1 <= start.MAX_ERROR
