"""Documents people read: the committee pack and the programme report, in Markdown (for a wiki), HTML
(one self-contained file: inline CSS and SVG, no script, no external resource), PDF (WeasyPrint)
and XLSX (openpyxl), in a reader's language.

The records come from workflow/formats/reports.py; the words from templates under notifications/templates/
(``report_*.md.txt`` and ``report_*.html``, English, translated through the catalog). Stored text is
escaped in every format: HTML by jinja's autoescape, Markdown by :func:`md`, spreadsheet cells are
written as strings (never formulas), and control characters become visible escapes everywhere.

Every file says what it is to the tools that index and read it aloud: the PDF is tagged PDF/UA-1 (WeasyPrint's
variant: structure tree, /Lang from ``<html lang>``, XMP metadata with the ``<title>``), the workbook carries
a title, its language and ``preincub <version>`` as creator (:func:`generator`, also the HTML's generator).
"""

from __future__ import annotations

import importlib.metadata
import re
from datetime import date, datetime
from functools import cache
from io import BytesIO
from typing import Any

from babel.numbers import format_percent
from markupsafe import Markup, escape

import states
from notifications import i18n
from notifications.i18n import N_
from notifications.render import new_environment
from notifications.timeline import timeline
from notifications.visible import visible
from states.terms import CRITERIA_LABELS, PARTY_LABELS, PROGRAMME_KIND_LABELS

FORMATS = {"committee": ("md", "html", "pdf"), "programme": ("md", "html", "xlsx")}
# How a programme kind (states.PROGRAMME_KINDS) reads in a document (catalog msgids).
KIND_LABELS = PROGRAMME_KIND_LABELS

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#|!~&$])")
_MD_LINE_START = re.compile(r"^(\s*)(\d*)([-+=>.)])")


def md(value: Any) -> str:
    """Stored text as literal Markdown on one line (a table cell, a heading): every character that
    Markdown (CommonMark, GitHub's tables) would interpret is backslash-escaped."""
    text = " ".join(visible(value).split())
    # a stored line must not start a list, a quote or a heading underline: "- x", "1. x", "> x", "==="
    return _MD_LINE_START.sub(lambda m: m[1] + m[2] + "\\" + m[3], _MD_SPECIAL.sub(r"\\\1", text))


def md_block(value: Any) -> str:
    """Stored text of several lines as literal Markdown, its line breaks kept (hard breaks)."""
    lines = [md(line) for line in visible(value).splitlines() if line.strip()]
    return "  \n".join(lines)


def md_url(value: str) -> str:
    """A stored https link as a Markdown link destination (it was validated as ``https?://\\S+``)."""
    return re.sub(r"[()<>\s\\]", lambda m: f"%{ord(m.group()):02X}", visible(value))


def safe_href(value: str | None) -> str | None:
    """Only http(s) links become links; anything else is shown as text."""
    return value if value and re.match(r"^https?://\S+$", value) else None


@cache
def generator() -> str:
    """"preincub <version>", the creator a document names, so a reader can tell which release wrote it."""
    try:
        return f"preincub {importlib.metadata.version('preincub')}"
    except importlib.metadata.PackageNotFoundError:  # a checkout run without being installed
        return "preincub"


def _as_date(value: str | date) -> date:
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value)


@cache
def environment(lang: str) -> Any:
    """One jinja environment per language for documents: HTML autoescaped, the catalog installed."""
    env = new_environment(lang)
    t = i18n.translations(lang).gettext

    def pct(v: float | None) -> str:
        if v is None:
            return "—"
        return format_percent(v, locale=lang, decimal_quantization=False)

    env.filters.update(
        day=lambda v: "—" if not v else i18n.format_day(_as_date(v), lang),
        num=lambda v: "—" if v is None else i18n.format_number(v, lang),
        money=lambda v: "—" if v is None else i18n.format_money(v, lang),
        pct=pct, md=md, md_block=md_block, md_url=md_url, vis=visible, href=safe_href,
        t=lambda v: t(v) if v else v,
        phase=lambda p: t(states.PHASES[p].label) if p in states.PHASES else p,
        kind=lambda k: t(KIND_LABELS[k]) if k in KIND_LABELS else k,
    )
    env.globals.update(colon=i18n.colon(lang), lang=lang, generator=generator(), CRITERIA=states.CRITERIA,
                       CRITERIA_LABELS=CRITERIA_LABELS, PARTIES=states.PARTIES, PARTY_LABELS=PARTY_LABELS)
    return env


def _lang(lang: str) -> str:
    return lang if lang in i18n.LANGS else i18n.DEFAULT_LANG


# ---- the committee pack ---------------------------------------------------------------------------


def committee_markdown(pack: Any, lang: str) -> str:
    """The committee pack as Markdown, for pasting into a wiki."""
    return environment(_lang(lang)).get_template("report_committee.md.txt").render(pack=pack)


def committee_html(pack: Any, lang: str) -> str:
    """The committee pack as one self-contained HTML page, one team per printed page."""
    lang = _lang(lang)
    today = date.fromisoformat(pack.today)
    due = date.fromisoformat(pack.deadline)
    charts = {s.team.name: timeline(s.team, today, due, lang, ident=f"timeline-{i}")
              for i, s in enumerate(pack.teams)}
    return environment(lang).get_template("report_committee.html").render(pack=pack, charts=charts)


# ---- the programme report ---------------------------------------------------------------------------


def programme_markdown(report: Any, lang: str) -> str:
    """The programme report as Markdown."""
    return environment(_lang(lang)).get_template("report_programme.md.txt").render(report=report)


def programme_html(report: Any, lang: str) -> str:
    """The programme report as one self-contained HTML page, with the funnel as an SVG bar chart."""
    lang = _lang(lang)
    return environment(lang).get_template("report_programme.html").render(report=report,
                                                                           chart=funnel_chart(report, lang))


def funnel_chart(report: Any, lang: str) -> Markup:
    """Teams per phase as horizontal bars: an inline SVG (no script), its numbers written on it."""
    gettext = i18n.translations(lang).gettext
    rows = list(report.funnel)
    width, row, left = 640, 24, 210
    top = max((r.teams for r in rows), default=0) or 1
    usable = width - left - 40
    title = escape(i18n.text(lang, N_("Teams per phase in {programme}"), {"programme": visible(report.programme)}))
    height = row * len(rows) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="funnel-title" class="chart" '
             f'viewBox="0 0 {width} {height}" width="100%"><title id="funnel-title">{title}</title>']
    for i, r in enumerate(rows):
        y = 5 + i * row
        label = escape(gettext(states.PHASES[r.phase].label))
        w = usable * r.teams / top
        colour = "#6b7280" if states.PHASES[r.phase].terminal else "#1f4e8c"
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{label}</text>'
                     f'<rect x="{left}" y="{y}" width="{w:.1f}" height="16" rx="2" fill="{colour}"/>'
                     f'<text x="{left + w + 6:.1f}" y="{y + 13}" font-size="12">'
                     f'{escape(i18n.format_number(r.teams, lang))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def programme_xlsx(report: Any, lang: str) -> bytes:
    """The programme report as a workbook: one sheet per table, for the hierarchy's spreadsheets."""
    # openpyxl: optional and heavy, loaded by the one format that needs it.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    lang = _lang(lang)
    t = i18n.translations(lang).gettext
    filters = environment(lang).filters
    phase = filters["phase"]
    wb = Workbook()
    # The HTML report's title (report_programme.html: the same catalog sentence), the language, who made it.
    wb.properties.title = t(N_("Programme report: %(programme)s")) % {"programme": visible(report.programme)}
    wb.properties.creator = generator()
    wb.properties.language = lang
    sheets = [
        (t(N_("Summary")), [t(N_("Figure")), t(N_("Value"))], [
            [t(N_("Programme")), report.programme], [t(N_("Kind")), filters["kind"](report.kind)],
            [t(N_("Signed on")), date.fromisoformat(report.signed_on)], [t(N_("Deadline")), date.fromisoformat(report.deadline)],
            [t(N_("Days left")), report.days_left], [t(N_("Teams")), report.teams], [t(N_("Teams selected")), report.selected],
            [t(N_("Selection rate")), report.selection_rate], [t(N_("Abandon rate")), report.abandon_rate],
            [t(N_("Incubation rate")), report.incubation_rate]]),
        (t(N_("Funnel")), [t(N_("Phase")), t(N_("Teams"))], [[phase(r.phase), r.teams] for r in report.funnel]),
        (t(N_("Time in phases")), [t(N_("Phase")), t(N_("Periods")), t(N_("Median (days)")), t(N_("Min (days)")), t(N_("Max (days)"))],
         [[phase(d.phase), d.periods, d.median_days, d.min_days, d.max_days] for d in report.durations]),
        (t(N_("Coaching")), [t(N_("Team")), t(N_("Phase")), t(N_("Coach")), t(N_("Weeks held")), t(N_("Weeks expected"))],
         [[c.team, phase(c.phase), c.coach, c.weeks_held, c.weeks_expected] for c in report.coaching]),
    ]
    rates = {t(N_("Selection rate")), t(N_("Abandon rate")), t(N_("Incubation rate"))}
    wb.remove(wb.active)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title[:31])
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for values in rows:
            ws.append([None] * len(values))
            for col, value in enumerate(values, start=1):
                cell = ws.cell(row=ws.max_row, column=col)
                if isinstance(value, str):
                    cell.value = visible(value)
                    cell.data_type = "s"  # a string, never a formula, whatever it starts with (= + - @)
                else:
                    cell.value = value
                    if isinstance(value, date):
                        cell.number_format = "yyyy-mm-dd"
                    elif values[0] in rates and col == 2:
                        cell.number_format = "0.0%"
        for column in ws.columns:
            ws.column_dimensions[column[0].column_letter].width = max(12, min(60, max(
                len(str(c.value or "")) for c in column) + 2))
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


# ---- the statement of expenses (workflow/services/funding.py) ----------------------------------------------


def statement_markdown(statement: Any, lang: str) -> str:
    """A statement of the expenses really incurred, issued to one partner, as Markdown."""
    return environment(_lang(lang)).get_template("statement.md.txt").render(st=statement)


def statement_html(statement: Any, lang: str) -> str:
    """A statement of the expenses really incurred, as one self-contained HTML page (printable)."""
    return environment(_lang(lang)).get_template("statement.html").render(st=statement)


# ---- PDF ---------------------------------------------------------------------------------------------


class PdfUnavailable(RuntimeError):
    """WeasyPrint (or its system libraries) cannot be loaded here."""


def pdf(html: str) -> bytes:
    """An HTML document as PDF through WeasyPrint, which fetches nothing: no network, no file. Tagged PDF/UA-1
    (RGAA asks a public body for accessible documents): its structure for screen readers, its language from
    ``<html lang>``, its ``<title>`` in the XMP metadata and shown as the window's title."""
    try:  # WeasyPrint: optional (system libraries), loaded by the one format that needs it
        from weasyprint import HTML
    except Exception as exc:  # noqa: BLE001 - ImportError, or OSError from missing pango/harfbuzz
        raise PdfUnavailable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None

    def no_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(f"external resource refused: {url[:80]}")

    return HTML(string=html, url_fetcher=no_fetch).write_pdf(pdf_variant="pdf/ua-1")
