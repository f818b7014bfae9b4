"""Every sentence of the store, directory, team and check-in commands comes from the catalog: French by
default (no --lang), English with --lang en; one case per command, on a real SQLite store."""

from __future__ import annotations

import pytest
from tests.cli_helpers import PROG, invoke, ok

NBSP = "\u00a0"
JULIEN = "julien.moreau@beta.example"  # coaches Insertion RSA
SARAH = "sarah.benali@beta.example"    # coaches Dossiers MDPH


def _s(lang: str) -> str:
    """A suffix that keeps the French and the English run apart on one store."""
    return lang.upper()


# (id, store, arguments for a language, actor, French fragments, English fragments)
CASES = [
    ("init", "empty", lambda L: ["init"], None,
     [f"stockage prêt{NBSP}: ", "(schéma "], ["store ready: ", "(schema "]),
    ("demo", "demo", lambda L: ["demo"], None,
     [f"programme de démo {PROG!r} déjà présent dans", "Jours restants", "Comité stratégique"],
     [f"demo programme {PROG!r} already there in", "Days left", "Proof-of-concept committee"]),
    ("programme add", "demo", lambda L: ["programme", "add", f"P{_s(L)}", "--signed-on", "2020-06-23"], None,
     [f"programme 'PFR' ajouté{NBSP}; échéance le 23 décembre 2020"],
     ["programme 'PEN' added; deadline December 23, 2020"]),
    ("programme list", "demo", lambda L: ["programme", "list"], None,
     ["Prise d'effet", "Échéance", "Jours restants", "Équipes"], ["Takes effect", "Deadline", "Days left", "Teams"]),
    ("programme show", "demo", lambda L: ["programme", "show", PROG], None,
     [f"Collectivités{NBSP}: Nord, Oise", f"Jours/semaine min.{NBSP}: 1", f"  Comité stratégique{NBSP}: 1"],
     ["Partners: Nord, Oise", "Min. days/week: 1", "  Proof-of-concept committee: 1"]),
    ("partner add", "demo", lambda L: ["partner", "add", f"Aisne{_s(L)}", "--programme", PROG], None,
     [f"collectivité 'AisneFR' ajoutée à {PROG!r}"], [f"partner 'AisneEN' added to {PROG!r}"]),
    ("person add", "demo",
     lambda L: ["person", "add", f"Zoé {_s(L)}", "--email", f"zoe.{L}@x.example", "--role", "coach"], None,
     [f"personne ajoutée{NBSP}: Zoé FR <zoe.fr@x.example>, comme coach"], ["Zoé EN <zoe.en@x.example> added as coach"]),
    ("person edit", "demo",
     lambda L: ["person", "edit", SARAH, "--add-role", "committee", "--programme", PROG, "--lang", L], None,
     [f"fiche mise à jour{NBSP}: Sarah Benali <{SARAH}>, rôles coach, membre du comité ({PROG}){NBSP}; rappels par email, "
      "en fr"],
     [f"updated: roles coach, committee member ({PROG}); reminders by email, in en"]),
    ("person grant", "demo",
     lambda L: ["person", "grant", JULIEN if L == "fr" else SARAH, "committee", "--programme", PROG], None,
     [f"Julien Moreau <{JULIEN}>"], [f"Sarah Benali <{SARAH}> now holds coach, committee member ({PROG})"]),
    ("person revoke", "demo",
     lambda L: ["person", "revoke", "root@localhost" if L == "fr" else JULIEN, "coordinator" if L == "fr" else "committee",
                "--programme", PROG], None,
     ["root <root@localhost> détient désormais administrateur"], [f"Julien Moreau <{JULIEN}> now holds coach"]),
    ("person show", "demo", lambda L: ["person", "show", JULIEN], None,
     [f"Nom{NBSP}: Julien Moreau", f"Rappels{NBSP}: email (fr)"],
     ["Name: Julien Moreau", "Team roles: coach", "Grants: —", "Reminders: email (fr)"]),
    ("person list", "demo", lambda L: ["person", "list", "--role", "coach"], None,
     ["Nom", "Rôles", "Rappels"], ["Name", "Roles", "Reminders"]),
    ("team add", "demo", lambda L: ["team", "add", f"T{_s(L)}", "--programme", PROG, "--partner", "Nord"], None,
     ["équipe 'TFR' ajoutée (Appel à projets)"], ["team 'TEN' added (Call for projects)"]),
    ("team edit", "demo", lambda L: ["team", "edit", "Ouvrages d'art", "--problem", f"Ponts {L}"], None,
     ["équipe \"Ouvrages d'art\" mise à jour"], ["team \"Ouvrages d'art\" updated"]),
    ("team assess", "demo",
     lambda L: ["team", "assess", "Ouvrages d'art", "--real", "oui", "--major", "yes", "--actionable", "no"], None,
     ["équipe \"Ouvrages d'art\" évaluée"], ["team \"Ouvrages d'art\" assessed"]),
    ("team agree", "demo",
     lambda L: ["team", "agree", *(("Ouvrages d'art", "--party", "operator") if L == "fr"
                                   else ("Covoiturage des agents", "--party", "partner"))], None,
     ["accord de l'opérateur enregistré pour \"Ouvrages d'art\""],
     ["agreement of the partner body recorded for 'Covoiturage des agents'"]),
    ("team poc", "demo", lambda L: ["team", "poc", "Insertion RSA", "--summary", f"Prototype {L}"], None,
     ["preuve de concept enregistrée pour 'Insertion RSA'"], ["proof of concept recorded for 'Insertion RSA'"]),
    ("team committee", "demo", lambda L: ["team", "committee", "Insertion RSA", "--on", "2020-12-01"], None,
     ["comité enregistré pour 'Insertion RSA'"], ["committee recorded for 'Insertion RSA'"]),
    ("team list", "demo", lambda L: ["team", "list"], None,
     ["Équipe", "Collectivité", "Dernier point", "Non sélectionnée"],
     ["Team", "Partner", "Last check-in", "Not selected"]),
    ("team show", "demo", lambda L: ["team", "show", "Insertion RSA"], None,
     [f"réel{NBSP}: oui, majeur{NBSP}: oui, actionnable{NBSP}: oui", "23 décembre 2020 (37)", "depuis 2020-07-06",
      "l'opérateur, la collectivité", "18/19 tenus, dernier point 2020-11-12",
      f"{NBSP}; semaines sans point{NBSP}: 2020-W33", "1 j/sem.", "7 h/semaine"],
     ["real: yes, major: yes, actionable: yes", "December 23, 2020 (37)", "since 2020-07-06",
      "the operator, the partner body", "18/19 held, last check-in 2020-11-12",
      "; weeks without check-in: 2020-W33", "1 d/week", "7 h/week"]),
    ("checkin log", "demo", lambda L: ["checkin", "log", "Insertion RSA", "--notes", L, "--hours", "2.5"], JULIEN,
     ["point n°\u00a095 enregistré pour 'Insertion RSA', semaine 2020-W47"],
     ["logged for 'Insertion RSA', week 2020-W47"]),
    ("checkin edit", "demo", lambda L: ["checkin", "edit", "95", "--hours", "3"], JULIEN,
     ["point n°\u00a095 corrigé"], ["check-in #95 corrected"]),
    ("checkin list", "demo", lambda L: ["checkin", "list", "--team", "Dossiers MDPH", "--since", "2020-11-01"], SARAH,
     ["Moral", "Heures", f"manqué{NBSP}: Coach en congés", "2,5"], ["Mood", "Hours", "missed: Coach en congés", "2.5"]),
    ("checkin gaps", "demo", lambda L: ["checkin", "gaps"], None,
     ["Points hebdo.", "Semaines sans point", "Dernier point"],
     ["Weekly check-ins", "Weeks without check-in", "Last check-in"]),
]


@pytest.mark.parametrize(("args", "store", "actor", "fr", "en"),
                         [pytest.param(a, s, who, fr, en, id=name) for name, s, a, who, fr, en in CASES])
def test_each_command_speaks_french_by_default_and_english_with_lang_en(args, store, actor, fr, en, demo_db, tmp_path):
    db = demo_db if store == "demo" else tmp_path / "empty.db"
    if args("fr")[:2] == ["checkin", "edit"]:
        ok(invoke("checkin", "log", "Insertion RSA", "--notes", "x", db=db, actor=actor))
    if args("fr")[:2] == ["person", "revoke"]:  # the English run takes away a grant given here
        ok(invoke("person", "grant", JULIEN, "committee", "--programme", PROG, db=db))
    if args("fr")[:2] == ["checkin", "list"]:  # a missed week and an hour count with a decimal
        ok(invoke("checkin", "log", "Dossiers MDPH", "--on", "2020-11-12", "--missed", "--reason", "Coach en congés",
                  db=db, actor=SARAH))
        ok(invoke("checkin", "log", "Dossiers MDPH", "--notes", "Point", "--hours", "2.5", db=db, actor=SARAH))
    french = ok(invoke(*args("fr"), db=db, actor=actor)).stdout
    for fragment in fr:
        assert fragment in french, f"{fragment!r} not in:\n{french}"
    english = ok(invoke(*args("en"), db=db, actor=actor, lang="en")).stdout
    for fragment in en:
        assert fragment in english, f"{fragment!r} not in:\n{english}"
    for fragment in fr:  # and nothing of the French is left in the English
        if fragment not in en:
            assert fragment not in english, f"{fragment!r} left in the English:\n{english}"


def test_demo_says_its_own_day_in_the_language(tmp_path):
    db = tmp_path / "fresh.db"
    french = ok(invoke("demo", db=db, now=None)).stdout
    assert french.startswith(f"programme de démo {PROG!r} créé dans {db}")
    assert f"(au 16 novembre 2020{NBSP}; ajoutez --now 2020-11-16 aux commandes suivantes" in french
    english = ok(invoke("demo", db=db, now=None, lang="en")).stdout
    assert "(as of November 16, 2020; add --now 2020-11-16 to the next commands" in english


def test_an_invalid_date_is_refused_in_the_language(demo_ro):
    r = invoke("checkin", "list", "--since", "2020-13-45", db=demo_ro)
    assert r.exit_code == 2 and "n'est pas une date" in r.stderr, r.stderr
    r = invoke("checkin", "list", "--since", "2020-13-45", db=demo_ro, lang="en")
    assert r.exit_code == 2 and "is not a date; use YYYY-MM-DD" in r.stderr, r.stderr


def test_the_list_of_commands_keeps_french_no_break_spaces():
    """click makes each command's line by splitting its help on whitespace, a no-break space included:
    "Points hebdomadaires : ..." lost the space French puts before ":"."""
    out = ok(invoke("--help")).stdout
    lines = [line for line in out.splitlines() if line.startswith("  ") and ":" in line]
    assert lines and all(" :" not in line and " ;" not in line for line in lines), lines
    assert any("\u00a0:" in line for line in lines)
    assert not any(line.rstrip().endswith("...") for line in lines), lines  # each summary fits: none is cut


@pytest.mark.parametrize("lang,mark,other", [("fr", "[requis]", "[required]"), (None, "[requis]", "[required]"),
                                             ("en", "[required]", "[requis]")])
def test_a_required_option_says_so_in_the_language(lang, mark, other):
    """click translates "required" from a variable: the catalog holds it all the same
    (tools.catalog.CLICK_AT_RUNTIME)."""
    out = ok(invoke("person", "add", "--help", lang=lang)).stdout
    assert mark in out and other not in out
