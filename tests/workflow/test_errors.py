"""The library's errors in both languages: one English msgid, its French from the catalog, the
params filled in, the counted ones in their plural form, and the tick's line."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from notifications.i18n import translations
from tests.conftest import paris, ready_team, seed
from workflow.api import Workflow
from workflow.clock import FixedClock
from workflow.errors import Forbidden, Invalid, NotFound
from workflow.errors import ChangedMeanwhile
from workflow.services.outbox import tick_line
from workflow.records import TickResult
from workflow.store.teams import changed

NBSP = "\u00a0"


def as_(w: Workflow, who: str) -> Workflow:
    return Workflow(w.store, w.clock, who)


def test_a_duplicate_and_an_unknown_name_in_both_languages(wf):
    seed(wf)
    wf.teams.add("Insertion RSA", "Pré-incubation 2020", "Pas-de-Calais")
    with pytest.raises(Invalid) as dup:
        wf.teams.add("Insertion RSA", "Pré-incubation 2020", "Pas-de-Calais")
    assert dup.value.text("en") == str(dup.value) == "a team named 'Insertion RSA' already exists"
    assert dup.value.text("fr") == "une équipe nommée 'Insertion RSA' existe déjà"
    with pytest.raises(NotFound) as nf:
        wf.teams.show("Nope")
    assert (nf.value.text("en"), nf.value.text("fr")) == ("unknown team 'Nope'", "équipe inconnue 'Nope'")
    with pytest.raises(NotFound) as partner:
        wf.teams.add("T", "Pré-incubation 2020", "Nord")
    assert partner.value.text("fr") == "collectivité inconnue 'Nord' dans le programme 'Pré-incubation 2020'"
    assert partner.value.params == {"partner": "Nord", "programme": "Pré-incubation 2020"}


def test_a_wrong_phase_names_the_phases_in_the_language(wf):
    seed(wf)
    ready_team(wf, "T")
    wf = wf.at(FixedClock(paris(2020, 7, 6, 9, 0)))
    wf.transitions.advance("T", "select")
    with pytest.raises(Invalid) as wrong:
        wf.teams.assess("T", real=True, major=True, actionable=True)
    assert wrong.value.code == "wrong_phase"
    assert wrong.value.text("en") == ("cannot assess 'T' in the phase “Investigation”; "
                                      "only in “Call for projects” or “Selection”")
    inv, cfp, sel = (translations("fr").gettext(p) for p in ("Investigation", "Call for projects", "Selection"))
    assert wrong.value.text("fr") == (f"évaluer 'T' est impossible en phase «\u00a0{inv}\u00a0»\u00a0; "
                                      f"seulement en «\u00a0{cfp}\u00a0» ou «\u00a0{sel}\u00a0»")
    wf.transitions.advance("T", "abandon", reason="Plus d'intrapreneur.")
    with pytest.raises(Invalid) as final:
        wf.teams.edit("T", problem="p")
    assert final.value.text("en") == "cannot edit 'T': it is in a final phase, “Abandoned”"
    assert final.value.text("fr").startswith("modifier 'T' est impossible\u00a0: l'équipe est dans une phase finale")


def test_dates_and_counts_read_as_each_language_writes_them(wf):
    seed(wf)
    ready_team(wf, "T")
    wf = wf.at(FixedClock(paris(2020, 7, 6, 9, 0)))
    wf.transitions.advance("T", "select")
    with pytest.raises(Invalid) as future:
        wf.checkins.log("T", on=date(2020, 7, 24), notes="x")
    assert future.value.code == "checkin_in_future"
    assert future.value.text("en") == "the check-in date, July 24, 2020, is in the future (today is July 6, 2020)"
    assert future.value.text("fr") == ("la date du point, le 24 juillet 2020, est dans le futur "
                                       "(nous sommes le 6 juillet 2020)")
    c = wf.checkins.log("T", notes="x")
    wf = wf.at(FixedClock(paris(2020, 8, 6, 9, 0)))
    with pytest.raises(Invalid) as late:
        wf.checkins.edit(c.id, notes="y")
    assert late.value.text("en").endswith("corrections are allowed for 7 days only")
    assert late.value.text("fr") == (f"le point n°\u00a0{c.id} a été saisi le 6 juillet 2020\u00a0; "
                                     "les corrections ne sont possibles que pendant 7 jours")


def test_refusals_say_what_may_not_be_done_in_the_language(wf):
    seed(wf)
    ready_team(wf, "T")
    agent = as_(wf, "agent0@example.org")
    with pytest.raises(Forbidden) as one:  # nowhere: the roles that would do it anywhere
        agent.directory.add_person("Zoé", "zoe@example.org", ["coach"])
    assert one.value.code == "role_needed"
    assert one.value.params["needed"] == ["admin", "coordinator"] and one.value.params["action"] == "manage"
    assert one.value.text("en") == ("acting as agent0@example.org (intrapreneur), you may not add or edit programmes, "
                                    "partners, people and teams: it needs the role admin or coordinator")
    assert one.value.text("fr") == ("en tant qu'agent0@example.org (intrapreneur), vous ne pouvez pas ajouter ou "
                                    "modifier programmes, collectivités, personnes et équipes\u00a0: "
                                    "il faut le rôle admin ou coordinator")
    # In a programme: the grant missing there.
    with pytest.raises(Forbidden) as two:
        agent.directory.add_partner("Nord", "Pré-incubation 2020")
    assert two.value.code == "grant_needed"
    assert two.value.params["grant"] == ["coordinator"] and two.value.params["programme"] == "Pré-incubation 2020"
    assert two.value.text("en") == ("acting as agent0@example.org (intrapreneur), you may not add or edit programmes, "
                                    "partners, people and teams in 'Pré-incubation 2020': it needs the grant "
                                    "coordinator of 'Pré-incubation 2020'")
    with pytest.raises(Forbidden) as three:
        agent.checkins.log("T", notes="x")
    # A team role is held on a team, not granted in a programme: the grant named is the coordinator's.
    assert three.value.text("en").endswith("it needs the grant coordinator of 'Pré-incubation 2020'")
    assert three.value.text("fr").endswith("il faut l'attribution coordinator de 'Pré-incubation 2020'")
    with pytest.raises(Forbidden) as unknown:
        as_(wf, "nobody@example.org").teams.status()
    assert unknown.value.text("fr") == ("personne inconnue nobody@example.org\u00a0; "
                                        "demandez à un coordinateur de vous ajouter")


def test_a_lost_swap_in_both_languages():
    exc = changed("T")
    assert isinstance(exc, ChangedMeanwhile) and exc.params == {"team": "T"}
    assert (exc.text("en"), exc.text("fr")) == ("team 'T' changed meanwhile, retry",
                                                "l'équipe 'T' a changé entre-temps, réessayez")


def test_the_tick_line_counts_in_the_language():
    r = TickResult("2020-12-16T10:00:00+01:00", "h", enqueued=2, sent=1, retry=0, failed=0, waiting=0)
    assert tick_line(r) == tick_line(r, "en") == "enqueued 2, sent 1, to retry 0, failed 0"
    assert tick_line(r, "fr") == "2 mis en file, 1 envoyé, 0 à réessayer, 0 en échec"
    r = replace(r, sent=3, waiting=2)
    assert tick_line(r, "en") == "enqueued 2, sent 3, to retry 0, failed 0, waiting 2 (channel not configured here)"
    assert tick_line(r, "fr") == ("2 mis en file, 3 envoyés, 0 à réessayer, 0 en échec, "
                                  "2 en attente (canal non configuré ici)")


def test_a_message_without_params_and_one_naming_a_party(wf):
    seed(wf)
    with pytest.raises(Invalid) as both:
        wf.teams.committee("T", on=None, opinion=None)
    assert both.value.text("en") == "give the committee's date, its opinion, or both"
    assert both.value.text("fr") == "donnez la date du comité, son avis, ou les deux"
    ready_team(wf, "T")
    with pytest.raises(Invalid) as again:
        wf.teams.agree("T", "operator")
    assert again.value.params["party"] == "operator"
    assert again.value.text("en") == "the operator already agreed to 'T'"
    assert again.value.text("fr").endswith("a déjà donné son accord pour 'T'")
    assert NBSP not in again.value.text("en")
