"""`intake ds sync` on a real SQLite file against the local Démarches Simplifiées (tests/ds_server.py, real
HTTP and graphql-core): a sync, a second one that changes nothing, a dry run that writes nothing, --json
checked against its schema, a bad token and no token in one line; the `ds` settings; `partner --insee`;
the daemon's scheduled syncs and `daemon status`."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.cli_helpers import PROG, data, dump_hash, fails, invoke, ok
from workflow.errors import Invalid
from workflow.settings import DS_URL, Settings

ds_server = pytest.importorskip("tests.ds_server", reason="graphql-core is a test extra: pip install -e '.[test]'")
DsServer, dossiers_fixture, DEMARCHE = ds_server.DsServer, ds_server.dossiers_fixture, ds_server.DEMARCHE

# The démarche's form named by field id (champDescriptorId): its two fields labelled "Nom" are told apart.
MAP = """[columns]
"Q2hhbXAtMTAx" = "team"                  # « Nom du projet »
"Q2hhbXAtMTAy" = "problem"               # « Problème public »
"Q2hhbXAtMTAz" = "partner"               # « Département »: "80 - Somme", "Somme (80)", "somme" all match Somme
"Q2hhbXAtMTA3" = "days_per_week"         # « Jours par semaine »
"Q2hhbXAtMTA0" = "intrapreneur_name"     # the first « Nom » (the second, Q2hhbXAtMTA4, is someone else's)
"Q2hhbXAtMTA2" = "intrapreneur_email"    # « Adresse électronique de l'intrapreneur »
"""  # the README's example
IMPORTED = ("en_instruction", "accepte")


def test_the_readme_shows_this_map():
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert MAP.split("\n", 1)[1] in readme


@pytest.fixture
def server():
    with DsServer(dossiers_fixture(24)) as ds:
        yield ds


@pytest.fixture
def no_backoff(monkeypatch):
    """The client's retries of an unreachable DS, without their waits (recorded instead)."""
    from workflow.formats.ds import DsClient

    waits: list[float] = []
    monkeypatch.setitem(DsClient.__init__.__kwdefaults__, "sleep", waits.append)
    return waits


@pytest.fixture
def ds_map(tmp_path):
    path = tmp_path / "ds.toml"
    path.write_text(MAP, encoding="utf-8")
    return str(path)


def env_of(server, **extra) -> dict:
    return {"PREINCUB_DS_URL": server.url, "PREINCUB_DS_TOKEN": server.token, **extra}


def sync(db, server, *args: str, env: dict | None = None, **kw):
    return invoke("intake", "ds", "sync", "--demarche", str(DEMARCHE), "--programme", PROG, *args, db=db,
                  env=env if env is not None else env_of(server), **kw)


def test_sync_imports_the_dossiers_in_instruction_and_accepted_then_changes_nothing(demo_db, server, ds_map):
    wanted = {d["number"] for d in server.fixture.dossiers if d["state"] in IMPORTED}
    out = ok(sync(demo_db, server, "--map", ds_map, lang="en")).stdout
    assert "imported into 'Pré-incubation 2020'" in out and "DS states" in out
    seen = len(server.requests)
    doc = data(sync(demo_db, server, "--map", ds_map, "--json"))
    # the second run asks only for what changed, and changes nothing
    assert not [t for t in doc["teams"] if t["action"] in ("created", "updated")]
    asked = [q["variables"] for q in server.requests[seen:] if "updatedSince" in q["variables"]]
    assert asked and all(v["updatedSince"] for v in asked)
    teams = data(invoke("team", "list", "--json", db=demo_db))
    ours = [t for t in teams if "n°" in t["name"]]
    assert {int(t["name"].rsplit("n°", 1)[1]) for t in ours} <= wanted
    assert ours and all(t["phase"] == "call_for_projects" for t in ours)
    # "80 - Somme", "Somme (80)", "somme", "80" all went to the demo's Somme: no second Somme
    partners = [p["name"] for p in data(invoke("programme", "show", PROG, "--json", db=demo_db))["partners"]]
    assert partners.count("Somme") == 1 and not [p for p in partners if "80" in p or p == "somme"]


def test_json_has_team_imports_keys_with_ds_number_and_state_and_matches_its_schema(demo_db, server, ds_map):
    from tests.commands.test_schema import conforms

    doc = data(sync(demo_db, server, "--map", ds_map, "--json"))
    conforms("intake-ds-sync", doc)
    assert {"programme", "dry_run", "teams", "partners", "people", "states"} <= set(doc)
    assert doc["programme"] == PROG and doc["demarche"] == DEMARCHE and doc["dry_run"] is False
    by_number = {d["number"]: d["state"] for d in server.fixture.dossiers}
    assert doc["teams"] and all(by_number[t["ds_number"]] == t["ds_state"] for t in doc["teams"])
    counted = {}
    for d in server.fixture.dossiers:
        counted[d["state"]] = counted.get(d["state"], 0) + 1
    assert doc["states"] == counted
    assert not [t for t in doc["teams"] if t["ds_state"] == "en_construction" and t["action"] == "created"]


def test_dry_run_writes_nothing(demo_db, server, ds_map):
    before = dump_hash(demo_db)
    out = ok(sync(demo_db, server, "--map", ds_map, "--dry-run", lang="en")).stdout
    assert "Dry run: nothing was written." in out and "would be imported" in out
    doc = data(sync(demo_db, server, "--map", ds_map, "--dry-run", "--json"))
    assert doc["dry_run"] is True and [t for t in doc["teams"] if t["action"] == "created"]
    assert dump_hash(demo_db) == before


def test_a_bad_token_is_one_line_without_the_token(demo_db, server):
    before = dump_hash(demo_db)
    wrong = "wrong-token-0123456789abcdef"
    line = fails(sync(demo_db, server, env=env_of(server, PREINCUB_DS_TOKEN=wrong), lang="en"), 1)
    assert wrong not in line and server.token not in line and "token" in line.lower()
    assert dump_hash(demo_db) == before


def test_no_token_set_is_one_line(demo_db, server):
    line = fails(sync(demo_db, server, env={"PREINCUB_DS_URL": server.url, "PREINCUB_DS_TOKEN": None}, lang="en"), 1)
    assert "PREINCUB_DS_TOKEN" in line
    assert not server.requests  # nothing asked of DS


def test_an_unreachable_ds_is_one_line(demo_db, server, no_backoff):
    dead = "http://127.0.0.1:9/api/v2/graphql"  # the discard port: refused at once
    before = dump_hash(demo_db)
    fails(sync(demo_db, server, env=env_of(server, PREINCUB_DS_URL=dead), lang="en"), 1)
    assert dump_hash(demo_db) == before and no_backoff  # retried with backoff first


def test_a_bad_map_and_a_bad_number_are_one_line(demo_db, server, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[columns\n", encoding="utf-8")
    fails(sync(demo_db, server, "--map", str(bad), lang="en"), 1, "not valid TOML")
    r = invoke("intake", "ds", "sync", "--demarche", "abc", "--programme", PROG, db=demo_db, env=env_of(server))
    assert r.exit_code == 2 and "Traceback" not in r.stderr


# ---- settings ---------------------------------------------------------------------------------------

def test_ds_settings():
    s = Settings()
    assert s.ds.url == DS_URL and s.ds.token is None and s.ds.every is None and s.ds.demarches == {}
    s = Settings(ds_token="s3cret-token-value", ds_sync_every="1h30m",
                 ds_demarches="12345=Pré-incubation 2024; 678=Accélération")
    assert s.ds.token == "s3cret-token-value" and "s3cret" not in repr(s.ds) and "s3cret" not in repr(s)
    assert s.ds.every == timedelta(hours=1, minutes=30)
    assert s.ds.demarches == {12345: "Pré-incubation 2024", 678: "Accélération"}
    assert Settings(ds_demarches='{"12345": "Pré-incubation 2024"}').ds.demarches == {12345: "Pré-incubation 2024"}
    assert Settings(ds_sync_every="30m").ds.every == timedelta(minutes=30)
    assert s.redact("refused: s3cret-token-value") == "refused: ***"


@pytest.mark.parametrize(("name", "value", "said"), [
    ("ds_sync_every", "soon", "PREINCUB_DS_SYNC_EVERY='soon': give a duration"),
    ("ds_sync_every", "10s", "between 1 minute and 7 days"),
    ("ds_demarches", "12345", "PREINCUB_DS_DEMARCHES='12345': give NUMBER=PROGRAMME"),
    ("ds_demarches", "abc=Prog", "each démarche is a number"),
])
def test_bad_ds_settings_are_one_line_naming_the_variable(name, value, said):
    with pytest.raises(Invalid) as e:
        _ = Settings(**{name: value}).ds
    assert said in e.value.text("en") and "\n" not in e.value.text("en")


def test_the_env_is_read(monkeypatch):
    monkeypatch.setenv("PREINCUB_DS_DEMARCHES", "4242=Pré-incubation 2020")
    monkeypatch.setenv("PREINCUB_DS_SYNC_EVERY", "1h")
    monkeypatch.setenv("PREINCUB_DS_TOKEN", "tok-from-env")
    s = Settings()
    assert s.ds.demarches == {4242: "Pré-incubation 2020"} and s.ds.every == timedelta(hours=1)
    assert s.ds.token == "tok-from-env" and "tok-from-env" in s.secrets()


# ---- partners' INSEE codes --------------------------------------------------------------------------

def test_partner_insee(demo_db):
    ok(invoke("partner", "add", "Corse-du-Sud", "--programme", PROG, "--insee", "2a", db=demo_db))
    ok(invoke("partner", "edit", "Somme", "--programme", PROG, "--insee", "80", db=demo_db))
    ok(invoke("partner", "add", "Guadeloupe", "--programme", PROG, "--insee", "971", db=demo_db))
    doc = data(invoke("programme", "show", PROG, "--json", db=demo_db))
    codes = {p["name"]: p["insee"] for p in doc["partners"]}
    assert codes["Corse-du-Sud"] == "2A" and codes["Somme"] == "80" and codes["Guadeloupe"] == "971"
    assert codes["Nord"] is None
    from tests.commands.test_schema import conforms

    conforms("programme-show", doc)
    conforms("programme-list", data(invoke("programme", "list", "--json", db=demo_db)))
    assert "Somme (80)" in ok(invoke("programme", "show", PROG, db=demo_db, lang="en")).stdout
    history = data(invoke("audit", "verify", "--json", db=demo_db))
    assert history
    before = dump_hash(demo_db)
    for bad in ("20", "99", "977", "A2", "8O", "<b>80</b>"):
        fails(invoke("partner", "edit", "Nord", "--programme", PROG, "--insee", bad, db=demo_db, lang="en"), 1,
              "INSEE code")
    fails(invoke("partner", "edit", "Nord", "--programme", PROG, "--insee", "80", db=demo_db, lang="en"), 1,
          "'Somme'", "already has the INSEE code 80")
    fails(invoke("partner", "add", "Aisne", "--programme", PROG, "--insee", "1000", db=demo_db, lang="en"), 1)
    assert dump_hash(demo_db) == before
    ok(invoke("partner", "edit", "Somme", "--programme", PROG, "--no-insee", db=demo_db))
    assert {p["name"]: p["insee"] for p in data(invoke("programme", "show", PROG, "--json",
                                                       db=demo_db))["partners"]}["Somme"] is None
    r = invoke("partner", "edit", "Somme", "--programme", PROG, db=demo_db, lang="en")
    assert r.exit_code == 2 and "--insee" in r.stderr


def test_a_partners_insee_code_matches_a_ds_departement(demo_db, server, ds_map):
    """"Corse-du-Sud (2A)" and "2A - Corse-du-Sud" go to the partner whose code is 2A, whatever its name."""
    ok(invoke("partner", "add", "Département de Corse du Sud", "--programme", PROG, "--insee", "2A", db=demo_db))
    doc = data(sync(demo_db, server, "--map", ds_map, "--json"))
    corse = [t for t in doc["teams"] if t["action"] == "created" and "Corse" in (t["name"] or "")]
    assert all(t["partner"] == "Département de Corse du Sud" for t in corse)
    assert "Corse-du-Sud" not in doc["partners"]


# ---- the daemon ---------------------------------------------------------------------------------------

def _daemon_wf(db, server, **settings):
    from tests.web.helpers import NOW
    from workflow.api import Workflow
    from workflow.clock import FixedClock

    values = {"ds_url": server.url, "ds_token": server.token, "ds_sync_every": "1h",
              "ds_demarches": f"{DEMARCHE}={PROG}", **settings}
    return Workflow.open(str(db), clock=FixedClock(NOW), actor="camille.lefebvre@beta.example",
                         settings=Settings(**values))


def test_the_daemon_syncs_due_demarches_records_a_failure_and_retries_an_interval_later(demo_db, server):
    from tests.web.helpers import NOW
    from workflow.clock import FixedClock
    from workflow.services.daemon import sync_ds

    wf = _daemon_wf(demo_db, server, ds_token="wrong-token-0123456789")
    try:
        tried = sync_ds(wf)
        assert len(tried) == 1 and tried[0][0] == DEMARCHE and tried[0][1]
        assert "wrong-token" not in tried[0][1]
        # never synced, its failure is in the store with its programme (no memory of this process's)
        [st] = wf.ds.states()
        assert (st.demarche, st.programme, st.synced_at) == (DEMARCHE, PROG, None) and st.failed_at and st.error
        assert sync_ds(wf) == []  # retried at the next interval, not at every tick
    finally:
        wf.close()
    wf = _daemon_wf(demo_db, server).at(FixedClock(NOW + timedelta(hours=1, minutes=1)))
    try:
        assert sync_ds(wf) == [(DEMARCHE, None)]
        first = len(server.requests)
        assert sync_ds(wf) == []  # synced: not due again within the hour
        assert len(server.requests) == first
        wf.ds.want(DEMARCHE)  # DS's webhook: due at once
        assert sync_ds(wf) == [(DEMARCHE, None)]
        states = {st.demarche: st for st in wf.ds.states()}
        assert states[DEMARCHE].synced_at is not None
    finally:
        wf.close()
    # unset: the daemon does not sync
    wf = _daemon_wf(demo_db, server, ds_sync_every=None)
    try:
        assert sync_ds(wf) == []
    finally:
        wf.close()


def test_daemon_status_shows_each_demarches_last_sync_and_failure(demo_db, server, ds_map, no_backoff):
    from tests.commands.test_schema import conforms
    from workflow.services.daemon import sync_ds

    ok(sync(demo_db, server, "--map", ds_map))
    wf = _daemon_wf(demo_db, server, ds_url="http://127.0.0.1:9/api/v2/graphql")
    try:
        wf.ds.want(DEMARCHE)
        assert sync_ds(wf)[0][1]  # DS unreachable: recorded
    finally:
        wf.close()
    env = {"PREINCUB_DS_SYNC_EVERY": "1h", "PREINCUB_DS_DEMARCHES": f"{DEMARCHE}={PROG}",
           "PREINCUB_DS_TOKEN": server.token}
    r = invoke("daemon", "status", "--json", db=demo_db, env=env)
    doc = json.loads(r.stdout)
    conforms("daemon-status", doc)
    [st] = [d for d in doc["ds"] if d["demarche"] == DEMARCHE]
    assert st["programme"] == PROG and st["synced_at"] and st["failed_at"] and st["error"]
    assert "ds_failed" in doc["problems"] and r.exit_code == 1
    out = invoke("daemon", "status", db=demo_db, env=env, lang="en").stdout
    assert f"Démarche {DEMARCHE}" in out and "failed" in out


def test_the_daemon_refuses_to_start_syncing_without_a_token(demo_db):
    r = invoke("daemon", "--once", db=demo_db, env={"PREINCUB_DS_SYNC_EVERY": "1h", "PREINCUB_DS_TOKEN": None},
               lang="en")
    fails(r, 1, "PREINCUB_DS_TOKEN")


def test_a_dossier_that_cannot_be_a_team_is_said_in_the_table_s_language(demo_db, server, ds_map):
    bad = next(d for d in server.fixture.dossiers if d["state"] in IMPORTED)
    server.fixture.touch(bad["number"], Q2hhbXAtMTA2="pas-un-email")
    out = ok(sync(demo_db, server, "--map", ds_map, env={**env_of(server), "COLUMNS": "400"})).stdout
    assert "l'intrapreneur\u00a0: 'pas-un-email' n'est pas une adresse e-mail" in out
    assert "is not an e-mail address" not in out
    doc = data(sync(demo_db, server, "--map", ds_map, "--json"))  # read again, and still a problem
    (again,) = [t for t in doc["teams"] if t["ds_number"] == bad["number"]]
    assert again["action"] == "problem" and "is not an e-mail address" in again["reason"]  # --json: English


def test_team_show_names_the_dossier_and_flags_its_deletion(demo_db, server, ds_map):
    ok(sync(demo_db, server, "--map", ds_map))
    team = next(t for t in data(invoke("team", "list", "--json", db=demo_db)) if "n°" in t["name"])
    number = int(team["name"].rsplit("n°", 1)[1])
    shown = data(invoke("team", "show", team["name"], "--json", db=demo_db))
    assert shown["ds"]["number"] == number and shown["ds"]["deleted_at"] is None
    server.fixture.delete(number, reason="user_request")
    ok(sync(demo_db, server, "--map", ds_map))
    shown = data(invoke("team", "show", team["name"], "--json", db=demo_db))
    assert shown["ds"]["deleted_at"] is not None
    text = ok(invoke("team", "show", team["name"], db=demo_db, env={"COLUMNS": "300"})).stdout
    assert f"dossier {number} de la démarche {DEMARCHE}" in text and "supprimé dans DS le" in text
