"""A team's phase timeline as inline SVG: one bar per period, today's line and the deadline's, labels in
the reader's language, the team's name escaped."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from notifications.timeline import timeline


def team(name: str, *periods: tuple[str, str, str | None]) -> SimpleNamespace:
    return SimpleNamespace(name=name, phases=[SimpleNamespace(phase=p, start=s, end=e) for p, s, e in periods])


T = team("R&D <x>", ("selection", "2020-06-29T10:00:00+02:00", "2020-07-06T09:00:00+02:00"),
         ("investigation", "2020-07-06T09:00:00+02:00", None))


def test_one_bar_per_period_and_two_lines():
    svg = str(timeline(T, date(2020, 7, 20), date(2020, 12, 23), "en"))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<rect") == 2 and svg.count("<line") == 2
    assert ">Selection: 2020-06-29 – 2020-07-06<" in svg
    assert ">Investigation: 2020-07-06 – 2020-07-20<" in svg  # an open period ends today


def test_labels_in_the_reader_s_language_and_the_name_escaped():
    svg = str(timeline(T, date(2020, 7, 20), date(2020, 12, 23), "fr", ident="t2"))
    assert 'aria-labelledby="t2"' in svg and "R&amp;D &lt;x&gt;" in svg and "<x>" not in svg
    assert ">Sélection<" in svg and ">échéance le 23 décembre 2020<" in svg


def test_no_period_no_chart():
    assert str(timeline(team("Vide"), date(2020, 7, 20), date(2020, 12, 23), "fr")) == ""
