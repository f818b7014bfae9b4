"""Formal notices from the command line, on a copy of the demo store: add, answer, list, the status
flag, the reminder through `remind preview` and `remind run`, in French and English; refusals."""

from __future__ import annotations

import shlex

import pytest
from tests.cli_helpers import PROG, data, dump_hash, fails, invoke, ok

JULIEN = "julien.moreau@beta.example"  # a coach
NB = "\u00a0"
FLAG_FR = (f"⚠ convention de 'Pré-incubation 2020' avec 'Somme' résiliable depuis le 13 novembre 2020{NB}: "
           f"mise en demeure n°{NB}1 du 12 octobre 2020 sans réponse")
FLAG_EN = ("⚠ agreement of 'Pré-incubation 2020' with 'Somme' terminable since November 13, 2020: "
           "formal notice #1 of October 12, 2020 unanswered")


def add(db, partner: str, on: str, breach: str = "Intrapreneur non libéré un jour par semaine", **kw):
    return invoke("notice", "add", "--programme", PROG, "--partner", partner, "--on", on, "--breach", breach,
                  db=db, **kw)


def test_add_answer_and_list_in_french_and_english(demo_db):
    assert ok(add(demo_db, "Somme", "2020-11-02")).stdout == (
        f"mise en demeure n°{NB}1 à 'Somme' enregistrée{NB}; sans réponse, la convention sera résiliable à partir "
        "du 3 décembre 2020\n")
    assert ok(add(demo_db, "Nord", "2020-10-12", "Bilan non transmis", lang="en")).stdout == (
        "formal notice #2 to 'Nord' recorded; unanswered, the agreement is terminable from November 13, 2020\n")
    rows = data(invoke("notice", "list", "--programme", PROG, "--json", db=demo_db))
    assert rows == [
        {"id": 2, "programme": PROG, "partner": "Nord", "on": "2020-10-12", "breach": "Bilan non transmis",
         "terminable_on": "2020-11-13", "state": "terminable", "answered_on": None, "answer": None},
        {"id": 1, "programme": PROG, "partner": "Somme", "on": "2020-11-02",
         "breach": "Intrapreneur non libéré un jour par semaine", "terminable_on": "2020-12-03", "state": "pending",
         "answered_on": None, "answer": None}]
    fr = ok(invoke("notice", "list", "--programme", PROG, db=demo_db)).stdout
    assert all(w in fr for w in ("Envoyée le", "Résiliable le", "résiliable", "délai en cours", "2020-12-03"))
    assert ok(invoke("notice", "answer", "1", "--on", "2020-11-16", "--note", "Intrapreneur libéré le lundi.",
                     db=demo_db)).stdout == (
        f"réponse à la mise en demeure n°{NB}1 reçue le 16 novembre 2020, à temps{NB}: le délai est arrêté\n")
    assert ok(invoke("notice", "answer", "2", "--on", "2020-11-13", "--note", "Bilan transmis.", db=demo_db,
                     lang="en")).stdout == (
        "formal notice #2 answered on November 13, 2020, late: the agreement has been terminable since "
        "November 13, 2020\n")
    en = ok(invoke("notice", "list", db=demo_db, lang="en")).stdout  # every programme: its column shown
    assert all(w in en for w in ("Programme", "answered in time", "answered late", "Bilan transmis."))
    assert [r["state"] for r in data(invoke("notice", "list", "--json", db=demo_db))] == ["answered_late", "answered"]


def test_status_flags_a_terminable_agreement_in_french_and_english(demo_db):
    before_json = ok(invoke("status", "--json", db=demo_db)).stdout
    ok(add(demo_db, "Somme", "2020-10-12", now="2020-10-12T10:00"))
    # The last day to answer (12 November), at 23:59 in Paris: no flag; from midnight on, Paris time: flagged.
    assert "convention de" not in ok(invoke("status", db=demo_db, now="2020-11-12T23:59")).stdout
    def flag_then_daemon(lines: list[str], flag: str, daemon: str) -> bool:
        """The flag after the table, just before the daemon's line (a placeholder-address warning may follow)."""
        return flag in lines and lines[lines.index(flag) + 1] == daemon

    lines = ok(invoke("status", db=demo_db, now="2020-11-13T00:00")).stdout.splitlines()
    assert flag_then_daemon(lines, FLAG_FR, f"Dernier passage du démon{NB}: —")
    assert flag_then_daemon(ok(invoke("status", "--programme", PROG, db=demo_db, lang="en")).stdout.splitlines(),
                            FLAG_EN, "Daemon's last tick: —")
    # Its coordinator sees it; the other programme's coordinator, not (nothing of PROG is theirs).
    assert FLAG_FR in ok(invoke("status", db=demo_db, actor="camille.lefebvre@beta.example")).stdout
    assert "convention de" not in ok(invoke("status", db=demo_db, actor="nadia.perrin@beta.example")).stdout
    # JSON: the same list of team rows as before (notices are in `notice list --json`).
    assert ok(invoke("status", "--json", db=demo_db)).stdout == before_json
    # A coach reads their teams' status, not the agreements: no flag, no refusal.
    assert "convention de" not in ok(invoke("status", db=demo_db, actor=JULIEN)).stdout
    ok(invoke("notice", "answer", "1", "--on", "2020-11-16", "--note", "Enfin.", db=demo_db))
    assert "convention de" not in ok(invoke("status", db=demo_db)).stdout


def test_refusals_are_one_line_and_leave_the_store_unchanged(demo_db):
    ok(add(demo_db, "Somme", "2020-11-02", "Bilan non transmis"))
    ok(add(demo_db, "Nord", "2020-11-02", "Bilan non transmis"))
    ok(invoke("notice", "answer", "2", "--on", "2020-11-10", "--note", "Transmis.", db=demo_db))
    before = dump_hash(demo_db)
    refused = [
        (["--on", "2020-11-17"], 1, "the notice date, November 17, 2020, is in the future"),
        (["--on", "2020-06-22"], 1, "takes effect on June 23, 2020: a formal notice cannot precede it"),
        (["--partner", "Bretagne"], 1, "unknown partner 'Bretagne' in programme 'Pré-incubation 2020' "
                                       "(preincub partner add)"),
        (["--programme", "Inconnu"], 1, "unknown programme 'Inconnu' (see 'preincub programme list')"),
        (["--on", "2020-13-01"], 2, "--on"),
        (["--breach", "   "], 1, "the breach is empty"),
        (["--breach", "a\x1b[31mb"], 1, "the breach contains control characters"),
        (["--breach", "x" * 20_001], 1, "the breach is longer than 20,000 characters"),
        (["--breach", "Bilan non transmis"], 1, "this formal notice to 'Somme' on November 2, 2020 is already "
                                                "recorded, as #1"),
    ]
    for change, code, fragment in refused:
        args = {"--programme": PROG, "--partner": "Somme", "--on": "2020-11-02", "--breach": "Bilan non transmis"}
        args.update(dict(zip(change[::2], change[1::2])))
        fails(invoke("notice", "add", *[x for kv in args.items() for x in kv], db=demo_db, lang="en"), code,
              fragment)
    answers = [
        (["99", "--on", "2020-11-10", "--note", "x"], 1, "no formal notice #99 (see 'preincub notice list')"),
        (["2", "--on", "2020-11-12", "--note", "x"], 1, "formal notice #2 was already answered, on November 10, 2020"),
        (["1", "--on", "2020-11-01", "--note", "x"], 1, "the answer (November 1, 2020) cannot precede formal notice #1"),
        (["1", "--on", "2020-11-17", "--note", "x"], 1, "the answer date, November 17, 2020, is in the future"),
        (["1", "--on", "2020-11-10", "--note", ""], 1, "the answer is empty"),
        (["1", "--on", "2020-11-10"], 2, "--note"),
        ([str(2**63), "--on", "2020-11-10", "--note", "x"], 2, "ID"),
        (["0", "--on", "2020-11-10", "--note", "x"], 2, "ID"),
        (["[/]", "--on", "2020-11-10", "--note", "x"], 2, "ID"),
    ]
    for args, code, fragment in answers:
        fails(invoke("notice", "answer", *args, db=demo_db, lang="en"), code, fragment)
    fails(add(demo_db, "Somme", "2020-11-03", actor=JULIEN, lang="en"), 1,
          "you may not record the programmes' funding, expenses, payments and formal notices: "
          "it needs the role coordinator")
    fails(invoke("notice", "answer", "1", "--on", "2020-11-10", "--note", "x", db=demo_db, actor=JULIEN), 1,
          "coordinator")
    fails(invoke("notice", "list", db=demo_db, actor=JULIEN, lang="en"), 1,
          "it needs the role coordinator, committee or partner")
    # The other programme's coordinator: refused, naming the grant of this one.
    fails(add(demo_db, "Somme", "2020-11-03", actor="nadia.perrin@beta.example", lang="en"), 1,
          f"it needs the grant coordinator of '{PROG}'")
    fails(invoke("notice", "list", "--programme", PROG, db=demo_db, actor="nadia.perrin@beta.example", lang="en"), 1,
          f"of '{PROG}'")
    assert dump_hash(demo_db) == before
    # French refusals too.
    fails(invoke("notice", "answer", "99", "--on", "2020-11-10", "--note", "x", db=demo_db), 1,
          f"aucune mise en demeure n°{NB}99 (voir 'preincub notice list')")
    assert dump_hash(demo_db) == before


@pytest.mark.parametrize("text", ["[/] [bold]gras[/bold]", "<script>alert(1)</script>", "a" * 5000])
def test_hostile_text_is_shown_as_typed(demo_db, text):
    ok(add(demo_db, "Oise", "2020-11-02", text))
    assert data(invoke("notice", "list", "--json", db=demo_db))[0]["breach"] == text
    shown = ok(invoke("notice", "list", db=demo_db, env={"COLUMNS": "20000"})).stdout
    assert text in shown


def coordinators(db) -> list[str]:
    """The e-mails of the programme's coordinators a message reaches: granted in PROG (not FAST's), and not
    the placeholder address of the system user who ran the demo (never a recipient)."""
    return sorted(p["email"] for p in data(invoke("person", "list", "--role", "coordinator", "--json", db=db))
                  if any(g["role"] == "coordinator" and g["programme"] == PROG for g in p["grants"])
                  and not p["email"].endswith("@localhost"))


def notice_rows(db) -> list[dict]:
    return [r for r in data(invoke("outbox", "list", "--json", db=db)) if r["kind"] == "notice_terminable"]


@pytest.mark.parametrize("on,eve,midnight,offset", [  # eve: the last day to answer, a minute before midnight
    ("2021-02-27", "2021-03-27T23:59", "2021-03-28T00:01", "+01:00"),  # the spring change's day
    ("2021-03-28", "2021-04-28T23:59", "2021-04-29T00:01", "+02:00"),
    ("2021-09-30", "2021-10-30T23:59", "2021-10-31T00:01", "+02:00"),  # the autumn change's day
    ("2021-10-01", "2021-11-01T23:59", "2021-11-02T00:01", "+01:00"),  # after the autumn change
])
def test_the_reminder_is_previewed_and_sent_once_on_its_paris_day(demo_db, on, eve, midnight, offset):
    ok(add(demo_db, "Somme", on, now=on + "T12:00"))
    day = midnight[:10]
    preview = data(invoke("remind", "preview", "--until", day, "--json", db=demo_db, now=eve))
    planned = [p for p in preview if p["reminder"] == "notice:1:terminable"]
    assert sorted(p["to"] for p in planned if p["to"] is not None) == coordinators(demo_db)  # None: no address
    assert {p["at"] for p in planned} == {f"{day}T00:00:00{offset}"}
    assert {p["subject"] for p in planned} == {
        f"Mise en demeure n°{NB}1 sans réponse{NB}: la convention avec Somme est résiliable"}
    ok(invoke("remind", "run", "--console", db=demo_db, now=eve))
    assert notice_rows(demo_db) == []  # a minute before midnight in Paris: not yet
    printed = ok(invoke("remind", "run", "--console", db=demo_db, now=midnight)).stdout
    assert printed.count(f"Mise en demeure n°{NB}1 sans réponse") == len(coordinators(demo_db))
    # The command the message gives, pasted, lists the notice as terminable.
    (line, *_) = [ln.strip() for ln in printed.splitlines() if ln.startswith("    preincub notice list")]
    listed = data(invoke(*shlex.split(line)[1:], "--json", db=demo_db, now=midnight))
    assert [(n["id"], n["state"], n["terminable_on"]) for n in listed] == [(1, "terminable", day)]
    rows = notice_rows(demo_db)
    assert sorted(r["to"] for r in rows) == coordinators(demo_db)
    assert {(r["status"], r["sent_via"]) for r in rows} == {("sent", "console")}
    assert all(r["key"].startswith("notice:1:terminable:p") for r in rows)
    ok(invoke("remind", "run", "--console", db=demo_db, now=day + "T09:00"))
    assert len(notice_rows(demo_db)) == len(rows)  # the second run enqueues nothing
