"""What people typed, the settings and the store, refused in one sentence per language (the catalog)."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
import sqlalchemy as sa

from notifications import i18n, wiring
from workflow.rules import validate
from workflow.clock import parse_date, parse_datetime
from workflow.rules.coaching import parse_week
from workflow.store.engine import translate
from workflow.errors import Invalid, StoreError, StoreWarning
from workflow.settings import Settings
from workflow.store.files import resolve_url

NB, NNB = "\u00a0", "\u202f"  # French: before ":" and ";"; between thousands


def both(exc: Invalid | StoreError | StoreWarning) -> tuple[str, str]:
    return exc.text("en"), exc.text("fr")


def test_numbers_name_what_they_are_and_read_as_each_language_writes_them():
    with pytest.raises(Invalid) as e:
        validate.number(0, "--days-per-week", 0.5, 5)
    assert both(e.value) == ("the days per week must be between 0.5 and 5, got 0",
                             "le nombre de jours par semaine doit être entre 0,5 et 5, reçu 0")
    assert str(e.value) == e.value.text("en") and "--" not in e.value.text("fr")
    with pytest.raises(Invalid) as e:
        validate.number(2.5, "--capacity", 1, 1000, integer=True)
    assert both(e.value) == ("the capacity must be a whole number, got 2.5",
                             "la capacité doit être un nombre entier, reçu 2,5")
    with pytest.raises(Invalid) as e:
        validate.number(0, "--capacity", 1, 1000)
    assert e.value.text("fr") == f"la capacité doit être entre 1 et 1{NNB}000, reçu 0"


def test_names_texts_choices_and_dates_read_in_both_languages():
    with pytest.raises(Invalid) as e:
        validate.name("  ", "team")
    assert both(e.value) == ("the team name is empty", "le nom de l'équipe est vide")
    with pytest.raises(Invalid) as e:
        validate.text("a\x1bb", "next steps")
    assert both(e.value) == ("the text of the next steps contains control characters",
                             "le texte des prochaines étapes contient des caractères de contrôle")
    with pytest.raises(Invalid) as e:
        validate.name("x" * 201, "person")
    assert both(e.value) == ("the person's name is longer than 200 characters",
                             "le nom de la personne dépasse 200 caractères")
    with pytest.raises(Invalid) as e:
        validate.choice("boss", ("coach", "coordinator"), "role")
    assert both(e.value) == ("'boss' is not a role; choose one of: coach, coordinator",
                             f"'boss' n'est pas un rôle{NB}; choisissez parmi{NB}: coach, coordinator")
    with pytest.raises(Invalid) as e:
        validate.plausible_date(date(1999, 12, 31), "--on")
    assert both(e.value) == ("the check-in date, 1999-12-31, is not a plausible date (2000-2100)",
                             "la date du point, 1999-12-31, n'est pas une date plausible (2000-2100)")
    with pytest.raises(Invalid) as e:
        validate.email("pas-une-adresse")
    assert e.value.text("fr") == f"'pas-une-adresse' n'est pas une adresse e-mail (attendu{NB}: nom@exemple.fr)"


def test_a_label_the_caller_marks_itself_is_used_as_is():
    with pytest.raises(Invalid) as e:
        validate.text(" ", i18n.N_("the summary"))
    assert both(e.value) == ("the summary is empty", "le résumé est vide")


def test_every_label_has_its_french():
    fr = i18n.translations("fr")
    for table in (validate.NAMES, validate.TEXTS, validate.CHOICES, validate.NUMBERS, validate.DATES):
        for msgid in table.values():
            assert fr.gettext(msgid) != msgid, msgid


def test_parsers_raise_invalid_which_is_still_a_value_error():
    with pytest.raises(ValueError) as e:
        parse_date("2020-02-30")
    assert isinstance(e.value, Invalid)
    assert both(e.value) == ("'2020-02-30' is not a date; use YYYY-MM-DD",
                             f"'2020-02-30' n'est pas une date{NB}; utilisez AAAA-MM-JJ")
    with pytest.raises(Invalid) as e:
        parse_datetime("1900-01-01")
    assert e.value.text("fr") == f"'1900-01-01' est hors limites{NB}: utilisez une date entre 2000 et 2100"
    with pytest.raises(Invalid) as e:
        parse_week("2020-W99")
    assert both(e.value) == ("'2020-W99' is not an ISO week; use YYYY-Www, e.g. 2020-W30",
                             f"'2020-W99' n'est pas une semaine ISO{NB}; utilisez AAAA-Wss, par ex. 2020-W30")


def test_settings_name_the_variable_in_both_languages():
    with pytest.raises(Invalid) as e:
        Settings(deadline_days="a,b").reminders
    assert both(e.value) == ("PREINCUB_DEADLINE_DAYS='a,b': give days as numbers, e.g. 30,14,7,1",
                             f"PREINCUB_DEADLINE_DAYS='a,b'{NB}: donnez des nombres de jours, par ex. 30,14,7,1")
    with pytest.raises(Invalid) as e:
        Settings(hours_per_day=0.5).coaching
    assert both(e.value) == ("PREINCUB_HOURS_PER_DAY='0.5' must be between 1 and 12",
                             "PREINCUB_HOURS_PER_DAY='0.5' doit être entre 1 et 12")
    with pytest.raises(Invalid) as e:
        Settings(smtp_url="smtp://u:p@host").check_delivery()
    assert e.value.text("fr") == (f"PREINCUB_SMTP_URL est inutilisable{NB}: elle contient un mot de passe{NB}: "
                                  "donnez-le plutôt dans PREINCUB_SMTP_PASSWORD (par ex. smtp://user@host:587)")
    assert "p@host" not in e.value.text("en")


def test_store_errors_carry_a_code_and_no_command():
    with pytest.raises(StoreError) as e:
        resolve_url("mysql://u:secret@h/x")
    assert e.value.code == "unsupported_store"
    en, fr = both(e.value)
    assert en.startswith("unsupported store 'mysql://u:***@h/x' (kind 'mysql'); use an SQLite file path")
    assert fr.startswith(f"base non prise en charge 'mysql://u:***@h/x' (type 'mysql'){NB}; utilisez un chemin")
    orig = sqlite3.OperationalError("attempt to write a readonly database")
    orig.sqlite_errorname = "SQLITE_READONLY"
    err = translate(sa.exc.OperationalError("INSERT", {}, orig), "sqlite:////tmp/s.db")
    assert (err.code, err.params["where"]) == ("read_only", "/tmp/s.db")
    assert both(err) == ("the store /tmp/s.db is read-only (the database refused to write): it can be read, "
                         "not changed",
                         f"la base /tmp/s.db est en lecture seule (la base a refusé d'écrire){NB}: on peut la lire, "
                         "pas la modifier")
    for text in both(err):
        assert "preincub " not in text and "--" not in text


def test_a_store_warning_and_a_waiting_reason_translate():
    w = StoreWarning(i18n.N_("the store {where} is open to other users (mode {mode}) and holds personal data: "
                             "chmod 600 {where}"), where="/tmp/s.db", mode="0644")
    assert str(w).startswith("the store /tmp/s.db is open")
    assert w.text("fr").endswith(f"données personnelles{NB}: chmod 600 /tmp/s.db")
    reason = wiring.unconfigured_reason("email")
    assert reason == "e-mail is not configured here (PREINCUB_SMTP_URL)"  # recorded as is, in English
    assert i18n.translations("fr").gettext(reason) == "l'e-mail n'est pas configuré ici (PREINCUB_SMTP_URL)"
    assert i18n.text("fr", "{channel!t}", {"channel": wiring.UNCONFIGURED["chat"][0]}) == "le webhook de messagerie"
