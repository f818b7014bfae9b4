"""Tables read from files: CSV in the encodings and delimiters French spreadsheets write, XLSX, blank rows left out, each file problem one refusal; header keys; the TOML map."""

from __future__ import annotations

import pytest

from workflow.errors import Invalid
from workflow.formats.sheets import key, load_map, read


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
@pytest.mark.parametrize("sep", [";", ","])
def test_a_csv_in_any_encoding_and_delimiter(tmp_path, encoding, sep):
    f = tmp_path / "équipes.csv"
    f.write_bytes(f"Équipe{sep}Collectivité\r\nAlpha{sep}Hérault\r\n{sep}\r\nBêta{sep}Nord\r\n".encode(encoding))
    sh = read(f)
    assert (sh.name, sh.header_line, sh.header) == ("équipes.csv", 1, ("Équipe", "Collectivité"))
    assert sh.rows == ((2, ("Alpha", "Hérault")), (4, ("Bêta", "Nord")))


def test_a_quoted_cell_over_two_lines_keeps_its_first_line_number(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text('équipe;problème\nAlpha;"deux\nlignes"\nBêta;x\n', encoding="utf-8")
    assert read(f).rows == ((2, ("Alpha", "deux\nlignes")), (4, ("Bêta", "x")))


def test_an_xlsx_with_blank_rows_left_out_and_numbers_kept(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Équipe", "Jours par semaine"])
    ws.append(["Alpha", 2.5])
    ws.append([None, None])
    ws.append(["Bêta", 1])
    f = tmp_path / "export.xlsx"
    wb.save(f)
    sh = read(f)
    assert sh.header == ("Équipe", "Jours par semaine")
    assert [(line, cells[0]) for line, cells in sh.rows] == [(2, "Alpha"), (4, "Bêta")]
    assert sh.rows[0][1][1] == 2.5


@pytest.mark.parametrize("make,code", [
    (lambda p: p / "absent.csv", "no_file"),
    (lambda p: p, "not_a_sheet"),
    (lambda p: (p / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100) and p / "old.xls", "xls_file"),
])
def test_each_file_problem_is_one_refusal(tmp_path, make, code):
    with pytest.raises(Invalid) as e:
        read(make(tmp_path))
    assert e.value.code == code


def test_keys_ignore_accents_case_spaces_and_punctuation():
    assert key(" Jours/semaine ") == key("JOURS SEMAINE") == "jourssemaine"
    assert key("Équipe") == "equipe" and key("E-mail") == key("email")


def test_the_map_at_the_top_or_under_columns(tmp_path):
    top, under, bad = tmp_path / "a.toml", tmp_path / "b.toml", tmp_path / "c.toml"
    top.write_text('"Nom" = "team"\n', encoding="utf-8")
    under.write_text('[columns]\n"Nom" = "team"\n', encoding="utf-8")
    bad.write_text('"Nom" = true\n', encoding="utf-8")  # a column by name or position (problem = 7), not a flag
    assert load_map(top) == load_map(under) == {"Nom": "team"}
    with pytest.raises(Invalid) as e:
        load_map(bad)
    assert e.value.code == "bad_map"
    (tmp_path / "d.toml").write_text("= nothing", encoding="utf-8")
    with pytest.raises(Invalid) as e:
        load_map(tmp_path / "d.toml")
    assert e.value.code == "bad_map"
    with pytest.raises(Invalid) as e:
        load_map(tmp_path / "none.toml")
    assert e.value.code == "no_file"
