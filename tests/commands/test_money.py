"""preincub funding / expense on the demo store: French by default and English with --lang en for each
command, amounts as strings in JSON, refusals in one line with the figures and nothing written, hostile
text shown as typed, the statement document (Markdown, HTML escaped, 0600) and a look at it in Chromium."""

from __future__ import annotations

import json
import os
import stat

import pytest
from tests.cli_helpers import PROG, data, dump_hash, fails, invoke, ok
from tests.browser import SHOTS, chromium, fetched_urls, needs_chromium, not_blank

NBSP, NNBSP = "\u00a0", "\u202f"
PDC = "Pas-de-Calais"
HOSTILE = "<script>alert(1)</script> [/] *gras* | # =1+1"


def run(db, *args, lang=None, now=None):
    return invoke(*args, db=db, lang=lang, **({"now": now} if now else {}))


@pytest.fixture
def funded(demo_db):
    """The demo programme with the seed-1 funding of Pas-de-Calais and two expenses (5,400.50 € in all)."""
    ok(run(demo_db, "funding", "set", "--programme", PROG, "--partner", PDC, "--cap", "9 000",
           "--payment", "after-statement"))
    ok(run(demo_db, "expense", "add", "--programme", PROG, "--amount", "2 400", "--on", "2020-07-07",
           "--label", "Séminaire de lancement"))
    ok(run(demo_db, "expense", "add", "--programme", PROG, "--amount", "3000,50", "--on", "2020-10-01",
           "--label", "Coaching"))
    return demo_db


# ---- each command, in French (default) and English -----------------------------------------------------


@pytest.mark.parametrize("lang,expected", [
    (None, f"financement de 'Nord' pour {PROG!r} enregistré{NBSP}: plafond 4{NNBSP}500,00{NBSP}€, 50{NBSP}% des "
           "dépenses, versé à la signature"),
    ("en", f"funding of 'Nord' in {PROG!r} set: cap €4,500.00, 50% of the expenses, paid on signature"),
])
def test_funding_set(demo_db, lang, expected):
    r = ok(run(demo_db, "funding", "set", "--programme", PROG, "--partner", "Nord", "--cap", "4500,00",
               "--share", "50", "--payment", "on-signature", lang=lang))
    assert r.stdout == expected + "\n"


@pytest.mark.parametrize("lang,expected", [
    (None, f"dépense de 1{NNBSP}234,56{NBSP}€ le 2 novembre 2020 enregistrée pour {PROG!r}{NBSP}: Déplacements"),
    ("en", f"expense of €1,234.56 on November 2, 2020 recorded for {PROG!r}: Déplacements"),
])
def test_expense_add(demo_db, lang, expected):
    r = ok(run(demo_db, "expense", "add", "--programme", PROG, "--amount", "1 234.56", "--on", "2020-11-02",
               "--label", "Déplacements", lang=lang))
    assert r.stdout == expected + "\n"


@pytest.mark.parametrize("lang,fragments", [
    (None, ["Date", "Dépense", "Montant", f"2{NNBSP}400,00{NBSP}€", f"5{NNBSP}400,50{NBSP}€", "Séminaire de lancement"]),
    ("en", ["Date", "Expense", "Amount", "€2,400.00", "€5,400.50", "Total"]),
])
def test_expense_list(funded, lang, fragments):
    out = ok(run(funded, "expense", "list", "--programme", PROG, lang=lang)).stdout
    for f in fragments:
        assert f in out, (f, out)


def test_expense_list_json_holds_amounts_as_strings(funded):
    rows = data(run(funded, "expense", "list", "--programme", PROG, "--json"))
    assert [(r["on"], r["label"], r["amount"]) for r in rows] == [
        ("2020-07-07", "Séminaire de lancement", "2400.00"), ("2020-10-01", "Coaching", "3000.50")]
    empty = ok(run(funded, "expense", "list", "--programme", PROG, lang="en", now="2020-11-16"))
    assert "Total" in empty.stdout


def test_no_expense_yet(demo_db):
    assert ok(run(demo_db, "expense", "list", "--programme", PROG)).stdout == \
        f"aucune dépense enregistrée pour {PROG!r}\n"
    assert data(run(demo_db, "expense", "list", "--programme", PROG, "--json")) == []


@pytest.mark.parametrize("lang,fragments", [
    (None, [f"# État des dépenses{NBSP}: {PROG}", "Émis le 16 novembre 2020 à l'intention de Pas-de-Calais.",
            f"| 7 juillet 2020 | Séminaire de lancement | 2{NNBSP}400,00{NBSP}€ |",
            f"**Total** | **5{NNBSP}400,50{NBSP}€**", f"**Plafond**{NBSP}: 9{NNBSP}000,00{NBSP}€",
            f"**Quote-part des dépenses**{NBSP}: 100{NBSP}%",
            f"Montant dû (le plus bas du plafond et de la quote-part)**{NBSP}: 5{NNBSP}400,50{NBSP}€",
            f"Un unique versement de 5{NNBSP}400,50{NBSP}€", "Pas encore versé."]),
    ("en", [f"# Statement of expenses: {PROG}", "Issued on November 16, 2020 to Pas-de-Calais.",
            "| July 7, 2020 | Séminaire de lancement | €2,400.00 |", "**Total** | **€5,400.50**",
            "**Cap**: €9,000.00", "**Share of the expenses**: 100%, that is €5,400.50",
            "One single payment of €5,400.50, once the agreement has taken effect", "Not paid yet."]),
])
def test_funding_statement_markdown(funded, lang, fragments):
    out = ok(run(funded, "funding", "statement", "--programme", PROG, "--partner", PDC, lang=lang)).stdout
    for f in fragments:
        assert f in out, (f, out)


@pytest.mark.parametrize("lang,expected", [
    (None, f"versement de 5{NNBSP}400,50{NBSP}€ par 'Pas-de-Calais' le 16 novembre 2020 enregistré"),
    ("en", "payment of €5,400.50 by 'Pas-de-Calais' on November 16, 2020 recorded"),
])
def test_funding_payment(funded, lang, expected):
    ok(run(funded, "funding", "statement", "--programme", PROG, "--partner", PDC, "-o", os.devnull))
    r = ok(run(funded, "funding", "payment", "--programme", PROG, "--partner", PDC, "--on", "2020-11-16",
               "--amount", "5400,50", lang=lang))
    assert r.stdout == expected + "\n"


@pytest.mark.parametrize("lang,fragments", [
    (None, [f"{PROG!r}{NBSP}: convention en vigueur du 23 juin 2020 au 23 décembre 2020",
            f"Dépenses réellement réalisées{NBSP}: 5{NNBSP}400,50{NBSP}€ (2 dépenses)", "Collectivité", "Plafond",
            "Quote-part", "Part des dépenses", "Non utilisé à ce jour", "sur état des dépenses", "100{}%".format(NBSP)]),
    ("en", [f"{PROG!r}: agreement in effect from June 23, 2020 to December 23, 2020",
            "Expenses really incurred: €5,400.50 (2 expenses)", "Partner", "Cap", "Share of expenses", "Owed",
            "Unused so far", "after the statement", "€9,000.00"]),
])
def test_funding_show(funded, lang, fragments):
    out = ok(run(funded, "funding", "show", "--programme", PROG, lang=lang)).stdout
    for f in fragments:
        assert f in out, (f, out)


def test_funding_show_json_and_the_end_of_seed2(demo_db):
    """Seed 2 on the CLI: signed on 23 and 31 October 2019, 70,000 € at 50 % on signature; at the end the
    unused funds are shown to be given back."""
    db, P = demo_db, "Trait d'union"
    ok(run(db, "programme", "add", P, "--kind", "fast", "--signed-on", "2019-10-23", "--signed-on", "2019-10-31"))
    ok(run(db, "partner", "add", "Grand Est", "--programme", P, "--kind", "region"))
    ok(run(db, "funding", "set", "--programme", P, "--partner", "Grand Est", "--cap", "70 000", "--share", "50 %",
           "--payment", "on-signature"))
    line = fails(run(db, "funding", "payment", "--programme", P, "--partner", "Grand Est", "--on", "2019-10-30",
                     "--amount", "70000", lang="en"), 1)
    assert "takes effect on October 31, 2019: no payment before" in line
    ok(run(db, "funding", "payment", "--programme", P, "--partner", "Grand Est", "--on", "2019-10-31",
           "--amount", "70000"))
    ok(run(db, "expense", "add", "--programme", P, "--amount", "100 000", "--on", "2020-02-03", "--label", "Équipe"))
    sheet = data(run(db, "funding", "show", "--programme", P, "--json", now="2020-05-01"))
    assert (sheet["ended"], sheet["expenses"], sheet["deadline"]) == (True, "100000.00", "2020-04-30")
    (f,) = sheet["partners"]
    assert {k: f[k] for k in ("cap", "share", "covered", "due", "paid", "unused", "give_back")} == {
        "cap": "70000.00", "share": "50.00", "covered": "50000.00", "due": "70000.00", "paid": "70000.00",
        "unused": "20000.00", "give_back": True}
    out = ok(run(db, "funding", "show", "--programme", P, now="2020-05-01")).stdout
    assert "À restituer" in out and f"20{NNBSP}000,00{NBSP}€ de crédits non utilisés sont à restituer à 'Grand Est'" in out
    out = ok(run(db, "funding", "show", "--programme", P, lang="en", now="2020-05-01")).stdout
    assert "To give back" in out and "'Grand Est' is to be given back €20,000.00 of unused funds" in out
    assert "ended" in out


def test_a_terminable_notice_is_flagged_by_funding_show(funded):
    ok(run(funded, "notice", "add", "--programme", PROG, "--partner", PDC, "--on", "2020-09-01",
           "--breach", "Agents non libérés"))
    out = ok(run(funded, "funding", "show", "--programme", PROG, lang="en", now="2020-10-02")).stdout
    assert "agreement with 'Pas-de-Calais' terminable since October 2, 2020: formal notice #" in out
    # 1 October, one month after the notice, is the last day to answer: nothing flagged yet
    assert "terminable" not in ok(run(funded, "funding", "show", "--programme", PROG, lang="en",
                                      now="2020-10-01T23:59")).stdout
    assert data(run(funded, "funding", "show", "--programme", PROG, "--json", now="2020-10-02"))["terminable"][0][
        "partner"] == PDC


# ---- refusals: one line, the figures, nothing written ---------------------------------------------------


def test_payments_refused_with_their_figures(funded):
    before = dump_hash(funded)
    line = fails(run(funded, "funding", "payment", "--programme", PROG, "--partner", PDC, "--on", "2020-11-16",
                     "--amount", "100"), 1, "(preincub funding statement)")
    assert f"dû à ce jour 5{NNBSP}400,50{NBSP}€, déjà versé 0,00{NBSP}€, demandé 100,00{NBSP}€" in line
    assert dump_hash(funded) == before
    ok(run(funded, "funding", "statement", "--programme", PROG, "--partner", PDC, "-o", os.devnull))
    before = dump_hash(funded)
    line = fails(run(funded, "funding", "payment", "--programme", PROG, "--partner", PDC, "--on", "2020-11-16",
                     "--amount", "5 400,51", lang="en"), 1)
    assert line == ("preincub: 'Pas-de-Calais' makes one single payment of what it owes, not €5,400.51: due "
                    "€5,400.50, already paid €0.00, requested €5,400.51")
    # a part is refused too: the rest could never be paid (one single payment)
    line = fails(run(funded, "funding", "payment", "--programme", PROG, "--partner", PDC, "--on", "2020-11-16",
                     "--amount", "5000"), 1)
    assert line == (f"preincub: 'Pas-de-Calais' fait un versement unique de ce qu'elle doit, pas de "
                    f"5{NNBSP}000,00{NBSP}€{NBSP}: dû 5{NNBSP}400,50{NBSP}€, déjà versé 0,00{NBSP}€, demandé 5{NNBSP}000,00{NBSP}€")
    assert dump_hash(funded) == before
    ok(run(funded, "funding", "payment", "--programme", PROG, "--partner", PDC, "--on", "2020-11-16",
           "--amount", "5 400,50"))
    before = dump_hash(funded)
    line = fails(run(funded, "funding", "payment", "--programme", PROG, "--partner", PDC, "--on", "2020-11-16",
                     "--amount", "400,50", lang="en"), 1)
    assert "makes one single payment and already paid on November 16, 2020: due €5,400.50, already paid €5,400.50, " \
           "requested €400.50" in line
    assert dump_hash(funded) == before


def test_a_statement_is_never_written_over_the_store(funded, tmp_path):
    """-o the store, a journal of it or a link to it: refused before anything is issued; the store is whole."""
    link = tmp_path / "link.db"
    link.symlink_to(funded)
    before = dump_hash(funded)
    for target in (funded, f"{funded}-wal", f"{funded}-shm", f"{funded}-journal", link):
        fails(run(funded, "funding", "statement", "--programme", PROG, "--partner", PDC, "-o", str(target),
                  lang="en"), 2, "is the store itself; write to another file")
    assert dump_hash(funded) == before
    assert data(run(funded, "funding", "show", "--programme", PROG, "--json"))["partners"][0]["statement_on"] is None


def test_no_statement_is_recorded_when_its_document_cannot_be_written(funded, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    before = dump_hash(funded)
    fails(run(funded, "funding", "statement", "--programme", PROG, "--partner", PDC, "-o",
              str(out / "nowhere" / "x.md")), 1, "x.md")
    fails(run(funded, "funding", "statement", "--programme", PROG, "--partner", PDC, "-o", str(out)), 2,
          "est un dossier")
    assert dump_hash(funded) == before  # no statement row, no event
    assert list(out.iterdir()) == []  # and no temporary file left
    ok(run(funded, "funding", "statement", "--programme", PROG, "--partner", PDC, "-o", str(out / "x.md")))
    assert [p.name for p in out.iterdir()] == ["x.md"]


def test_a_statement_whose_write_fails_after_the_checks_is_not_recorded(funded, tmp_path, monkeypatch):
    """The disk fills up while the document is written (after every check passed): one line, exit 1,
    and no statement recorded that no partner received."""
    import errno

    from workflow.store import files as storefile

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    out = tmp_path / "out"
    out.mkdir()
    before = dump_hash(funded)
    monkeypatch.setattr(storefile.os, "fsync", full)
    fails(run(funded, "funding", "statement", "--programme", PROG, "--partner", PDC, "-o", str(out / "x.md"),
              lang="en"), 1, "No space left on device")
    monkeypatch.undo()
    assert dump_hash(funded) == before
    assert list(out.iterdir()) == [], "no document, no temporary file"


@pytest.mark.parametrize("to_file", [True, False])
def test_a_statement_that_cannot_be_committed_leaves_no_document(funded, tmp_path, monkeypatch, to_file):
    """The document is written, then the commit fails (a full disk at COMMIT): no file in place, nothing
    printed, no statement recorded."""
    from workflow.errors import StoreError
    from workflow.services.funding import Funding

    issue = Funding.issue_statement

    def commit_fails(self, programme, partner, *, deliver=None):
        def then_fail(st):
            deliver(st)
            raise StoreError("the disk holding the store {where} is full: free some space, then retry",
                             code="disk_full", where="test")
        return issue(self, programme, partner, deliver=then_fail)

    monkeypatch.setattr(Funding, "issue_statement", commit_fails)
    before = dump_hash(funded)
    docs = tmp_path / "out"
    docs.mkdir()
    out = ["-o", str(docs / "x.md")] if to_file else []
    fails(run(funded, "funding", "statement", "--programme", PROG, "--partner", PDC, *out, lang="en"), 1,
          "is full")  # one line on stderr (no "written to"), nothing on stdout
    assert dump_hash(funded) == before
    assert list(docs.iterdir()) == []
@pytest.mark.parametrize("args,code,fragment", [
    (["expense", "add", "--programme", PROG, "--amount", "-5", "--on", "2020-07-07", "--label", "x"], 2,
     "un montant ne peut pas être négatif"),
    (["expense", "add", "--programme", PROG, "--amount", "5,123", "--on", "2020-07-07", "--label", "x"], 2,
     "plus de deux décimales"),
    (["expense", "add", "--programme", PROG, "--amount", "9" * 5000, "--on", "2020-07-07", "--label", "x"], 2,
     "trop long"),
    (["expense", "add", "--programme", PROG, "--amount", "99999999999999", "--on", "2020-07-07", "--label", "x"], 2,
     "trop grand"),
    (["expense", "add", "--programme", PROG, "--amount", "<script>", "--on", "2020-07-07", "--label", "x"], 2,
     "'<script>' n'est pas un montant en euros"),
    (["expense", "add", "--programme", PROG, "--amount", "[/]", "--on", "2020-07-07", "--label", "x"], 2,
     "'[/]' n'est pas un montant"),
    (["expense", "add", "--programme", PROG, "--amount", "0", "--on", "2020-07-07", "--label", "x"], 1,
     "supérieur à zéro"),
    (["expense", "add", "--programme", PROG, "--amount", "5", "--on", "2020-12-01", "--label", "x"], 1,
     "dans le futur"),
    (["expense", "add", "--programme", PROG, "--amount", "5", "--on", "2020-06-01", "--label", "x"], 1,
     "hors de la convention"),
    (["expense", "add", "--programme", PROG, "--amount", "5", "--on", "2020-07-07", "--label", " "], 1, "vide"),
    (["funding", "set", "--programme", PROG, "--partner", PDC, "--cap", "9000", "--share", "101",
      "--payment", "on-signature"], 2, "au plus de 100"),
    (["funding", "set", "--programme", PROG, "--partner", PDC, "--cap", "9000", "--payment", "weekly"], 2, "weekly"),
    (["funding", "set", "--programme", PROG, "--partner", HOSTILE, "--cap", "9000", "--payment", "on-signature"], 1,
     "collectivité inconnue"),
    (["funding", "statement", "--programme", PROG, "--partner", "Nord"], 1, "(preincub funding set)"),
    (["funding", "show", "--programme", "Nope"], 1, "programme inconnu 'Nope'"),
])
def test_bad_input_is_one_line_and_changes_nothing(funded, args, code, fragment):
    before = dump_hash(funded)
    line = fails(run(funded, *args), code, fragment)
    assert "\x1b" not in line
    assert dump_hash(funded) == before


def test_a_coach_may_not_touch_money(funded):
    before = dump_hash(funded)
    r = invoke("funding", "show", "--programme", PROG, db=funded, actor="julien.moreau@beta.example")
    fails(r, 1, "julien.moreau@beta.example")
    assert dump_hash(funded) == before


# ---- hostile text, the documents ----------------------------------------------------------------------------


def test_hostile_labels_are_shown_as_typed_and_escaped_in_documents(funded, tmp_path):
    before = dump_hash(funded)
    fails(run(funded, "expense", "add", "--programme", PROG, "--amount", "1", "--on", "2020-11-01", "--label",
              "\x1b[31mred"), 1, "caractères de contrôle")
    assert dump_hash(funded) == before
    ok(run(funded, "expense", "add", "--programme", PROG, "--amount", "1", "--on", "2020-11-01", "--label", HOSTILE))
    out = ok(run(funded, "expense", "list", "--programme", PROG)).stdout
    assert HOSTILE in out
    md = ok(run(funded, "funding", "statement", "--programme", PROG, "--partner", PDC)).stdout
    assert "| \\<script\\>alert\\(1\\)\\</script\\> \\[/\\] \\*gras\\* \\| \\# =1+1 |" in md
    doc = tmp_path / "etat.html"
    r = ok(run(funded, "funding", "statement", "--programme", PROG, "--partner", PDC, "--format", "html", "-o", str(doc),
               lang="en"))
    assert r.stdout == "" and str(doc) in r.stderr
    assert stat.S_IMODE(doc.stat().st_mode) == 0o600
    html = doc.read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<html lang="en">' in html and "€5,401.50" in html and "Payment terms" in html
    assert "Issued on November 16, 2020 to Pas-de-Calais. The agreement covers" in html


def test_every_command_is_audited(funded):
    ok(run(funded, "funding", "statement", "--programme", PROG, "--partner", PDC, "-o", os.devnull))
    ok(run(funded, "funding", "payment", "--programme", PROG, "--partner", PDC, "--on", "2020-11-16",
           "--amount", "5400.50"))
    import sqlite3

    con = sqlite3.connect(funded)
    try:
        rows = con.execute("SELECT action, data FROM event WHERE action LIKE 'funding.%' OR action LIKE 'expense.%' "
                           "ORDER BY id").fetchall()
    finally:
        con.close()
    assert [a for a, _ in rows] == ["funding.set", "expense.add", "expense.add", "funding.statement",
                                    "funding.payment"]
    assert json.loads(rows[-1][1])["amount"] == "5400.50"


def test_help_is_translated():
    out = ok(invoke("funding", "set", "--help")).stdout
    assert "Enregistrer (ou corriger" in out and "EUR" in out


# ---- looking at it: headless Chromium ------------------------------------------------------------------------

@pytest.mark.slow
@needs_chromium
def test_the_statement_looks_right_in_chromium_and_fetches_nothing(funded, tmp_path):
    from selenium.webdriver.common.by import By

    doc = tmp_path / "statement.html"
    ok(run(funded, "funding", "statement", "--programme", PROG, "--partner", PDC, "--format", "html", "-o", str(doc)))
    with chromium(1000, 1400, network_log=True) as driver:
        driver.get(doc.as_uri())
        assert "État des dépenses" in driver.find_element(By.TAG_NAME, "h1").text
        cells = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "#expenses td")]
        assert "Séminaire de lancement" in cells and "2 400,00 €" in [c.replace(NNBSP, " ").replace(NBSP, " ")
                                                                       for c in cells]
        png = driver.get_screenshot_as_png()
        assert not_blank(png), "the statement is blank"
        (SHOTS or tmp_path).joinpath("funding-statement.png").write_bytes(png)
        urls = fetched_urls(driver)
        assert urls and all(u.startswith(("file://", "data:")) for u in urls), urls
