"""preincub report committee / programme: Markdown against golden files, HTML parsed, PDF through
pdftotext, XLSX read back with openpyxl, hostile stored text escaped in every format, files 0600,
and both HTML documents opened in headless Chromium (screenshot not blank, no network request)."""

from __future__ import annotations

import html.parser
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from tests.cli_helpers import PROG, data, dump_hash, fails, invoke, ok
from tests.browser import SHOTS, chromium, fetched_urls, needs_chromium, not_blank

GOLDEN = Path(__file__).parent / "golden" / "reports"
UPDATE = os.environ.get("PREINCUB_UPDATE_GOLDEN") == "1"  # regenerate the golden files, then review the diff
TSA, RSA = "Transport scolaire adapté", "Insertion RSA"
COORD = "camille.lefebvre@beta.example"
HOSTILE = "<script>alert(1)</script> *gras* [x](https://evil.example) | # \x1b[31m [/] =1+1"


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with PREINCUB_UPDATE_GOLDEN=1, then review it"
    assert text == path.read_text(encoding="utf-8"), f"differs from {path} (PREINCUB_UPDATE_GOLDEN=1 to rewrite)"


class Page(html.parser.HTMLParser):
    """What the tests look at in an HTML document: tags, attributes, text, sections."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, d):
        self.text.append(d)

    def all(self, tag: str, **attrs: str) -> list[dict]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    @property
    def body(self) -> str:
        return "".join(self.text)


# ---- Markdown: golden files ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_committee_pack_markdown_matches_its_golden_file(demo_ro, lang):
    r = ok(invoke("report", "committee", "--programme", PROG, "--team", TSA, "--team", RSA, db=demo_ro, lang=lang))
    golden(f"committee.{lang}.md", r.stdout)
    assert r.stdout.index(f"## {TSA}") < r.stdout.index(f"## {RSA}")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_programme_report_markdown_matches_its_golden_file(demo_ro, lang):
    r = ok(invoke("report", "programme", "--programme", PROG, db=demo_ro, lang=lang))
    golden(f"programme.{lang}.md", r.stdout)


def test_by_default_the_pack_holds_the_teams_in_the_committee_phase(demo_ro):
    out = ok(invoke("report", "committee", "--programme", PROG, db=demo_ro, lang="en")).stdout
    assert f"## {TSA}" in out and "## " + RSA not in out
    assert "Committee on December 10, 2020: in 24 days." in out
    assert "Programme deadline December 23, 2020: 37 days left." in out


def test_json_gives_the_records(demo_ro):
    pack = data(invoke("report", "committee", "--programme", PROG, "--json", db=demo_ro))
    assert [s["team"]["name"] for s in pack["teams"]] == [TSA] and pack["days_left"] == 37
    assert len(pack["teams"][0]["recent"]) == 3
    rep = data(invoke("report", "programme", "--programme", PROG, "--json", db=demo_ro))
    assert rep["selection_rate"] == 0.875 and rep["teams"] == 10


# ---- HTML: one self-contained page ---------------------------------------------------------------------


def test_committee_pack_html_is_self_contained_one_section_per_team(demo_ro, tmp_path):
    out = tmp_path / "comite.html"
    r = ok(invoke("report", "committee", "--programme", PROG, "--team", TSA, "--team", RSA, "--format", "html",
                  "-o", str(out), db=demo_ro))
    assert r.stdout == "" and str(out) in r.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = out.read_text(encoding="utf-8")
    page = Page(text)
    sections = page.all("section")
    assert [s["id"] for s in sections] == ["team-1", "team-2"] and all(s["class"] == "team" for s in sections)
    assert len(page.all("svg")) == 2 and len({s["aria-labelledby"] for s in page.all("svg")}) == 2
    assert page.all("meta", **{"http-equiv": "Content-Security-Policy"})[0]["content"].startswith("default-src 'none'")
    assert not page.all("script") and not page.all("link") and not page.all("img")
    external = [a["href"] for a in page.all("a") if not a["href"].startswith("#")]
    assert external == ["https://beta.gouv.fr/"]  # the proof of concept's link, the only one
    assert len(page.all("style")) == 1 and "break-after: page" in text  # one team per printed page
    assert TSA in page.body and RSA in page.body and "Tester le prototype" in page.body
    assert page.all("html")[0]["lang"] == "fr" and "Dossier du comité stratégique" in page.body


def test_programme_report_html_has_its_bar_chart(demo_ro):
    text = ok(invoke("report", "programme", "--programme", PROG, "--format", "html", db=demo_ro, lang="en")).stdout
    page = Page(text)
    assert len(page.all("svg")) == 1 and len(page.all("rect")) == 9  # one bar per phase
    assert "Selection rate" in page.body and "87.5%" in page.body and not page.all("script")


# ---- hostile stored text ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_db(demo_template, tmp_path_factory) -> Path:
    """The demo with hostile text in what the documents show: a team's name, problem, blockers, a coach."""
    db = Path(shutil.copy(demo_template, tmp_path_factory.mktemp("hostile") / "demo.db"))
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE team SET name = ?, problem = ? WHERE name = ?", (HOSTILE, HOSTILE + "\n- liste\n1. un", TSA))
        con.execute("UPDATE checkin SET blockers = ? WHERE id = (SELECT max(id) FROM checkin WHERE team_id = "
                    "(SELECT id FROM team WHERE name = ?))", (HOSTILE, HOSTILE))
    con.close()
    return db


def test_hostile_text_is_escaped_in_markdown(hostile_db):
    out = ok(invoke("report", "committee", "--programme", PROG, db=hostile_db)).stdout
    assert "<script>" not in out and "\x1b" not in out
    assert r"\<script\>alert\(1\)\</script\> \*gras\* \[x\]\(https://evil.example\) \| \# \\x1b\[31m \[/\] =1+1" in out
    assert "\n\\- liste" in out and "\n1\\. un" in out  # no list made from stored lines
    golden("committee.hostile.md", out)


def test_hostile_text_is_escaped_in_html(hostile_db):
    text = ok(invoke("report", "committee", "--programme", PROG, "--format", "html", db=hostile_db)).stdout
    page = Page(text)
    assert not page.all("script") and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert HOSTILE.replace("\x1b", "\\x1b") in page.body and "\x1b" not in text
    assert [a["href"] for a in page.all("a") if not a["href"].startswith("#")] == ["https://beta.gouv.fr/"]


def test_hostile_text_is_never_a_formula_in_xlsx(hostile_db, tmp_path):
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is not installed: pip install openpyxl")
    con = sqlite3.connect(hostile_db)
    with con:
        con.execute("UPDATE person SET email = '=cmd|calc!A1' WHERE email = 'julien.moreau@beta.example'")
    con.close()
    out = tmp_path / "p.xlsx"
    ok(invoke("report", "programme", "--programme", PROG, "--format", "xlsx", "-o", str(out), db=hostile_db))
    ws = openpyxl.load_workbook(out)["Accompagnement"]
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    assert cells and all(c.data_type == "s" for c in cells)
    assert HOSTILE.replace("\x1b", "\\x1b") in [c.value for c in ws["A"]]


# ---- XLSX and PDF -----------------------------------------------------------------------------------------


def test_programme_report_xlsx_has_one_sheet_per_table(demo_ro, tmp_path):
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is not installed: pip install openpyxl")
    out = tmp_path / "programme.xlsx"
    ok(invoke("report", "programme", "--programme", PROG, "--format", "xlsx", "-o", str(out), db=demo_ro, lang="en"))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Summary", "Funnel", "Time in phases", "Coaching"]
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Programme"] == PROG and summary["Teams"] == 10 and summary["Selection rate"] == 0.875
    assert summary["Deadline"].date().isoformat() == "2020-12-23"
    funnel = list(wb["Funnel"].iter_rows(values_only=True))
    assert funnel[0] == ("Phase", "Teams") and ("Investigation", 2) in funnel and len(funnel) == 10
    coaching = list(wb["Coaching"].iter_rows(min_row=2, values_only=True))
    assert len(coaching) == 7 and all(isinstance(row[3], int) and row[3] <= row[4] for row in coaching)


def _weasyprint() -> bool:
    try:
        import weasyprint  # noqa: F401
    except Exception:  # noqa: BLE001
        return False
    return True


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext is not installed: apt-get install poppler-utils")
@pytest.mark.skipif(not _weasyprint(), reason="WeasyPrint cannot be loaded: pip install weasyprint (pango, harfbuzz)")
def test_committee_pack_pdf_names_each_team(demo_ro, tmp_path):
    out = tmp_path / "comite.pdf"
    ok(invoke("report", "committee", "--programme", PROG, "--team", TSA, "--team", RSA, "--format", "pdf",
              "-o", str(out), db=demo_ro))
    assert out.read_bytes()[:5] == b"%PDF-" and stat.S_IMODE(out.stat().st_mode) == 0o600
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert TSA in text and RSA in text and "Dossier du comité stratégique" in text
    pages = text.split("\f")
    assert sum(1 for p in pages if TSA in p) >= 1 and len([p for p in pages if p.strip()]) >= 3  # cover + a page each


def test_pdf_without_weasyprint_says_so_in_one_line(demo_ro, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint -> ImportError
    out = tmp_path / "x.pdf"
    line = fails(invoke("report", "committee", "--programme", PROG, "--format", "pdf", "-o", str(out), db=demo_ro,
                        lang="en"), 1, "WeasyPrint")
    assert "pip install weasyprint" in line and not out.exists()


# ---- refusals: one line, nothing written ------------------------------------------------------------------


def test_refusals_are_one_line_and_change_nothing(demo_db, tmp_path):
    before = dump_hash(demo_db)
    fails(invoke("report", "committee", "--programme", "Nulle part", db=demo_db), 1, "Nulle part")
    fails(invoke("report", "committee", "--programme", PROG, "--team", "<script>", db=demo_db), 1, "<script>")
    fails(invoke("report", "programme", "--programme", PROG, "--format", "pdf", db=demo_db), 2)
    fails(invoke("report", "committee", "--programme", PROG, "--format", "xlsx", db=demo_db), 2)
    fails(invoke("report", "programme", "--programme", PROG, "-o", str(tmp_path / "nowhere" / "x.md"), db=demo_db),
          1, "x.md")
    fails(invoke("report", "programme", "--programme", PROG, "-o", str(tmp_path), db=demo_db), 2)
    fails(invoke("report", "programme", "--programme", "x" * 100_000, db=demo_db), 1)
    fails(invoke("--as", "julien.moreau@beta.example", "report", "committee", "--programme", PROG,
                 "--team", "Dossiers MDPH", db=demo_db), 1, "Dossiers MDPH")
    ok(invoke("programme", "add", "Autre", "--signed-on", "2020-09-01", db=demo_db))
    before = dump_hash(demo_db)
    fails(invoke("report", "committee", "--programme", "Autre", db=demo_db, lang="en"), 1, "committee phase")
    fails(invoke("report", "committee", "--programme", "Autre", "--team", RSA, db=demo_db, lang="en"), 1,
          "not in programme")
    assert dump_hash(demo_db) == before
    assert list(tmp_path.iterdir()) == [] or all(not p.name.startswith(".preincub-") for p in tmp_path.iterdir())


def test_a_document_is_never_written_over_the_store(demo_db, tmp_path):
    link = tmp_path / "link.db"
    link.symlink_to(demo_db)
    before = dump_hash(demo_db)
    for target in (demo_db, f"{demo_db}-wal", f"{demo_db}-journal", link):
        fails(invoke("report", "programme", "--programme", PROG, "-o", str(target), db=demo_db, lang="en"), 2,
              "is the store itself")
    assert dump_hash(demo_db) == before


def test_an_existing_file_is_replaced_and_made_private(demo_ro, tmp_path):
    out = tmp_path / "r.md"
    out.write_text("old")
    out.chmod(0o644)
    ok(invoke("report", "programme", "--programme", PROG, "-o", str(out), db=demo_ro))
    assert out.read_text(encoding="utf-8").startswith("# ") and stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["r.md"]


def test_reports_work_on_a_read_only_store(demo_ro):
    ok(invoke("report", "programme", "--programme", PROG, db=f"sqlite:///{demo_ro}?mode=ro"))


def test_help_is_translated(demo_ro):
    out = ok(invoke("report", "committee", "--help", lang="fr")).stdout
    assert "Le dossier du comité stratégique" in out


# ---- looking at it: headless Chromium ------------------------------------------------------------------

@pytest.mark.slow
@needs_chromium
def test_the_documents_look_right_in_chromium_and_fetch_nothing(demo_ro, tmp_path):
    from selenium.webdriver.common.by import By

    pack, prog = tmp_path / "committee-pack.html", tmp_path / "programme-report.html"
    ok(invoke("report", "committee", "--programme", PROG, "--team", TSA, "--team", RSA, "--format", "html",
              "-o", str(pack), db=demo_ro))
    ok(invoke("report", "programme", "--programme", PROG, "--format", "html", "-o", str(prog), db=demo_ro))
    shots = SHOTS or tmp_path
    with chromium(1000, 1600, network_log=True) as driver:
        for doc, name, heading in ((pack, "committee-pack.png", "Dossier du comité stratégique"),
                                   (prog, "programme-report.png", "Bilan du programme")):
            driver.get(doc.as_uri())
            assert heading in driver.find_element(By.TAG_NAME, "h1").text
            assert driver.find_elements(By.CSS_SELECTOR, "svg rect"), "the chart is drawn"
            png = driver.get_screenshot_as_png()
            assert not_blank(png), f"{name} is blank"
            (shots / name).write_bytes(png)
            urls = fetched_urls(driver)
            assert urls and all(u.startswith(("file://", "data:")) for u in urls), urls  # the page itself only
        # printed: one team per page (the print stylesheet breaks after the cover and each team)
        import base64

        driver.get(pack.as_uri())
        printed = tmp_path / "printed.pdf"
        printed.write_bytes(base64.b64decode(driver.print_page()))
        if shutil.which("pdftotext"):
            text = subprocess.run(["pdftotext", str(printed), "-"], capture_output=True, text=True, check=True).stdout
            pages = [p for p in text.split("\f") if p.strip()]
            first = [i for i, p in enumerate(pages) if "Problème" in p]
            assert len(first) >= 2 and TSA in pages[first[0]] and RSA in pages[first[1]]
            assert RSA not in pages[first[0]].split("Problème")[0]  # each team starts its own page
