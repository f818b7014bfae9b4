"""report: the strategic committee pack and the programme report, as documents people read."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from notifications import documents
from workflow.records import plain
from workflow.store.files import staged_private

from commands.context import complete, current_ctx
from commands.output import emit_json
from commands.params import FilePath, json_option
from commands.text import _, current_lang, tr


@click.group(short_help="Documents: committee pack, programme report.")
def report() -> None:
    """Documents for people: the strategic committee pack, the programme report."""


def _output(option_name: str = "-o"):
    return click.option("-o", "--output", "output", type=FilePath(writable=True), metavar="FILE",
                        help="Write the document to this file (created 0600) instead of standard output.")


def _store_files() -> list[Path]:
    """The files of this invocation's SQLite store (the database, its journals), none for PostgreSQL."""
    store = current_ctx().wf().store.path
    if store is None:
        return []
    return [Path(f"{store}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")]


def check_output(output: Path | str) -> Path:
    """Refuse, before anything is done, an ``-o`` that cannot take the document: the store itself or one
    of its journals (resolved, symlinks and hard links included), a directory, a directory that does not
    exist or cannot be written to (tried, not guessed: root may not write on a read-only disk). So a
    command that records something (a statement) records it only if its document can be written."""
    target = Path(output).expanduser()
    try:
        resolved = target.resolve()
    except (OSError, RuntimeError):  # a loop of links: the write below says why
        resolved = target
    for f in _store_files():
        if resolved == f.resolve() or (target.exists() and f.exists() and os.path.samefile(target, f)):
            raise click.UsageError(tr("{path!q} is the store itself; write to another file", path=str(output)))
    if target.is_dir() or os.path.basename(output) in ("", ".", ".."):  # "out/", "out/.": a directory, even to come
        raise click.UsageError(tr("{path!q} is a directory: give a file name", path=str(output)))
    try:
        if target.exists() and not stat.S_ISREG(target.stat().st_mode):
            return target  # /dev/null, a FIFO: written to in place (see write_private)
        fd, probe = tempfile.mkstemp(prefix=f".{target.name[:50]}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(target)) from None
    os.close(fd)
    os.unlink(probe)
    return target


def write_document(content: str | bytes, output: Path | str | None) -> None:
    """The document to ``output`` (a new 0600 file, written whole then renamed into place), or to stdout.

    A binary document (PDF, XLSX) is refused on a terminal: it needs -o or a pipe. The output is
    checked first (:func:`check_output`): never the store, never a directory."""
    with staged_document(content, output):
        pass


@contextmanager
def staged_document(content: str | bytes, output: Path | str | None) -> Iterator[None]:
    """:func:`write_document` around a block that records the document (a statement): written to its
    temporary file before the block, put in place (or printed) only once the block has succeeded.
    A document that cannot be written fails the block; a block that fails leaves no document."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if output is None:
        if isinstance(content, bytes) and sys.stdout.isatty():
            raise click.UsageError(_("this format is binary: write it to a file with -o FILE, or pipe it"))
        yield
        stream = click.get_binary_stream("stdout")
        stream.write(data)
        stream.flush()
        return
    target = check_output(output)
    with staged_private(target, data):
        yield
    click.echo(tr("written to {path}", path=str(target)), err=True)


def _pdf(html: str) -> bytes:
    try:
        return documents.pdf(html)
    except documents.PdfUnavailable as exc:
        raise click.ClickException(tr("PDF needs WeasyPrint, which cannot be loaded here ({why}): pip install "
                                      "weasyprint, with the pango and harfbuzz libraries", why=str(exc)[:120])) from None


@report.command(name="committee", short_help="The strategic committee pack.")
@click.option("--programme", required=True, shell_complete=complete("programme"))
@click.option("--team", "teams", multiple=True, metavar="NAME", shell_complete=complete("team"),
              help="A team to present (repeat for several); default: every team in the committee phase.")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "pdf"]), default="md", show_default=True)
@_output()
@json_option
def committee(programme, teams, fmt, output, as_json) -> None:
    """The strategic committee pack: for each team, its problem and partner, criteria and agreements,
    phase timeline, coaching, last three check-ins, proof of concept and committee date.

    Example: preincub report committee --programme "Pré-incubation 2020" --format html -o comite.html
    """
    pack = current_ctx().wf().reports.committee(programme, teams)
    if as_json:
        emit_json(plain(pack))
        return
    lang = current_lang()
    if fmt == "md":
        write_document(documents.committee_markdown(pack, lang), output)
    elif fmt == "html":
        write_document(documents.committee_html(pack, lang), output)
    else:
        write_document(_pdf(documents.committee_html(pack, lang)), output)


@report.command(name="programme", short_help="The programme report.")
@click.option("--programme", required=True, shell_complete=complete("programme"))
@click.option("--format", "fmt", type=click.Choice(["md", "html", "xlsx"]), default="md", show_default=True)
@_output()
@json_option
def programme_report(programme, fmt, output, as_json) -> None:
    """The programme report: the funnel (teams per phase, selection, abandon and incubation rates), time in
    each phase, coaching regularity, the deadline.

    Example: preincub report programme --programme "Pré-incubation 2020" --format xlsx -o programme.xlsx
    """
    rep = current_ctx().wf().reports.programme(programme)
    if as_json:
        emit_json(plain(rep))
        return
    lang = current_lang()
    content = {"md": documents.programme_markdown, "html": documents.programme_html,
               "xlsx": documents.programme_xlsx}[fmt](rep, lang)
    write_document(content, output)
