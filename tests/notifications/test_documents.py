"""The documents' escaping: stored text as literal Markdown (one line or several), links only when http(s),
a link destination that cannot break out of its parentheses; and the files as other tools read them: the
committee PDF tagged PDF/UA-1 (pikepdf, pdfinfo), the programme workbook's properties (openpyxl)."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess

import pytest

from notifications.documents import FORMATS, md, md_block, md_url, safe_href
from tests.cli_helpers import PROG, invoke, ok


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


# ---- the files, as other tools read them ----------------------------------------------------------------


def _weasyprint() -> bool:
    try:
        import weasyprint  # noqa: F401
    except Exception:  # noqa: BLE001 - ImportError, or OSError from missing pango/harfbuzz
        return False
    return True


needs_weasyprint = pytest.mark.skipif(not _weasyprint(),
                                      reason="WeasyPrint cannot be loaded: pip install weasyprint (pango, harfbuzz)")
VERSION = importlib.metadata.version("preincub")


@pytest.fixture(scope="module")
def committee_pdf(demo_ro, tmp_path_factory):
    """The demo's committee pack as PDF, in French and in English."""
    out = {}
    for lang in ("fr", "en"):
        path = tmp_path_factory.mktemp("pdf") / f"comite-{lang}.pdf"
        ok(invoke("report", "committee", "--programme", PROG, "--format", "pdf", "-o", str(path), db=demo_ro,
                  lang=lang))
        out[lang] = path
    return out


@needs_weasyprint
@pytest.mark.parametrize("lang,title", [("fr", "Dossier du comité stratégique"),
                                        ("en", "Strategic committee pack")])
def test_the_committee_pdf_is_tagged_pdf_ua_1_with_its_language_and_title(committee_pdf, lang, title):
    pikepdf = pytest.importorskip("pikepdf", reason="pikepdf is not installed: pip install pikepdf (the test extra)")
    with pikepdf.open(committee_pdf[lang]) as pdf:
        root = pdf.Root
        assert root.MarkInfo.Marked is True and "/StructTreeRoot" in root
        assert str(root.Lang) == lang
        assert root.ViewerPreferences.DisplayDocTitle is True  # PDF/UA: the title, not the file name, is shown
        assert str(pdf.docinfo.Title).startswith(title) and PROG in str(pdf.docinfo.Title)
        assert "/Metadata" in root
        xmp = pdf.open_metadata()  # read only: not used as a context manager, so nothing is written back
        assert xmp["pdfuaid:part"] == "1"
        assert xmp["dc:title"].startswith(title)
        assert xmp["xmp:CreatorTool"] == f"preincub {VERSION}"
        kinds = set()

        def walk(node):
            if isinstance(node, pikepdf.Dictionary):
                if "/S" in node:
                    kinds.add(str(node.S))
                if "/K" in node:
                    walk(node.K)
            elif isinstance(node, pikepdf.Array):
                for child in node:
                    walk(child)

        walk(root.StructTreeRoot)
        assert {"/Document", "/H1", "/H2", "/Table", "/TH", "/TD", "/Figure"} <= kinds


@needs_weasyprint
@pytest.mark.skipif(not shutil.which("pdfinfo"), reason="pdfinfo is not installed: apt-get install poppler-utils")
def test_pdfinfo_says_the_committee_pdf_is_tagged(committee_pdf):
    info = subprocess.run(["pdfinfo", str(committee_pdf["fr"])], capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    assert fields["Tagged"].strip() == "yes" and fields["Metadata Stream"].strip() == "yes"
    assert fields["Title"].strip().startswith("Dossier du comité stratégique")


@pytest.mark.parametrize("lang,title,kind", [("fr", "Bilan du programme", "pré-incubation"),
                                             ("en", "Programme report", "pre-incubation")])
def test_the_programme_workbook_has_a_title_a_creator_a_language_and_no_raw_kind(demo_ro, tmp_path, lang, title,
                                                                                  kind):
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is not installed: pip install openpyxl")
    out = tmp_path / "programme.xlsx"
    ok(invoke("report", "programme", "--programme", PROG, "--format", "xlsx", "-o", str(out), db=demo_ro, lang=lang))
    wb = openpyxl.load_workbook(out)
    props = wb.properties
    colon = "\N{NO-BREAK SPACE}: " if lang == "fr" else ": "
    assert props.title == f"{title}{colon}{PROG}"
    assert props.creator == f"preincub {VERSION}" and props.lastModifiedBy in (None, f"preincub {VERSION}")
    assert props.language == lang
    summary = list(wb.worksheets[0].iter_rows(min_row=2, values_only=True))
    assert summary[1][1] == kind  # the Kind/Type row: translated, not the id "preincubation"
    assert "preincubation" not in [v for row in summary for v in row]
