"""Bad input: one clear line on stderr, the right exit code, no traceback, and the store unchanged."""

from __future__ import annotations

import sqlite3
import unicodedata

import pytest
from tests.cli_helpers import PROG, data, dump_hash, fails, foreign_sqlite, invoke, ok

T = "Insertion RSA"          # in investigation
SEL = "Ouvrages d'art"       # in selection
CFP = "Covoiturage des agents"  # in call for projects, Oise
DONE = "Informations préoccupantes"  # incubated

USAGE = [  # exit 2: wrong usage
    (["status", "--bogus"], "--bogus"),
    (["team", "show"], "Argument manquant 'NOM'"),
    (["advance", T], "Argument manquant 'TRIGGER'"),
    (["frobnicate"], "Commande inconnue 'frobnicate'"),
    (["programme", "add", "X"], "--signed-on"),
    (["programme", "add", "X", "--signed-on", "2020-02-30"], "'2020-02-30' n'est pas une date"),
    (["programme", "add", "X", "--signed-on", "23/06/2020"], "--signed-on"),
    (["programme", "add", "X", "--signed-on", "2020-06-23", "--capacity", "lots"], "--capacity"),
    (["programme", "add", "X", "--signed-on", "2020-06-23", "--kind", "seed"], "--kind"),
    (["team", "committee", T, "--on", "2020-99-01"], "--on"),
    (["programme", "add", "X", "--signed-on", "1900-01-01"],
     "est hors limites\u00a0: utilisez une date entre 2000 et 2100"),
    (["remind", "preview", "--until", "9999-12-31"], "hors limites"),
    (["checkin", "list", "--week", "2020-W99"], "--week"),
    (["team", "list", "--phase", "nowhere"], "--phase"),
    (["team", "assess", SEL, "--real", "peut-être", "--major", "yes", "--actionable", "yes"], "--real"),
    (["team", "agree", SEL, "--party", "mayor"], "--party"),
    (["person", "add", "X", "--email", "x@example.org", "--role", "boss"], "--role"),
    (["person", "add", "X", "--email", "x@example.org"], "--role"),
    (["person", "grant", "julien.moreau@beta.example", "coach", "--programme", PROG], "coach"),  # a team role
    (["person", "revoke", "julien.moreau@beta.example"],  # click's list of choices, on the one line
     f"Argument manquant 'RÔLE'. Choisissez parmi\u00a0: admin, coordinator, committee, partner"),
    (["team", "edit", CFP, "--days-per-week", "beaucoup"], "--days-per-week"),
    (["diagram", "--format", "png"], "--format"),
]

INVALID = [  # exit 1: not found, duplicate, invalid data, refused by a rule
    # unknown programme / team / person / partner
    (["programme", "show", "Nope"], "programme inconnu 'Nope'"),
    (["status", "--programme", "Nope"], "programme inconnu 'Nope'"),
    (["team", "add", "Nouvelle", "--programme", "Nope", "--partner", "Nord"], "programme inconnu 'Nope'"),
    (["partner", "add", "Landes", "--programme", "Nope"], "programme inconnu 'Nope'"),
    (["team", "show", "Nope"], "équipe inconnue 'Nope'"),
    (["check", "Nope"], "équipe inconnue 'Nope'"),
    (["history", "Nope"], "équipe inconnue 'Nope'"),
    (["advance", "Nope", "submit"], "équipe inconnue 'Nope'"),
    (["team", "edit", "Nope", "--problem", "x"], "équipe inconnue 'Nope'"),
    (["team", "assess", "Nope", "--real", "yes", "--major", "yes", "--actionable", "yes"], "équipe inconnue"),
    (["team", "agree", "Nope", "--party", "partner"], "équipe inconnue 'Nope'"),
    (["team", "poc", "Nope", "--summary", "s"], "équipe inconnue 'Nope'"),
    (["team", "committee", "Nope", "--on", "2020-12-01"], "équipe inconnue 'Nope'"),
    (["team", "edit", CFP, "--intrapreneur", "nobody@example.org"], "personne inconnue nobody@example.org"),
    (["team", "edit", CFP, "--coach", "nobody@example.org"], "personne inconnue nobody@example.org"),
    (["team", "edit", CFP, "--coach", "karim.saidi@oise.example"], "n'a pas le rôle coach"),
    (["team", "add", "Nouvelle", "--programme", PROG, "--partner", "Atlantis"], "collectivité inconnue 'Atlantis'"),
    (["team", "edit", CFP, "--partner", "Atlantis"], "collectivité inconnue 'Atlantis'"),
    # duplicates
    (["programme", "add", PROG, "--signed-on", "2020-06-23"], "un programme nommé 'Pré-incubation 2020' existe déjà"),
    (["programme", "add", f"  {PROG} ", "--signed-on", "2020-06-23"], "existe déjà"),
    (["team", "add", T, "--programme", PROG, "--partner", "Nord"], "une équipe nommée 'Insertion RSA' existe déjà"),
    (["team", "edit", CFP, "--rename", T], "une équipe nommée 'Insertion RSA' existe déjà"),
    (["person", "add", "Autre", "--email", "julien.moreau@beta.example", "--role", "coach"],
     "une personne avec l'e-mail julien.moreau@beta.example existe déjà"),
    (["person", "add", "Autre", "--email", "Julien.Moreau@BETA.example", "--role", "coach"], "existe déjà"),
    (["partner", "add", "Nord", "--programme", PROG], "'Nord' est déjà partenaire"),
    (["team", "agree", SEL, "--party", "partner"], "a déjà donné son accord"),
    # malformed e-mails, names, texts, links
    (["person", "add", "X", "--email", "pas-une-adresse", "--role", "coach"], "n'est pas une adresse e-mail"),
    (["person", "add", "X", "--email", "x@localhost", "--role", "coach"], "n'est pas une adresse e-mail"),
    (["person", "add", "X", "--email", "a b@example.org", "--role", "coach"], "n'est pas une adresse e-mail"),
    (["team", "edit", CFP, "--coach", "pas-une-adresse"], "n'est pas une adresse e-mail"),
    (["person", "add", "   ", "--email", "x@example.org", "--role", "coach"], "est vide"),
    (["team", "add", "a\nb", "--programme", PROG, "--partner", "Nord"], "caractères de contrôle"),
    (["team", "add", "x" * 201, "--programme", PROG, "--partner", "Nord"], "dépasse 200 caractères"),
    (["team", "poc", T, "--summary", "s", "--link", "pas-un-lien"], "n'est pas un lien web"),
    (["team", "poc", T, "--summary", "  "], "est vide"),
    # absurd numbers
    (["programme", "add", "X", "--signed-on", "2020-06-23", "--capacity", "0"],
     "la capacité doit être entre 1 et 1\u202f000, reçu 0"),
    (["programme", "add", "X", "--signed-on", "2020-06-23", "--capacity", "-1"],
     "la capacité doit être entre 1 et 1\u202f000, reçu -1"),
    (["programme", "add", "X", "--signed-on", "2020-06-23", "--capacity", "100000"], "reçu 100\u202f000"),
    (["programme", "add", "X", "--signed-on", "2020-06-23", "--months", "0"], "le nombre de mois doit être entre 1 et 24"),
    (["programme", "add", "X", "--signed-on", "2020-06-23", "--min-days-per-week", "9"],
     "le minimum de jours par semaine doit être entre 0,5 et 5, reçu 9"),
    (["team", "add", "Nouvelle", "--programme", PROG, "--partner", "Nord", "--intrapreneur",
      "karim.saidi@oise.example", "--days-per-week", "0"],
     "le nombre de jours par semaine doit être entre 0,5 et 5, reçu 0"),
    (["team", "add", "Nouvelle", "--programme", PROG, "--partner", "Nord", "--intrapreneur",
      "karim.saidi@oise.example", "--days-per-week", "9"],
     "le nombre de jours par semaine doit être entre 0,5 et 5, reçu 9"),
    (["team", "edit", CFP, "--days-per-week", "-1"], "nombre de jours par semaine doit être entre 0,5 et 5, reçu -1"),
    (["team", "edit", CFP, "--days-per-week", "0"], "nombre de jours par semaine doit être entre 0,5 et 5, reçu 0"),
    # not in this phase, nothing to do
    (["advance", T, "incubate", "--reason", "x"], "possibles\u00a0: present, abandon"),
    (["advance", T, "frobnicate"], "possibles\u00a0: present, abandon"),
    (["advance", T, "incubate", "--reason", "x", "--force"], "possibles\u00a0: present, abandon"),
    (["advance", DONE, "abandon", "--reason", "x"], "'abandon' impossible"),
    (["team", "assess", T, "--real", "yes", "--major", "yes", "--actionable", "yes"], "impossible"),
    (["team", "poc", SEL, "--summary", "s"], "impossible"),
    (["team", "committee", T, "--opinion", "Bien."], "l'avis du comité vient après la présentation"),
    (["team", "committee", T], "donnez la date du comité, son avis, ou les deux"),
    (["team", "edit", T], "rien à modifier"),
    (["team", "edit", DONE, "--problem", "x"], "impossible"),
    (["advance", T, "present"], "aucune preuve de concept enregistrée"),
    (["advance", SEL, "select", "--force"], "forcer un passage demande une raison"),
    (["advance", SEL, "reject", "--reason", " "], "est vide"),
]


def _id(case):
    return " ".join(case[0])[:60]


@pytest.mark.parametrize("args, fragment", USAGE, ids=[_id(c) for c in USAGE])
def test_wrong_usage_exits_2(demo_db, args, fragment):
    before = dump_hash(demo_db)
    fails(invoke(*args, db=demo_db), 2, fragment)
    assert dump_hash(demo_db) == before


def test_click_speaks_french_by_default_and_english_with_lang_en(demo_ro):
    """click's own sentences come from the same catalog as preincub's (notifications/locale)."""
    fails(invoke("team", "show", db=demo_ro), 2, "Argument manquant 'NOM'", "(voir 'app team show --help')")
    fails(invoke("team", "show", db=demo_ro, lang="en"), 2, "Missing argument 'NAME'", "(see 'app team show --help')")
    fails(invoke("status", "--bogus", db=demo_ro), 2, "Option inconnue '--bogus'")
    fails(invoke("status", "--bogus", db=demo_ro, env={"PREINCUB_LANG": "en"}), 2, "No such option '--bogus'")
    fails(invoke("team", "list", "--phase", "x", db=demo_ro), 2, "Valeur invalide pour '--phase'\u00a0:")
    # (The help pages, in both languages, run as real processes: tests/scenarios/test_installed_command.py.)
    # `person add --lang` is that person's language, not the command line's.
    fails(invoke("person", "add", "X", "--email", "x@example.org", "--role", "nope", "--lang", "en", db=demo_ro), 2,
          "Valeur invalide pour '--role'")


@pytest.mark.parametrize("args, fragment", INVALID, ids=[_id(c) for c in INVALID])
def test_bad_input_exits_1_and_changes_nothing(demo_db, args, fragment):
    status = data(invoke("status", "--json", db=demo_db))
    history = data(invoke("history", T, "--json", db=demo_db))
    before = dump_hash(demo_db)
    fails(invoke(*args, db=demo_db), 1, fragment)
    assert dump_hash(demo_db) == before
    assert data(invoke("status", "--json", db=demo_db)) == status
    assert data(invoke("history", T, "--json", db=demo_db)) == history


@pytest.mark.parametrize("now", ["2020-13-45", "demain", "16/11/2020", "2020-11-16T25:00"])
def test_malformed_now_exits_2(demo_db, now):
    before = dump_hash(demo_db)
    fails(invoke("status", db=demo_db, now=now), 2, "--now", now)
    fails(invoke("advance", SEL, "reject", "--reason", "x", db=demo_db, now=now), 2, "--now")
    assert dump_hash(demo_db) == before


def test_malformed_as_exits_1_even_for_a_write(demo_db):
    before = dump_hash(demo_db)
    fails(invoke("advance", SEL, "reject", "--reason", "x", db=demo_db, actor="pas-une-adresse"), 1,
          "'pas-une-adresse' n'est pas une adresse e-mail")
    fails(invoke("status", db=demo_db, actor="a@b"), 1, "n'est pas une adresse e-mail")
    fails(invoke("status", db=demo_db, env={"PREINCUB_USER": "nobody"}), 1, "'nobody'")
    assert dump_hash(demo_db) == before


def test_wrong_phase_lists_valid_triggers_in_english(demo_db):
    line = fails(invoke("advance", T, "frobnicate", db=demo_db, lang="en"), 1)
    assert "trigger 'frobnicate' is not possible for" in line and "possible: present, abandon" in line
    line = fails(invoke("advance", SEL, "hear", db=demo_db, lang="en"), 1)
    assert "'hear' is not possible for" in line and "possible: select, reject, abandon" in line
    assert "unknown" not in line


def test_a_refusal_names_every_unmet_condition_on_one_line(demo_db):
    line = fails(invoke("advance", CFP, "submit", db=demo_db, lang="en"), 1,
                 "submit refused for 'Covoiturage des agents'", "no problem statement")
    ok(invoke("team", "edit", CFP, "--coach", "julien.moreau@beta.example", "--problem", "Un problème.", db=demo_db))
    ok(invoke("advance", CFP, "submit", db=demo_db))
    before = dump_hash(demo_db)
    line = fails(invoke("advance", CFP, "select", db=demo_db, lang="en"), 1)
    # Six unmet conditions: as many as fit in one readable line, then where to read them all.
    assert len(line) <= 300
    assert ("criterion “real” not assessed; criterion “major” not assessed; criterion “actionable” not assessed "
            "(team assess)") in line
    assert line.endswith("more: preincub check 'Covoiturage des agents'")
    assert "no coach" not in line
    listed = ok(invoke("check", CFP, db=demo_db, lang="en")).stdout
    for reason in ("criterion “real” not assessed", "criterion “major” not assessed",
                   "criterion “actionable” not assessed", "no agreement from the partner body",
                   "no agreement from the operator", "intrapreneur time commitment not recorded"):
        assert reason in listed
    assert dump_hash(demo_db) == before


# ---- the store itself ----------------------------------------------------------------------------

READS = [["status"], ["team", "list"], ["programme", "list"], ["person", "list"], ["history", T], ["check", T],
         ["team", "show", T]]


@pytest.mark.parametrize("args", READS + [["programme", "add", "X", "--signed-on", "2020-06-23"]],
                         ids=lambda a: " ".join(a))
def test_missing_store_says_run_init_and_creates_nothing(tmp_path, args):
    db = tmp_path / "absent.db"
    fails(invoke(*args, db=db), 1, "aucune base à", str(db), "preincub init")
    fails(invoke(*args, db=db, lang="en"), 1, "no store at", "preincub init")  # the CLI's hint, by code
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content", [b"\x00\xffgarbage" * 500, "ceci n'est pas une base\n".encode()],
                         ids=["binary", "text"])
@pytest.mark.parametrize("args", [["status"], ["init"], ["demo"], ["history", T]], ids=lambda a: a[0])
def test_a_file_that_is_not_a_database(tmp_path, content, args):
    db = tmp_path / "garbage.db"
    db.write_bytes(content)
    fails(invoke(*args, db=db), 1, "n'est pas une base preincub")
    fails(invoke(*args, db=db, lang="en"), 1, "is not a preincub store")
    assert db.read_bytes() == content


def test_a_foreign_sqlite_database(tmp_path):
    db = foreign_sqlite(tmp_path / "foreign.db")
    before = dump_hash(db)
    fails(invoke("status", db=db, lang="en"), 1, "tables that are not preincub's")
    fails(invoke("init", db=db), 1, "tables étrangères à preincub")
    fails(invoke("demo", db=db), 1, "tables étrangères à preincub")
    assert dump_hash(db) == before


def test_a_directory_as_db(tmp_path):
    fails(invoke("status", db=tmp_path), 1, "est un dossier")


@pytest.mark.parametrize("args", [["status"], ["init"], ["demo"], ["advance", SEL, "reject", "--reason", "x"]],
                         ids=lambda a: a[0])
def test_a_store_from_a_newer_version_is_refused(demo_db, args):
    con = sqlite3.connect(demo_db)
    con.execute("UPDATE alembic_version SET version_num='9999'")
    con.commit()
    con.close()
    before = dump_hash(demo_db)
    fails(invoke(*args, db=demo_db, lang="en"), 1, "newer", "9999")
    fails(invoke(*args, db=demo_db), 1, "plus récente", "9999")
    assert dump_hash(demo_db) == before


# ---- bugs found and fixed ----------------------------------------------------------------------------------

def test_names_typed_in_nfd_are_found(demo_ro):
    nfd = unicodedata.normalize("NFD", DONE)
    assert nfd != DONE
    assert data(invoke("team", "show", nfd, "--json", db=demo_ro))["name"] == DONE


def test_french_message_from_a_final_phase_is_french(demo_ro):
    line = fails(invoke("advance", DONE, "abandon", "--reason", "x", db=demo_ro), 1, "impossible")
    assert "none" not in line


FAST = "FAST Trait d'union 2019"
GRANT_HINTS = [  # the grant commands' errors name what to run next (English until the catalog has them)
    (["revoke", "root@localhost", "admin"], "(grant it to someone else first: preincub person grant EMAIL admin)"),
    (["revoke", "nadia.perrin@beta.example", "coordinator", "--programme", FAST],
     f"(grant it to someone else first: preincub person grant EMAIL coordinator --programme \"{FAST}\")"),
    (["grant", "helene.dubois@beta.example", "committee"], "(see 'preincub programme list')"),
    (["grant", "helene.dubois@beta.example", "partner", "--programme", FAST],
     "(see the partners in 'preincub programme show PROGRAMME')"),
    (["revoke", "helene.dubois@beta.example", "committee", "--programme", FAST],
     "(see 'preincub person show helene.dubois@beta.example')"),
    (["grant", "helene.dubois@beta.example", "committee", "--programme", PROG],
     "(see 'preincub person show helene.dubois@beta.example')"),
    (["add", "X", "--email", "x@example.org", "--role", "coach", "--role", "committee"],
     "(see 'preincub programme list')"),
]


@pytest.mark.parametrize("args, hint", GRANT_HINTS, ids=[_id(c) for c in GRANT_HINTS])
def test_grant_errors_name_what_to_run_next(demo_db, args, hint):
    before = dump_hash(demo_db)
    line = fails(invoke("person", *args, db=demo_db, lang="en"), 1)
    assert line.endswith(hint)
    assert dump_hash(demo_db) == before
