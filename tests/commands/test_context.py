"""Global options and their environment variables: --db, --now, --as, --lang (PREINCUB_*); shell completion
scoped to the acting person."""

from __future__ import annotations

from tests.cli_helpers import PROG, TERMINAL, data, dump_hash, fails, invoke, ok

SEL = "Ouvrages d'art"


def _undecided_days(rows):
    return {r["days_left"] for r in rows if r["phase"] not in TERMINAL}


def test_french_is_the_default(demo_ro):
    out = ok(invoke("status", db=demo_ro)).stdout
    for label in ("Équipe", "Collectivité", "Depuis", "Jours restants", "Non sélectionnée", "Appel à projets",
                  "Comité stratégique"):
        assert label in out
    assert "Days left" not in out and "Not selected" not in out


def test_lang_en_labels(demo_ro):
    out = ok(invoke("status", db=demo_ro, lang="en")).stdout
    for label in ("Team", "Partner", "Since", "Days left", "Not selected", "Call for projects",
                  "Proof-of-concept committee", "Incubation decision", "Abandoned", "Incubated"):
        assert label in out
    assert "Équipe" not in out and "Jours restants" not in out and "Non sélectionnée" not in out
    lines = ok(invoke("check", SEL, db=demo_ro, lang="en")).stdout.splitlines()
    assert lines == ["Ouvrages d'art: Selection", "Available: reject (needs --reason), abandon (needs --reason)",
                     "Blocked: select", "  - no agreement from the operator (team agree --party operator)"]
    out = ok(invoke("programme", "show", "Pré-incubation 2020", db=demo_ro, lang="en")).stdout
    assert "Partners: Nord, Oise, Pas-de-Calais, Somme, Val d'Oise" in out and "Min. days/week: 1" in out


def test_lang_en_messages(demo_ro):
    fails(invoke("team", "show", "Nope", db=demo_ro, lang="en"), 1, "unknown team 'Nope' (see 'preincub team list')")
    fails(invoke("programme", "show", "Nope", db=demo_ro, lang="en"), 1, "unknown programme 'Nope'")
    fails(invoke("team", "show", "Nope", db=demo_ro), 1, "équipe inconnue 'Nope' (voir 'preincub team list')")


def test_preincub_lang_env(demo_ro):
    r = ok(invoke("status", db=demo_ro, env={"PREINCUB_LANG": "en"}))
    assert "Days left" in r.stdout and "Jours restants" not in r.stdout
    fails(invoke("history", "Nope", db=demo_ro, env={"PREINCUB_LANG": "en"}), 1, "unknown team")
    # The option wins over the variable.
    r = ok(invoke("status", db=demo_ro, lang="fr", env={"PREINCUB_LANG": "en"}))
    assert "Jours restants" in r.stdout
    fails(invoke("status", db=demo_ro, env={"PREINCUB_LANG": "de"}), 2, "--lang")
    fails(invoke("status", db=demo_ro, lang="de"), 2, "'de' n'est pas l'une des valeurs 'fr', 'en'")


def test_preincub_db_env(demo_db, tmp_path):
    rows = data(invoke("status", "--json", env={"PREINCUB_DB": str(demo_db)}))
    assert len(rows) == 10
    ok(invoke("advance", SEL, "reject", "--reason", "Doublon.", env={"PREINCUB_DB": str(demo_db)}))
    t = data(invoke("team", "show", SEL, "--json", db=demo_db))
    assert t["phase"] == "not_selected"
    # --db wins over the variable; a missing file named by the variable is not created.
    absent = tmp_path / "absent.db"
    assert len(data(invoke("status", "--json", db=demo_db, env={"PREINCUB_DB": str(absent)}))) == 10
    fails(invoke("status", env={"PREINCUB_DB": str(absent)}), 1, "preincub init")
    assert not absent.exists()


def test_preincub_now_env(demo_ro):
    rows = data(invoke("status", "--json", db=demo_ro, now=None, env={"PREINCUB_NOW": "2020-12-20"}))
    assert _undecided_days(rows) == {3}
    rows = data(invoke("status", "--json", db=demo_ro, now="2020-12-01", env={"PREINCUB_NOW": "2020-12-20"}))
    assert _undecided_days(rows) == {22}
    fails(invoke("status", db=demo_ro, now=None, env={"PREINCUB_NOW": "bientôt"}), 2, "--now", "bientôt")


def test_now_is_europe_paris(demo_ro):
    # 22 December 23:30 UTC is already 23 December in Paris: the deadline day.
    rows = data(invoke("status", "--json", db=demo_ro, now="2020-12-22T23:30:00Z"))
    assert _undecided_days(rows) == {0}
    rows = data(invoke("status", "--json", db=demo_ro, now="2020-12-22T23:30"))
    assert _undecided_days(rows) == {1}


def test_now_is_recorded_on_events(demo_db):
    ok(invoke("advance", SEL, "abandon", "--reason", "x", db=demo_db, now="2020-11-16T14:05"))
    last = data(invoke("history", SEL, "--json", db=demo_db))[-1]
    assert last["at"] == "2020-11-16T14:05:00+01:00"
    t = data(invoke("team", "show", SEL, "--json", db=demo_db))
    assert t["phase_since"] == "2020-11-16T14:05:00+01:00"


def test_as_option_and_env(demo_db):
    for name, email in (("Directrice", "directrice@example.org"), ("Pilote", "pilote@example.org")):
        ok(invoke("person", "add", name, "--email", email, "--role", "coordinator", "--programme", PROG, db=demo_db))
    ok(invoke("team", "agree", SEL, "--party", "operator", db=demo_db, actor="Directrice@Example.org"))
    last = data(invoke("history", SEL, "--json", db=demo_db))[-1]
    assert (last["actor"], last["data"]) == ("directrice@example.org", {"party": "operator"})
    ok(invoke("advance", SEL, "select", db=demo_db, env={"PREINCUB_USER": "pilote@example.org"}))
    last = data(invoke("history", SEL, "--json", db=demo_db))[-1]
    assert (last["actor"], last["trigger"]) == ("pilote@example.org", "select")


def test_no_setting_leaks_between_invocations(demo_ro):
    before = dump_hash(demo_ro)
    ok(invoke("status", db=demo_ro, lang="en"))
    assert "Jours restants" in ok(invoke("status", db=demo_ro)).stdout
    fails(invoke("team", "show", "Nope", db=demo_ro), 1, "équipe inconnue")
    assert dump_hash(demo_ro) == before


def test_a_bad_setting_breaks_only_the_commands_that_use_it(demo_ro):
    """Settings are read by section when first used: a bad delivery timeout does not stop `history`."""
    env = {"PREINCUB_SMTP_TIMEOUT": "abc"}
    ok(invoke("history", SEL, db=demo_ro, env=env))
    ok(invoke("status", db=demo_ro, env=env))
    fails(invoke("remind", "run", db=demo_ro, env=env, lang="en"), 1, "PREINCUB_SMTP_TIMEOUT='abc' is not a number")
    env = {"PREINCUB_HOURS_PER_DAY": "99"}
    ok(invoke("history", SEL, db=demo_ro, env=env))
    fails(invoke("team", "show", "Insertion RSA", db=demo_ro, env=env), 1, "PREINCUB_HOURS_PER_DAY='99' doit être entre 1 et 12")


def _complete(words: str) -> list[str]:
    """What the shell's completion offers for the last of ``words`` (bash)."""
    import cli
    from click.testing import CliRunner

    parts = words.split(" ")
    r = CliRunner().invoke(cli.app, [], env={"_PREINCUB_COMPLETE": "bash_complete", "COMP_WORDS": words,
                                             "COMP_CWORD": str(len(parts) - 1)}, prog_name="preincub")
    return [line.split(",", 1)[1] for line in r.stdout.splitlines() if line]


def test_completion_offers_only_what_the_acting_person_may_read(demo_ro):
    fast, prog = "FAST Trait d'union 2019", "Pré-incubation 2020"
    nadia = f"preincub --db {demo_ro} --as nadia.perrin@beta.example"
    camille = f"preincub --db {demo_ro} --as camille.lefebvre@beta.example"
    assert _complete(f"{nadia} status --programme ''") == [fast]
    assert _complete(f"{camille} status --programme ''") == [prog]
    assert _complete(f"{nadia} team show ''") == ["Trait d'union"]
    assert "Trait d'union" not in _complete(f"{camille} team show ''")
    assert _complete(f"{nadia} person show m") == ["marc.weber@grandest.example"]
    assert _complete(f"{camille} person show m") == ["manon.fontaine@somme.example", "mathieu.lefevre@oise.example"]
    assert _complete(f"{nadia} person grant ''")[:1] == ["claire.muller@grandest.example"]
    # the administrator completes every programme (to grant its coordinators), not teams it does not read
    admin = f"preincub --db {demo_ro}"
    assert _complete(f"{admin} person grant x@x.example coordinator --programme ''") == [fast, prog]
