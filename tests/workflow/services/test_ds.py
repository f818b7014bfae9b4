"""Applications from Démarches Simplifiées: ``wf.ds.sync`` against the local DS (tests/ds_server.py: a real
HTTP server executing GraphQL with graphql-core), on SQLite and PostgreSQL (the ``wf`` fixture's db_url)."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import COORD, seed
from tests.ds_server import DEMARCHE, PARIS, DsServer, dossiers_fixture
from workflow.errors import Forbidden, Invalid
from workflow.formats.ds import DsClient, DsError
from workflow.formats.intake import ds_rows

PROG = "Pré-incubation 2020"
# The fixture's form, by field id where labels repeat ("Nom" twice: the intrapreneur's and the sponsor's).
MAP = {"Q2hhbXAtMTAx": "team", "Problème public": "problem", "Département": "partner",
       "Q2hhbXAtMTA0": "intrapreneur_name", "Q2hhbXAtMTA1": "intrapreneur_first_name",
       "Q2hhbXAtMTA2": "intrapreneur_email", "Q2hhbXAtMTA3": "days_per_week"}
LIVE = ("en_instruction", "accepte")


@pytest.fixture
def ds():
    with DsServer() as server:
        yield server


def client(server: DsServer) -> DsClient:
    return DsClient(server.url, server.token, sleep=lambda _s: None)


def programme(wf) -> str:
    seed(wf)
    wf.directory.add_partner("Somme", PROG)  # no INSEE code: matched by name ("80" by the département's)
    return PROG


def sync(wf, server: DsServer, **kw):
    return wf.ds.sync(DEMARCHE, PROG, mapping=MAP, client=client(server), **kw)


def rows(wf, sql: str) -> list[tuple]:
    with wf.store.read() as s:
        return [tuple(r) for r in s.execute(sa.text(sql))]


def counts(wf) -> tuple[int, ...]:
    return tuple(rows(wf, f"SELECT count(*) FROM {t}")[0][0] for t in ("team", "person", "partner", "event",
                                                                        "ds_dossier"))


def store_hash(wf) -> str:
    """Every row of every table, hashed: what a dry run must leave as it was."""
    h = hashlib.sha256()
    with wf.store.read() as s:
        names = sorted(sa.inspect(s.connection()).get_table_names())
        for name in names:
            for r in sorted(map(repr, s.execute(sa.text(f'SELECT * FROM "{name}"')))):
                h.update(f"{name}:{r}\n".encode())
    return h.hexdigest()


def importable(fixture) -> dict[int, dict]:
    """The fixture's dossiers that become teams: live ones with a problem statement."""
    def problem(d):
        return next(c["stringValue"] for c in d["champs"] if c["label"] == "Problème public")
    return {d["number"]: d for d in fixture.dossiers if d["state"] in LIVE and problem(d)}


def test_fresh_programme_imports_exactly_the_live_dossiers_with_partners_matched(wf, ds):
    programme(wf)
    r = sync(wf, ds)
    assert not r.dry_run and r.pages == 3 and not r.resumed
    assert r.states == dict(Counter(d["state"] for d in ds.fixture.dossiers)) and set(r.states) == {
        "en_construction", "en_instruction", "accepte", "refuse", "sans_suite"}
    created = {t.number for t in r.teams if t.action == "created"}
    assert created == set(importable(ds.fixture))
    skipped = {t.number for t in r.teams if t.action == "skipped"}
    assert skipped == {d["number"] for d in ds.fixture.dossiers if d["state"] not in LIVE}
    problems = [t for t in r.teams if t.action == "problem"]
    assert problems and all(t.state in LIVE and "problem" in t.reason for t in problems)
    teams = rows(wf, "SELECT t.name, t.phase, p.name FROM team t JOIN partner p ON p.id = t.partner_id")
    assert len(teams) == len(created) and {ph for _n, ph, _p in teams} == {"call_for_projects"}
    # "80 - Somme", "Somme (80)", "somme" and "80" all went to the existing Somme, nothing beside it
    partners = dict(rows(wf, "SELECT name, insee FROM partner"))
    somme = [t for t in r.teams if t.action == "created" and
             next(c["stringValue"] for c in ds.fixture.dossier(t.number)["champs"] if c["label"] == "Département")
             in ("80 - Somme", "Somme (80)", "somme", "80")]
    assert {t.partner for t in somme} == {"Somme"} and len({
        next(c["stringValue"] for c in ds.fixture.dossier(t.number)["champs"] if c["label"] == "Département")
        for t in somme}) == 4
    assert set(r.partners) == set(partners) - {"Somme", "Pas-de-Calais"}
    assert "Aisne" in partners and partners["Aisne"] == "02" and partners["Corse-du-Sud"] == "2A"
    assert partners["Guadeloupe"] == "971" and not any(n[0].isdigit() or "(" in n for n in partners)
    # the demandeur (or the form's fields, mapped by id) is the intrapreneur
    one = next(t for t in r.teams if t.action == "created")
    d = ds.fixture.dossier(one.number)
    shown = wf.teams.show(one.team)
    email = next(c["stringValue"] for c in d["champs"] if c["champDescriptorId"] == "Q2hhbXAtMTA2")
    assert [i.email for i in shown.intrapreneurs] == [email] and shown.problem
    # each dossier is remembered by its DS id, with its number, state and team
    assert rows(wf, "SELECT count(*) FROM ds_dossier WHERE team_id IS NOT NULL")[0][0] == len(created)
    assert rows(wf, f"SELECT cursor, updated_since IS NOT NULL FROM ds_sync WHERE demarche = {DEMARCHE}") == [
        (None, True)]


def test_a_dossier_that_cannot_be_a_team_is_reported_by_number_and_stops_none_of_the_others(wf, ds):
    programme(wf)
    bad = next(iter(importable(ds.fixture)))
    for c in ds.fixture.dossier(bad)["champs"]:
        if c["champDescriptorId"] == "Q2hhbXAtMTA2":
            c["stringValue"] = "pas-un-email"
    r = sync(wf, ds)
    (problem,) = [t for t in r.teams if t.number == bad]
    assert problem.action == "problem" and "'pas-un-email' is not an e-mail address" in problem.reason
    assert problem.reason.startswith("Adresse électronique de l'intrapreneur: ")  # the DS field that gave it
    assert {t.number for t in r.teams if t.action == "created"} == set(importable(ds.fixture)) - {bad}
    assert rows(wf, f"SELECT count(*) FROM ds_dossier WHERE number = {bad}") == [(0,)]
    # Not forgotten: the next sync reads it again (though others changed after it), and once fixed it is a team.
    ds.fixture.touch(next(n for n in importable(ds.fixture) if n != bad), Q2hhbXAtMTAy="Un problème plus précis")
    again = sync(wf, ds)
    assert [t.action for t in again.teams if t.number == bad] == ["problem"]
    ds.fixture.touch(bad, Q2hhbXAtMTA2="agent.corrige@exemple.fr")
    fixed = sync(wf, ds)
    assert [t.action for t in fixed.teams if t.number == bad] == ["created"]


def test_a_second_run_is_a_no_op_and_asks_only_for_what_changed(wf, ds):
    programme(wf)
    problems = {t.number for t in sync(wf, ds).teams if t.action == "problem"}
    before, digest = counts(wf), store_hash(wf)
    asked = len(ds.requests)
    r = sync(wf, ds)
    assert {t.action for t in r.teams} <= {"unchanged", "problem"} and r.partners == () and r.people == ()
    assert {t.number for t in r.teams if t.action == "problem"} == problems  # still problems: read again
    assert counts(wf) == before  # no event, no row
    sent = [q["variables"] for q in ds.requests[asked:] if "deletedDossiers" not in q["query"]]
    assert sent and all(v.get("updatedSince") for v in sent)
    # asked from the oldest dossier that was a problem (read again, not forgotten), else from the last change
    oldest = min((d["dateDerniereModification"] for d in ds.fixture.dossiers if d["number"] in problems),
                 default=None)
    if oldest is not None:
        assert datetime.fromisoformat(sent[0]["updatedSince"]) == datetime.fromisoformat(oldest)
    assert store_hash(wf) == digest  # nothing at all (the clock is fixed: synced_at is the same)
    assert rows(wf, "SELECT count(*) FROM event WHERE action = 'ds.sync'")[0][0] == 3  # one per page, the first run


def test_an_update_in_ds_is_reflected_with_an_event_and_a_deletion_is_flagged(wf, ds):
    programme(wf)
    r = sync(wf, ds)
    live = [t for t in r.teams if t.action == "created"]
    changed, gone = live[0], live[1]
    was = wf.teams.show(changed.team)
    ds.fixture.touch(changed.number, **{"Problème public": "Les usagers attendent trois mois une réponse.",
                                        "Département": "62 - Pas-de-Calais"})
    ds.fixture.delete(gone.number, reason="expired")
    before = counts(wf)
    r2 = sync(wf, ds)
    got = {t.number: t for t in r2.teams}
    assert got[changed.number].action == "updated" and got[gone.number].action == "flagged"
    team = wf.teams.show(changed.team)
    assert team.problem == "Les usagers attendent trois mois une réponse." and team.partner == "Pas-de-Calais"
    ev = wf.transitions.history(changed.team)[-1]
    assert ev.action == "ds.update" and ev.data == {"demarche": DEMARCHE, "number": changed.number,  # old → new
                                                    "problem": [was.problem, team.problem],
                                                    "partner": [was.partner, "Pas-de-Calais"]}
    # the deleted dossier's team stays, flagged and audited
    assert wf.teams.show(gone.team).name == gone.team
    assert rows(wf, f"SELECT deleted_at IS NOT NULL FROM ds_dossier WHERE number = {gone.number}") == [(True,)]
    assert wf.transitions.history(gone.team)[-1].action == "ds.delete"
    assert counts(wf)[0] == before[0] and counts(wf)[3] == before[3] + 3  # update, deletion, the page's ds.sync
    after = counts(wf)
    r3 = sync(wf, ds)  # both seen: nothing more
    assert counts(wf) == after and "flagged" not in {t.action for t in r3.teams}


def test_refused_and_dropped_dossiers_close_their_teams_through_the_machine(wf, ds):
    programme(wf)
    r = sync(wf, ds)
    live = [t for t in r.teams if t.action == "created"]
    in_selection, in_call, dropped, investigating = live[:4]
    for t in (in_selection, dropped, investigating):
        wf.transitions.advance(t.team, "submit")
    wf.transitions.advance(investigating.team, "select", force=True, reason="test")
    for t, state in ((in_selection, "refuse"), (in_call, "refuse"), (dropped, "sans_suite"),
                     (investigating, "refuse")):
        d = ds.fixture.touch(t.number)
        d["state"], d["motivation"] = state, f"Motivation <b>{t.number}</b> : hors périmètre"
    ds.fixture.dossier(dropped.number)["motivation"] = "illisible\x00"  # not a reason we keep: ours instead
    r2 = sync(wf, ds)
    got = {t.number: t for t in r2.teams}
    assert got[in_selection.number].action == "closed" and wf.teams.show(in_selection.team).phase == "not_selected"
    assert wf.teams.show(in_call.team).phase == "abandoned" and wf.teams.show(dropped.team).phase == "abandoned"
    assert got[investigating.number].action == "unchanged"
    assert wf.teams.show(investigating.team).phase == "investigation"
    ev = wf.transitions.history(in_selection.team)[-1]
    assert (ev.trigger, ev.reason) == ("reject", f"Motivation <b>{in_selection.number}</b> : hors périmètre")
    ev = wf.transitions.history(dropped.team)[-1]
    assert (ev.trigger, ev.reason) == ("abandon", f"sans_suite in Démarches Simplifiées (dossier {dropped.number})")
    assert [p.phase for p in wf.teams.show(in_call.team).phases] == ["call_for_projects", "abandoned"]


def test_a_root_error_on_page_3_keeps_pages_1_and_2_and_the_next_sync_resumes(wf, ds):
    programme(wf)
    ds.fail["errors_on_page"] = 3
    with pytest.raises(DsError) as e:
        sync(wf, ds)
    assert e.value.code == "ds_error" and "page indisponible" in e.value.params["message"]
    order = sorted(ds.fixture.dossiers, key=lambda d: (datetime.fromisoformat(d["dateDerniereModification"]),
                                                       d["number"]))  # as DS pages them: by last change
    first_two = {d["number"] for d in order[:200]} & set(importable(ds.fixture))
    assert {n for (n,) in rows(wf, "SELECT number FROM ds_dossier WHERE team_id IS NOT NULL")} == first_two
    (cursor,) = rows(wf, f"SELECT cursor FROM ds_sync WHERE demarche = {DEMARCHE}")[0]
    assert cursor
    del ds.fail["errors_on_page"]
    asked = len(ds.requests)
    r = sync(wf, ds)
    assert r.resumed and ds.requests[asked]["variables"]["after"] == cursor and r.pages == 1
    assert {n for (n,) in rows(wf, "SELECT number FROM ds_dossier WHERE team_id IS NOT NULL")} == set(
        importable(ds.fixture))
    assert rows(wf, f"SELECT cursor FROM ds_sync WHERE demarche = {DEMARCHE}") == [(None,)]


def test_a_dry_run_writes_nothing_at_all_and_says_what_it_would_do(wf, ds):
    programme(wf)
    digest = store_hash(wf)
    r = sync(wf, ds, dry_run=True)
    assert store_hash(wf) == digest
    assert r.dry_run and {t.number for t in r.teams if t.action == "created"} == set(importable(ds.fixture))
    assert "Aisne" in r.partners and "Somme" not in r.partners and len(r.partners) == len(set(r.partners))
    sync(wf, ds)
    ds.fixture.touch(ds.fixture.dossiers[0]["number"])
    ds.fixture.delete(next(iter(importable(ds.fixture))))
    digest = store_hash(wf)
    r = sync(wf, ds, dry_run=True)
    assert store_hash(wf) == digest and "flagged" in {t.action for t in r.teams}


def test_fields_by_label_or_id_repeated_labels_only_by_id():
    fx = dossiers_fixture(5)
    with DsServer(fx) as server:
        page = next(client(server).dossiers(DEMARCHE))
    live = [d for d in page.dossiers if d.state in LIVE]
    # "Nom" names two fields: by label it is read from neither; the demandeur gives the name
    read = ds_rows(live, {"Nom": "intrapreneur_name", "Nom du projet": "team", "Département": "partner",
                          "Problème public": "problem"}, [("Somme", None)], "t")
    for d in live:
        a = read.applications[d.number]
        assert a.team == d.champs[0].value and a.intrapreneurs[0].name == f"{d.demandeur.prenom} {d.demandeur.nom}"
    # by id the sponsor's "Nom" (the second) is chosen, whatever its label
    read = ds_rows(live, {"Q2hhbXAtMTA4": "team", "Département": "partner", "Problème public": "problem"}, [], "t")
    assert all(read.applications[d.number].team.endswith("(sponsor)") for d in live)
    # an unknown column in the map is refused, naming the choices
    with pytest.raises(Invalid) as e:
        ds_rows(live, {"Département": "nowhere"}, [], "t")
    assert e.value.code == "unknown_column" and "partner" in e.value.params["allowed"]


def test_bad_map_and_missing_token_are_one_line_before_any_request(wf, ds):
    programme(wf)
    with pytest.raises(Invalid) as e:
        wf.ds.sync(DEMARCHE, PROG, mapping={"Département": "nowhere"}, client=client(ds))
    assert e.value.code == "unknown_column" and ds.requests == []
    with pytest.raises(Invalid) as e:
        wf.ds.sync(DEMARCHE, PROG, mapping=MAP)
    assert e.value.code == "ds_no_token"


def test_a_coordinator_syncs_into_their_programmes_only(wf, ds):
    programme(wf)
    wf.directory.add_programme("Autre", wf.clock.today())
    wf.directory.add_person("Coord Autre", "autre@example.org", ["coordinator"], programme="Autre")
    with pytest.raises(Forbidden):
        wf.acting_as("autre@example.org").ds.sync(DEMARCHE, PROG, mapping=MAP, client=client(ds))
    assert counts(wf)[4] == 0
    sync(wf, ds)
    with pytest.raises(Invalid) as e:  # a démarche feeds one programme
        wf.ds.sync(DEMARCHE, "Autre", mapping=MAP, client=client(ds))
    assert e.value.code == "ds_other_programme"


def test_hints_schedule_and_failures(wf, ds):
    programme(wf)
    assert wf.ds.want(DEMARCHE) is False and wf.ds.due(timedelta(hours=1)) == []
    assert wf.ds.due(timedelta(hours=1), {DEMARCHE: PROG}) == [(DEMARCHE, PROG)]
    sync(wf, ds)
    assert wf.ds.due(timedelta(hours=1)) == []
    assert wf.ds.want(DEMARCHE) is True and wf.ds.due(timedelta(hours=1)) == [(DEMARCHE, PROG)]
    later = wf.at(type(wf.clock)(wf.clock.now() + timedelta(hours=2)))
    sync(later, ds)
    assert later.ds.due(timedelta(hours=1)) == [] and later.ds.due(timedelta(minutes=30), {}) == []
    later.ds.failed(DEMARCHE, "DS unreachable\nsecond line")
    (st,) = later.ds.states()
    assert (st.demarche, st.programme, st.error) == (DEMARCHE, PROG, "DS unreachable") and st.synced_at and st.failed_at
    assert COORD  # the administrator syncs


def test_throttled_on_page_2_the_sync_waits_and_goes_on(wf, ds):
    programme(wf)
    ds.fail.update({"429_on_page": 2, "retry_after": 2})
    waits: list[float] = []
    r = wf.ds.sync(DEMARCHE, PROG, mapping=MAP, client=DsClient(ds.url, ds.token, sleep=waits.append))
    assert r.pages == 3 and 2 in waits
    assert {t.number for t in r.teams if t.action == "created"} == set(importable(ds.fixture))


# ---- an update in DS: every imported field (step 13) ------------------------------------------------

COACH_FIELD, SPONSOR_FIELD = "Q2hhbXAtMTA5", "Q2hhbXAtMTEw"  # fields the form grows after the first sync
MAP_PEOPLE = {**MAP, COACH_FIELD: "coach", SPONSOR_FIELD: "sponsor"}


def later(minutes: int) -> datetime:
    """A change in DS after the last one (two touches within a second would look like one)."""
    return datetime.now(PARIS) + timedelta(minutes=minutes)


def grow(d: dict, descriptor: str, label: str, value: str) -> None:
    """A field added to a dossier's form, as DS adds one when the démarche's form changes."""
    d["champs"].append({"__typename": "TextChamp", "id": f"Champ-{descriptor}-{d['number']}",
                        "champDescriptorId": descriptor, "label": label, "stringValue": value, "value": value})


def test_an_update_changes_every_imported_field_but_the_name_with_one_event_of_old_and_new(wf, ds):
    programme(wf)
    r = wf.ds.sync(DEMARCHE, PROG, mapping=MAP_PEOPLE, client=client(ds))
    t = next(x for x in r.teams if x.action == "created")
    before = wf.teams.show(t.team)
    (old,) = before.intrapreneurs
    wf.teams.edit(t.team, intrapreneurs=["agent3@example.org"])  # added by hand: not DS's to take away
    d = ds.fixture.touch(t.number, later(1), **{"Nom du projet": "Un tout autre nom", "Q2hhbXAtMTA0": "Séverin",
                                      "Q2hhbXAtMTA1": "Anaïs", "Q2hhbXAtMTA2": "anais.severin@somme.gouv.fr",
                                      "Jours par semaine": "4"})
    grow(d, COACH_FIELD, "Coach", "Coralie Lhôte <coralie.lhote@example.org>")  # new: created with her name
    grow(d, SPONSOR_FIELD, "Sponsor", "sponsor@example.org")  # known, holds the role
    digest = store_hash(wf)
    dry = wf.ds.sync(DEMARCHE, PROG, mapping=MAP_PEOPLE, client=client(ds), dry_run=True)
    assert store_hash(wf) == digest and {t.number: t.action for t in dry.teams}[t.number] == "updated"
    events = counts(wf)[3]
    r2 = wf.ds.sync(DEMARCHE, PROG, mapping=MAP_PEOPLE, client=client(ds))
    (got,) = [x for x in r2.teams if x.number == t.number]
    assert got.action == "updated" and got.team == t.team
    assert got.reason == ("the project is named 'Un tout autre nom' in Démarches Simplifiées; "
                          "the team keeps its name")
    assert {(p.email, p.roles) for p in r2.people} == {("anais.severin@somme.gouv.fr", ("intrapreneur",)),
                                                      ("coralie.lhote@example.org", ("coach",))}
    team = wf.teams.show(t.team)
    assert team.name == t.team and team.problem == before.problem and team.partner == before.partner
    assert {(i.email, i.days_per_week) for i in team.intrapreneurs} == {
        ("anais.severin@somme.gouv.fr", 4.0), ("agent3@example.org", None)}  # DS's intrapreneurs' commitment
    assert [m.email for m in team.coaches] == ["coralie.lhote@example.org"]
    assert [m.email for m in team.sponsors] == ["sponsor@example.org"]
    assert {"Séverin", "Anaïs"} <= set(wf.directory.person("anais.severin@somme.gouv.fr").name.split())
    # one ds.update, each change as [old, new]; two person.add, the page's ds.sync
    ev = [e for e in wf.transitions.history(t.team) if e.action == "ds.update"]
    assert len(ev) == 1 and ev[0].data == {
        "demarche": DEMARCHE, "number": t.number,
        "intrapreneurs": [[old.email], ["anais.severin@somme.gouv.fr"]],
        "days_per_week": [old.days_per_week, 4.0],
        "coach": [None, "coralie.lhote@example.org"], "sponsor": [None, "sponsor@example.org"]}
    assert counts(wf)[3] == events + 4
    # seen: nothing more; a later change of the intrapreneur replaces DS's last one, not the hand-added one
    assert {x.action for x in wf.ds.sync(DEMARCHE, PROG, mapping=MAP_PEOPLE, client=client(ds)).teams} <= {
        "unchanged", "problem"}  # the fixture's dossiers with no problem stated stay problems, read again
    ds.fixture.touch(t.number, later(2), Q2hhbXAtMTA2="agent5@example.org")
    wf.ds.sync(DEMARCHE, PROG, mapping=MAP_PEOPLE, client=client(ds))
    assert {i.email for i in wf.teams.show(t.team).intrapreneurs} == {"agent5@example.org", "agent3@example.org"}
    assert wf.transitions.history(t.team)[-1].data["intrapreneurs"] == [["anais.severin@somme.gouv.fr"],
                                                                         ["agent5@example.org"]]


def test_an_update_naming_someone_without_the_role_is_a_problem_and_changes_nothing_of_its_team(wf, ds):
    programme(wf)
    r = wf.ds.sync(DEMARCHE, PROG, mapping=MAP_PEOPLE, client=client(ds))
    t = next(x for x in r.teams if x.action == "created")
    before = wf.teams.show(t.team)
    d = ds.fixture.touch(t.number, later(1), **{"Problème public": "Un problème reformulé dans DS."})
    grow(d, COACH_FIELD, "Coach", "agent1@example.org")  # an intrapreneur, not a coach
    events = counts(wf)[3]
    r2 = wf.ds.sync(DEMARCHE, PROG, mapping=MAP_PEOPLE, client=client(ds))
    (got,) = [x for x in r2.teams if x.number == t.number]
    assert got.action == "problem" and got.reason == "agent1@example.org does not have the role coach"
    assert wf.teams.show(t.team) == before and counts(wf)[3] == events  # nothing of it, no event
    d["champs"][-1]["stringValue"] = "coach@example.org"
    ds.fixture.touch(t.number, later(2))
    r3 = wf.ds.sync(DEMARCHE, PROG, mapping=MAP_PEOPLE, client=client(ds))  # tried again, now good
    assert {x.number: x.action for x in r3.teams}[t.number] == "updated"
    assert wf.teams.show(t.team).problem == "Un problème reformulé dans DS."


# ---- a failure before any sync, a cursor DS refuses -------------------------------------------------

def test_a_first_sync_that_fails_is_recorded_with_its_programme(wf, ds):
    programme(wf)
    assert wf.ds.failed(DEMARCHE, "DS unreachable") is False  # no row, no programme: nothing to record it in
    assert wf.ds.failed(DEMARCHE, "DS unreachable\nmore", programme=PROG) is True
    (st,) = wf.ds.states()
    assert (st.demarche, st.programme, st.synced_at, st.error) == (DEMARCHE, PROG, None, "DS unreachable")
    assert st.failed_at and wf.ds.due(timedelta(hours=1)) == [(DEMARCHE, PROG)]
    wf.directory.add_programme("Autre", wf.clock.today())
    with pytest.raises(Invalid) as e:  # the démarche feeds the programme its failure named
        wf.ds.sync(DEMARCHE, "Autre", mapping=MAP, client=client(ds))
    assert e.value.code == "ds_other_programme"
    r = sync(wf, ds)
    assert r.pages == 3 and not r.resumed
    (st,) = wf.ds.states()
    assert st.synced_at and st.error is None and st.failed_at is None


def test_a_stored_cursor_ds_no_longer_accepts_restarts_from_updated_since_once(wf, ds):
    programme(wf)
    ds.fail["errors_on_page"] = 3
    with pytest.raises(DsError):
        sync(wf, ds)
    del ds.fail["errors_on_page"]
    kept = rows(wf, "SELECT count(*) FROM ds_dossier")[0][0]
    with wf.store.write() as s:  # DS changed its cursors' format meanwhile
        s.execute(sa.text(f"UPDATE ds_sync SET cursor = 'b2xkLWN1cnNvcg' WHERE demarche = {DEMARCHE}"))
    asked = len(ds.requests)
    r = sync(wf, ds)
    sent = [q["variables"].get("after") for q in ds.requests[asked:] if "deletedDossiers" not in q["query"]]
    assert sent[:2] == ["b2xkLWN1cnNvcg", None] and r.restarted and not r.resumed and r.pages == 3
    assert {n for (n,) in rows(wf, "SELECT number FROM ds_dossier WHERE team_id IS NOT NULL")} == set(
        importable(ds.fixture))
    assert kept and rows(wf, f"SELECT cursor FROM ds_sync WHERE demarche = {DEMARCHE}") == [(None,)]
    # once: refused again from the start, the sync stops with DS's message (and forgets the bad cursor)
    with wf.store.write() as s:
        s.execute(sa.text(f"UPDATE ds_sync SET cursor = 'b2xkLWN1cnNvcg' WHERE demarche = {DEMARCHE}"))
    ds.fail.update({"errors_on_page": 1, "error_message": "Invalid cursor"})
    asked = len(ds.requests)
    with pytest.raises(DsError) as e:
        sync(wf, ds)
    assert e.value.code == "ds_error" and len(ds.requests) - asked == 2
    assert rows(wf, f"SELECT cursor FROM ds_sync WHERE demarche = {DEMARCHE}") == [(None,)]
    # a dry run restarts too, and writes nothing
    del ds.fail["errors_on_page"]
    with wf.store.write() as s:
        s.execute(sa.text(f"UPDATE ds_sync SET cursor = 'b2xkLWN1cnNvcg' WHERE demarche = {DEMARCHE}"))
    digest = store_hash(wf)
    assert sync(wf, ds, dry_run=True).restarted and store_hash(wf) == digest
