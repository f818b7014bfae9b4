"""The workflow, reminder and daemon commands speak French by default and English with --lang en:
every sentence they print comes from the one catalog (one case per command, on a real SQLite store)."""

from __future__ import annotations

import shutil

import pytest
from tests.cli_helpers import data, invoke

NB = "\u00a0"
WIDE = {"COLUMNS": "220"}  # tables wide enough that no header is cut
TICK = "2020-11-30T10:00"  # a Monday: weekly reminders are due, and e-mail is not configured here


def _pending_id(db) -> str:
    """A message left waiting for e-mail (not configured here)."""
    invoke("remind", "run", db=db, now=TICK)
    return str(data(invoke("outbox", "list", "--status", "pending", "--json", db=db))[0]["id"])


def _remind_run(db) -> None:
    invoke("remind", "run", db=db, now=TICK)


# id: (args, setup run on the store first (its result fills "{x}" in args and fragments), expected exit code,
#      fragments of French stdout+stderr (no --lang), fragments of English stdout+stderr (--lang en))
CASES = {
    "advance": (["advance", "Ouvrages d'art", "abandon", "--reason", "Plus de porteur."], None, 0,
                [f"Ouvrages d'art{NB}: Sélection → Abandonnée"], ["Ouvrages d'art: Selection → Abandoned"]),
    "advance --force": (["advance", "Ouvrages d'art", "select", "--force", "--reason", "Comité."], None, 0,
                        [f"Ouvrages d'art{NB}: Sélection → Investigation (forcé)"],
                        ["Ouvrages d'art: Selection → Investigation (forced)"]),
    "check": (["check", "Insertion RSA"], None, 0,
              [f"Insertion RSA{NB}: Investigation", f"Possibles{NB}: abandon (demande --reason)", f"Bloqués{NB}: present",
               "aucune preuve de concept enregistrée"],
              ["Insertion RSA: Investigation", "Available: abandon (needs --reason)", "Blocked: present",
               "no proof of concept"]),
    "status": (["status"], None, 0, ["Jours restants", f"Dernier passage du démon{NB}: —"],
               ["Days left", "Daemon's last tick: —"]),
    "history": (["history", "Cantines des collèges"], None, 0, ["Quand", "Motif", "Forcé", "Abandonnée"],
                ["When", "Reason", "Forced", "Abandoned"]),
    "diagram": (["diagram"], None, 0, ["Parcours d'une équipe (preincub)"], ["A team's path (preincub)"]),
    "remind preview": (["remind", "preview", "--until", "2020-12-31"], None, 0,
                       ["Prévu", "Objet", "Rappels", f"Échéance dans 7 jours{NB}: Pré-incubation 2020"],
                       ["Due", "Subject", "Reminders"]),  # subjects: in each recipient's language
    "remind run": (["remind", "run"], None, 0, ["mis en file", "en attente (canal non configuré ici)"],
                   ["enqueued", "(channel not configured here)"]),
    "outbox list": (["outbox", "list"], _remind_run, 0, ["N°", "Statut", "Essais", "Motif"],
                    ["ID", "Status", "Attempts", "Reason"]),
    "outbox retry": (["outbox", "retry", "--status", "failed", "--since", "2020-11-01"], None, 0,
                     ["0 message sera renvoyé au prochain passage"], ["0 messages will be sent again at the next tick"]),
    "outbox retry (usage)": (["outbox", "retry", "--since", "2020-11-01"], None, 2,
                             ["--since s'emploie avec --status", "(voir 'app outbox retry --help')"],
                             ["--since goes with --status", "(see 'app outbox retry --help')"]),
    "outbox cancel": (["outbox", "cancel", "{x}"], _pending_id, 0, ["message n°\u00a0{x} annulé"], ["message #{x} cancelled"]),
    "daemon --once": (["daemon", "--once", "--console"], None, 0, ["mis en file", "envoyé"], ["enqueued", "sent"]),
    "daemon status": (["daemon", "status"], None, 1,
                      [f"Boîte d'envoi{NB}: 0 en attente (dont 0 en nouvel essai, 0 depuis plus d'une heure), 0 en échec",
                       f"état{NB}: le démon n'a jamais tourné",
                       f"preincub: démon en mauvaise santé{NB}: le démon n'a jamais tourné"],
                      ["Outbox: 0 pending (0 retrying, 0 for over an hour), 0 failed",
                       "health: the daemon never ticked", "preincub: the daemon is unhealthy: the daemon never ticked"]),
    "--help": (["--help"], None, 0,
               [f"Usage{NB}: app", f"Options{NB}:\n", f"Commandes{NB}:\n", "Programmes de pré-incubation",
                "Langue des libellés et des messages"],
               ["Usage: app", "Options:\n", "Commands:\n", "Pre-incubation programmes",
                "Language of labels and messages"]),
    "usage error": (["frobnicate"], None, 2, ["Commande inconnue 'frobnicate'", "(voir 'app --help')"],
                    ["No such command 'frobnicate'", "(see 'app --help')"]),
    "undecodable argument": (["team", "show", "T\udcff"], None, 2,
                             [f"l'argument 7 (T\\xff) n'est pas en UTF-8 valide{NB}; vérifiez l'encodage"],
                             ["argument 9 (T\\xff) is not valid UTF-8; check the terminal's or the file's encoding"]),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_each_command_speaks_french_by_default_and_english_with_lang_en(case, demo_template, tmp_path):
    args, setup, code, french, english = CASES[case]
    for lang, fragments in ((None, french), ("en", english)):
        db = shutil.copy(demo_template, tmp_path / f"{lang or 'fr'}.db")  # a fresh store for each language
        x = (setup(db) if setup else None) or ""
        now = TICK if args[0] in ("remind", "outbox", "daemon") else "2020-11-16"
        r = invoke(*(a.replace("{x}", x) for a in args), db=db, now=now, lang=lang, env=WIDE)
        assert r.exit_code == code, (lang, r.stdout, r.stderr)
        assert "Traceback" not in r.stdout + r.stderr
        out = r.stdout + r.stderr
        for f in fragments:
            assert f.replace("{x}", x) in out, (lang, f, out)
        if lang is None:  # no English sentence left in the French output
            for f in english:
                if len(f) >= 8 and f not in french:
                    assert f.replace("{x}", x) not in out, (f, out)
