"""Reading a spreadsheet of applications: a CSV file (UTF-8 with or without BOM, CP1252/Latin-1 as French
Excel writes it, UTF-16; ``;``, ``,`` or tab, detected) or the first sheet of an XLSX workbook, as its
header and its rows with their line numbers. No store, no rules: :mod:`workflow.formats.intake` reads what
the cells mean."""

from __future__ import annotations

import codecs
import csv
import io
import os
import tomllib
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from workflow.errors import N_, Invalid

MAX_BYTES = 50 * 1024 * 1024  # a call for projects is a few hundred rows; a 10,000-row export is ~5 MB
MAX_ROWS = 100_000
Cell = str | int | float | None


@dataclass(frozen=True, slots=True)
class Sheet:
    """A table as read from a file: its header row and the rows after it, each with its line (CSV:
    the line it starts on; XLSX: the sheet's row number). Blank rows are left out."""

    name: str  # the file's name, for messages
    header_line: int
    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[Cell, ...]], ...]


def key(header: str) -> str:
    """A header as compared: accents, case, spaces and punctuation ignored ("E-mail" = "email",
    "Collectivité" = "collectivite")."""
    decomposed = unicodedata.normalize("NFKD", str(header)).casefold()
    return "".join(ch for ch in decomposed if ch.isalnum())


def read(path: str | os.PathLike[str]) -> Sheet:
    """The table in the file at ``path``: XLSX by its content (a zip), anything else as CSV."""
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise Invalid(N_("{file!q} is larger than {limit!n} MB; split it"), code="file_too_large", file=name,
                          limit=MAX_BYTES // (1024 * 1024))
        with path.open("rb") as f:
            head = f.read(8)
        if head.startswith(b"PK\x03\x04"):
            return _xlsx(path, name)
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise Invalid(N_("{file!q} is an old Excel workbook (.xls); save it as .xlsx or CSV"), code="xls_file",
                          file=name)
        raw = path.read_bytes()
    except IsADirectoryError:
        raise Invalid(N_("{file!q} is a directory, not a CSV or XLSX file"), code="not_a_sheet", file=name) from None
    except FileNotFoundError:
        raise Invalid(N_("no file {file!q}"), code="no_file", file=str(path)) from None
    except PermissionError:
        raise Invalid(N_("{file!q} cannot be read (permission denied)"), code="unreadable_file", file=name) from None
    return _csv(_decode(raw, name), name)


def _decode(raw: bytes, name: str) -> str:
    """The text of a CSV file: UTF-8 (a BOM is dropped), UTF-16 with its BOM, else CP1252 (French
    Excel's "CSV (séparateur : point-virgule)"), else Latin-1."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in raw:
        if raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        for encoding in ("utf-8", "cp1252"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
        return raw.decode("latin-1")
    raise Invalid(N_("{file!q} is neither a CSV file nor an XLSX workbook"), code="not_a_sheet", file=name)


def _delimiter(text: str) -> str:
    """``;``, ``,`` or tab: csv.Sniffer's choice on the start of the file, when the header line holds
    it; else the one the header line holds most of."""
    first = text.split("\n", 1)[0]
    sample = text[:65536]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        found = csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
        if found in first:
            return found
    except csv.Error:
        pass
    return max(";,\t", key=first.count)


def _csv(text: str, name: str) -> Sheet:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header: tuple[str, ...] | None = None
    header_line = 0
    rows: list[tuple[int, tuple[Cell, ...]]] = []
    try:
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header, header_line = tuple(cells), line
                continue
            rows.append((line, tuple(cells)))
            if len(rows) > MAX_ROWS:
                raise _too_many(name)
    except csv.Error as exc:
        raise Invalid(N_("{file!q} is not a readable CSV file (line {line}: {detail})"), code="bad_csv", file=name,
                      line=reader.line_num, detail=str(exc)) from None
    return _sheet(name, header, header_line, rows)


def _too_many(name: str) -> Invalid:
    return Invalid(N_("{file!q} has more than {limit!n} rows; split it"), code="too_many_rows", file=name,
                   limit=MAX_ROWS)


def _xlsx(path: Path, name: str) -> Sheet:
    """The first sheet of a workbook, read as it streams (openpyxl's read-only mode), values not formulas."""
    from openpyxl import load_workbook  # an optional heavy dependency: loaded only to read a workbook

    header: tuple[str, ...] | None = None
    header_line = 0
    rows: list[tuple[int, tuple[Cell, ...]]] = []
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - a zip that is not a workbook: BadZipFile, KeyError, InvalidFileException...
        raise Invalid(N_("{file!q} is not a readable XLSX workbook"), code="bad_xlsx", file=name) from None
    try:
        if not wb.worksheets:
            raise Invalid(N_("{file!q} is not a readable XLSX workbook"), code="bad_xlsx", file=name)
        for line, values in enumerate(wb.worksheets[0].iter_rows(min_row=1, values_only=True), 1):
            cells = tuple(_cell(v) for v in values)
            if not any(c is not None and str(c).strip() for c in cells):
                continue
            if header is None:
                header, header_line = tuple("" if c is None else str(c) for c in cells), line
                continue
            rows.append((line, cells))
            if len(rows) > MAX_ROWS:
                raise _too_many(name)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise Invalid(N_("{file!q} is not a readable XLSX workbook"), code="bad_xlsx", file=name) from None
    finally:
        wb.close()
    return _sheet(name, header, header_line, rows)


def _cell(v: Any) -> Cell:
    if v is None or isinstance(v, (str, int, float)) and not isinstance(v, bool):
        return v
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    return str(v)


def _sheet(name: str, header: tuple[str, ...] | None, header_line: int,
           rows: list[tuple[int, tuple[Cell, ...]]]) -> Sheet:
    if header is None:
        raise Invalid(N_("{file!q} is empty: no header row"), code="empty_sheet", file=name)
    return Sheet(name, header_line, tuple(h.strip() for h in header), tuple(rows))


def load_map(path: str | os.PathLike[str]) -> dict[str, str | int]:
    """A map of the file's headers to preincub's columns, from a TOML file: ``"Header" = "column"``
    pairs, or a column by position (``problem = 7``, ``problem = "G"``), under ``[columns]`` or at the top
    level (the columns are checked by :mod:`workflow.formats.applications`)."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise Invalid(N_("no file {file!q}"), code="no_file", file=str(path)) from None
    except (IsADirectoryError, PermissionError):
        raise Invalid(N_("{file!q} cannot be read (permission denied)"), code="unreadable_file",
                      file=path.name) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise Invalid(N_("the map {file!q} is not valid TOML ({detail})"), code="bad_map", file=path.name,
                      detail=str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    table = data.get("columns", data)
    out: dict[str, str | int] = {}
    if not isinstance(table, Mapping):
        table = {"columns": table}
    for header, column in table.items():
        if not isinstance(column, (str, int)) or isinstance(column, bool):
            raise Invalid(N_("in the map {file!q}, the header {header!q} should map to a column name in quotes, "
                             "or a column's position (7 or \"G\")"), code="bad_map", file=path.name, header=header)
        out[header] = column
    return out
