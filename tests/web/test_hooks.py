"""POST /hooks/ds, Démarches Simplifiées' unsigned hint that a dossier changed (Flask's test client over
the demo store): it only marks the démarche wanted, answers 204 known or not, 400 for a procedure_id
that is not a number, needs no session nor CSRF token, and writes nothing else."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import timedelta

import pytest

from tests.web.helpers import settings

ds_server = pytest.importorskip("tests.ds_server", reason="graphql-core is a test extra: pip install -e '.[test]'")
PROG = "Pré-incubation 2020"
FORM = {"dossier_id": "10002", "state": "en_instruction", "updated_at": "2026-01-07 10:00:00 +0100"}


def _hash(path) -> str:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return hashlib.sha256("\n".join(con.iterdump()).encode()).hexdigest()
    finally:
        con.close()


@pytest.fixture
def synced(store, wf):
    """The demo store with démarche 4242 synced once (a handful of dossiers)."""
    with ds_server.DsServer(ds_server.dossiers_fixture(6)) as ds:
        w = wf.__class__.open(str(store), clock=wf.clock, actor="camille.lefebvre@beta.example",
                              settings=settings(ds_url=ds.url, ds_token=ds.token))
        try:
            w.ds.sync(ds.demarche, PROG)
        finally:
            w.close()
    return ds.demarche


def test_a_hint_marks_the_demarche_wanted_and_answers_204(client, wf, synced):
    every = timedelta(days=7)
    assert synced not in {d for d, _p in wf.ds.due(every)}  # just synced
    r = client.post("/hooks/ds", data={"procedure_id": str(synced), **FORM})  # no session, no CSRF token
    assert r.status_code == 204 and r.data == b""
    assert synced in {d for d, _p in wf.ds.due(every)}


def test_an_unknown_demarche_gets_the_same_204_and_nothing_is_written(client, store):
    before = _hash(store)
    r = client.post("/hooks/ds", data={"procedure_id": "987654", **FORM})
    assert r.status_code == 204 and r.data == b""
    assert _hash(store) == before


@pytest.mark.parametrize("form", [{}, {"procedure_id": ""}, {"procedure_id": "abc"}, {"procedure_id": "-4"},
                                  {"procedure_id": "4242; DROP TABLE team"}, {"procedure_id": "１２"},
                                  {"procedure_id": "9" * 40}])
def test_a_missing_or_bad_procedure_id_is_400(client, store, form):
    before = _hash(store)
    r = client.post("/hooks/ds", data={**FORM, **form})
    assert r.status_code == 400
    assert b"DROP TABLE" not in r.data
    assert _hash(store) == before


def test_only_post(client):
    r = client.get("/hooks/ds")
    assert r.status_code == 405 and "POST" in r.headers["Allow"]


def test_other_forms_keep_their_csrf_check(client):
    """The hook's exemption is its own: sign-out posted without a CSRF token is still refused."""
    r = client.post("/signout")
    assert r.status_code == 400 and "renvoyez le formulaire" in r.get_data(as_text=True)
