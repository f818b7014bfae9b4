"""A team's phase timeline as a small inline SVG (no script, no external resource).

Shared by the web board (web/timeline.py) and the committee pack (notifications/documents.py):
``team`` is anything with ``name`` and ``phases`` (``phase``, ``start``, ``end`` ISO strings), such
as :class:`workflow.records.TeamRecord`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from markupsafe import Markup, escape

import states
from notifications import i18n
from notifications.visible import visible

WIDTH, ROW, LEFT = 640, 22, 190
COLOURS = ("#1f4e8c", "#2e7d32", "#8e5a00", "#6a1b9a", "#00695c", "#37474f")


def _day(iso: str | None, default: date) -> date:
    if not iso:
        return default
    return datetime.fromisoformat(iso).date() if "T" in iso else date.fromisoformat(iso)


def timeline(team: Any, today: date, deadline: date, lang: str, ident: str = "tl-title") -> Markup:
    """One bar per phase period, from the first start to the later of today and the deadline.

    ``ident`` is the id of the SVG's title: give each chart of one page its own."""

    spans = [(p.phase, _day(p.start, today), _day(p.end, today)) for p in team.phases]
    if not spans:
        return Markup("")
    first = min(s for _, s, _ in spans)
    last = max(max(e for _, _, e in spans), deadline, today)
    total = max((last - first).days, 1)
    usable = WIDTH - LEFT - 10

    def x(d: date) -> float:
        return LEFT + usable * (d - first).days / total

    gettext = i18n.translations(lang).gettext
    ident = escape(ident)
    title = escape(i18n.text(lang, i18n.N_("Phases of {team}"), {"team": visible(team.name)}))
    height = ROW * len(spans) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{ident}" class="timeline" '
             f'viewBox="0 0 {WIDTH} {height}" width="100%"><title id="{ident}">{title}</title>']
    for i, (phase, start, end) in enumerate(spans):
        y = 5 + i * ROW
        label = escape(gettext(states.PHASES[phase].label) if phase in states.PHASES else phase)
        w = max(x(end) - x(start), 2)
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{label}</text>'
                     f'<rect x="{x(start):.1f}" y="{y}" width="{w:.1f}" height="16" rx="3" '
                     f'fill="{COLOURS[i % len(COLOURS)]}"><title>{label}: {start.isoformat()} – '
                     f'{end.isoformat()}</title></rect>')
    for d, colour, dash in ((today, "#000", ""), (deadline, "#b00020", ' stroke-dasharray="4 3"')):
        parts.append(f'<line x1="{x(d):.1f}" y1="0" x2="{x(d):.1f}" y2="{height - 14}" stroke="{colour}"'
                     f' stroke-width="1.5"{dash}/>')
    due = escape(i18n.text(lang, i18n.N_("deadline {day!d}"), {"day": deadline}))
    parts.append(f'<text x="{x(deadline):.1f}" y="{height - 2}" font-size="11" text-anchor="end" fill="#b00020">'
                 f'{due}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
