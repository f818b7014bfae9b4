"""The Démarches Simplifiées client against a local DS (tests/ds_server.py: real HTTP, queries executed by
graphql-core against a schema of DS's API v2): paging, throttling, retries, errors, parsing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

graphql = pytest.importorskip("graphql", reason="graphql-core is not installed: pip install graphql-core (the test "
                                                "extra)")

from tests.ds_server import DEMARCHE, DsServer, Fixture, dossiers_fixture
from workflow.formats.ds import DELETED_QUERY, DOSSIERS_QUERY, PAGE_SIZE, DeletedDossier, Dossier, DsClient, DsError

PARIS = ZoneInfo("Europe/Paris")
TOKEN = "secret-Tok3n-never-shown"


def one_line(e: DsError) -> None:
    for shown in (str(e), e.text("fr"), e.text("en")):
        assert shown and "\n" not in shown and "Traceback" not in shown


def dossier_requests(ds: DsServer) -> list[dict]:
    return [r for r in ds.requests if "deletedDossiers" not in r["query"]]


def test_250_dossiers_come_in_three_pages_of_at_most_100_each_asking_after_the_last_cursor():
    with DsServer() as ds, ds.client() as client:
        pages = list(client.dossiers(DEMARCHE))
    assert [len(p.dossiers) for p in pages] == [100, 100, 50]
    assert [p.has_next for p in pages] == [True, True, False]
    sent = [r["variables"] for r in ds.requests]
    assert [v["first"] for v in sent] == [PAGE_SIZE] * 3
    assert [v["after"] for v in sent] == [None, pages[0].end_cursor, pages[1].end_cursor]
    assert all(v["updatedSince"] is None and v["demarche"] == DEMARCHE for v in sent)
    assert all(r["authorized"] for r in ds.requests)  # Authorization: Bearer <token>
    numbers = [d.number for p in pages for d in p.dossiers]
    assert sorted(numbers) == sorted(d["number"] for d in ds.fixture.dossiers) and len(set(numbers)) == 250
    assert {d.state for p in pages for d in p.dossiers} == {"en_construction", "en_instruction", "accepte", "refuse",
                                                            "sans_suite"}


def test_pages_are_asked_for_one_at_a_time_as_the_caller_goes():
    with DsServer() as ds, ds.client() as client:
        pages = client.dossiers(DEMARCHE)
        assert ds.requests == []
        next(pages)
        assert len(ds.requests) == 1


def test_updated_since_and_a_cursor_are_passed_and_only_later_changes_come():
    fixture = dossiers_fixture(250)
    since = datetime(2026, 1, 30, 12, 0, tzinfo=PARIS)
    later = [d["number"] for d in fixture.dossiers if datetime.fromisoformat(d["dateDerniereModification"]) >= since]
    assert 0 < len(later) < 250
    with DsServer(fixture) as ds, ds.client() as client:
        pages = list(client.dossiers(DEMARCHE, updated_since=since))
        assert sorted(d.number for p in pages for d in p.dossiers) == sorted(later)
        assert {datetime.fromisoformat(r["variables"]["updatedSince"]) for r in ds.requests} == {since}
        first = next(client.dossiers(DEMARCHE))
        resumed = list(client.dossiers(DEMARCHE, after=first.end_cursor))
    assert ds.requests[-len(resumed)]["variables"]["after"] == first.end_cursor
    assert [len(p.dossiers) for p in resumed] == [100, 50]


def test_a_429_with_retry_after_on_page_2_waits_as_told_and_goes_on():
    with DsServer(fail={"429_on_page": 2, "retry_after": 7}) as ds, ds.client() as client:
        pages = list(client.dossiers(DEMARCHE))
    assert ds.waits == [7.0]
    assert [len(p.dossiers) for p in pages] == [100, 100, 50]
    after = [r["variables"]["after"] for r in ds.requests]
    assert after[1] == after[2] == pages[0].end_cursor  # page 2 asked again, nothing skipped


def test_a_429_with_ratelimit_reset_waits_until_the_reset():
    with DsServer(fail={"429_on_page": 1, "ratelimit_reset": 3, "429_times": 2}) as ds, ds.client() as client:
        pages = list(client.dossiers(DEMARCHE))
    assert ds.waits == [3.0, 3.0] and len(pages) == 3


def test_a_429_asking_for_a_long_wait_is_one_line_not_an_hour_asleep():
    with (DsServer(fail={"429_on_page": 1, "retry_after": 3600}) as ds, ds.client() as client,
          pytest.raises(DsError) as caught):
        list(client.dossiers(DEMARCHE))
    assert caught.value.code == "ds_unreachable" and ds.waits == []
    one_line(caught.value)


def test_5xx_answers_are_retried_with_a_growing_wait():
    with DsServer(fail={"500_times": 3, "500_status": 502}) as ds, ds.client() as client:
        pages = list(client.dossiers(DEMARCHE))
    assert ds.waits == [1.0, 2.0, 4.0] and [len(p.dossiers) for p in pages] == [100, 100, 50]


def test_network_errors_are_retried():
    with DsServer(fail={"drop_times": 2}) as ds, ds.client() as client:
        pages = list(client.dossiers(DEMARCHE))
    assert ds.waits == [1.0, 2.0] and len(pages) == 3


def test_5xx_after_every_retry_is_one_line():
    with DsServer(fail={"500_times": 100}) as ds, ds.client(retries=3) as client, pytest.raises(DsError) as caught:
        list(client.dossiers(DEMARCHE))
    assert caught.value.code == "ds_unreachable" and "500" in str(caught.value)
    assert ds.waits == [1.0, 2.0, 4.0] and len(ds.requests) == 4
    one_line(caught.value)


def test_a_server_that_does_not_answer_is_one_line_after_the_retries():
    with DsServer() as ds:
        url = ds.url
    waits: list[float] = []
    with DsClient(url, TOKEN, sleep=waits.append, retries=2, timeout=2) as client, pytest.raises(DsError) as caught:
        list(client.dossiers(DEMARCHE))
    assert caught.value.code == "ds_unreachable" and waits == [1.0, 2.0]
    assert "3 attempts" in str(caught.value)
    one_line(caught.value)
    assert TOKEN not in str(caught.value)


def test_a_root_errors_entry_stops_with_ds_message_after_the_pages_before_it():
    message = "Le serveur a rencontré une erreur « inattendue »"
    with DsServer(fail={"errors_on_page": 3, "error_message": message}) as ds, ds.client() as client:
        got = []
        with pytest.raises(DsError) as caught:
            got.extend(client.dossiers(DEMARCHE))
        assert [len(p.dossiers) for p in got] == [100, 100]
        assert caught.value.code == "ds_error" and message in str(caught.value) and message in caught.value.text("fr")
        one_line(caught.value)
        del ds.fail["errors_on_page"]  # resumed from the last page kept
        rest = list(client.dossiers(DEMARCHE, after=got[-1].end_cursor))
    assert [len(p.dossiers) for p in rest] == [50]


def test_ds_echoing_the_token_in_its_error_never_shows_it():
    with DsServer() as ds:
        ds.fail.update({"errors_on_page": 1, "error_message": f"bad request with Bearer {ds.token} attached"})
        with ds.client() as client, pytest.raises(DsError) as caught:
            list(client.dossiers(DEMARCHE))
    shown = str(caught.value) + caught.value.text("fr") + repr(caught.value.params)
    assert caught.value.code == "ds_error" and ds.token not in shown and "attached" in shown


def test_an_unknown_demarche_is_ds_own_error():
    with DsServer() as ds, ds.client() as client, pytest.raises(DsError) as caught:
        list(client.dossiers(DEMARCHE + 1))
    assert caught.value.code == "ds_error" and "Demarche not found" in str(caught.value)


@pytest.mark.parametrize("refusal", [403, 401, "graphql", "hidden"])
def test_a_bad_token_is_one_line_that_does_not_show_it(refusal):
    fail = {"unauthorized": refusal}
    with DsServer(fail=fail) as ds, DsClient(ds.url, TOKEN, sleep=ds.waits.append) as client:
        with pytest.raises(DsError) as caught:
            list(client.dossiers(DEMARCHE))
        with pytest.raises(DsError) as deleted:
            client.deleted(DEMARCHE)
    for e in (caught.value, deleted.value):
        assert e.code == "ds_bad_token" and "token" in str(e)
        one_line(e)
        assert TOKEN not in str(e) and TOKEN not in e.text("fr") and TOKEN not in repr(e.params)
    assert len(ds.requests) == 2 and ds.waits == []  # not retried
    assert TOKEN not in repr(client)


@pytest.mark.parametrize("token", ["", "with space", "new\nline", "accentué"])
def test_a_malformed_token_is_refused_before_any_request_without_showing_it(token):
    with pytest.raises(DsError) as caught:
        DsClient("https://ds.example/api/v2/graphql", token)
    assert caught.value.code == "ds_bad_token"
    if token:
        assert token not in str(caught.value)


@pytest.mark.parametrize("url", ["ftp://ds.example/graphql", "not a url", "https://"])
def test_an_url_that_is_not_http_is_refused(url):
    with pytest.raises(DsError) as caught:
        DsClient(url, TOKEN)
    assert caught.value.code == "ds_bad_url"
    one_line(caught.value)


def test_the_queries_sent_are_valid_against_the_schema():
    schema = graphql.build_schema(DsServer.SCHEMA_SDL)
    for query in (DOSSIERS_QUERY, DELETED_QUERY):
        assert graphql.validate(schema, graphql.parse(query)) == []
    fixture = dossiers_fixture(120)
    fixture.delete(10_004)
    with DsServer(fixture) as ds, ds.client() as client:
        list(client.dossiers(DEMARCHE, updated_since=datetime(2026, 1, 1, tzinfo=PARIS)))
        client.deleted(DEMARCHE, since=datetime(2026, 1, 1, tzinfo=PARIS))
    assert len(ds.requests) == 3
    for request in ds.requests:
        document = graphql.parse(request["query"])
        assert graphql.validate(schema, document) == []
        result = graphql.execute_sync(schema, document, variable_values=request["variables"],
                                      root_value={"demarche": lambda info, number: None})
        assert not any("Variable" in e.message for e in result.errors or ())  # the variables fit their types


def test_deleted_reads_every_page_of_deleted_dossiers():
    fixture = dossiers_fixture(250)
    base = datetime(2026, 3, 1, 10, 0, tzinfo=PARIS)
    for i, d in enumerate(list(fixture.dossiers[:130])):
        fixture.delete(d["number"], reason=("user_request", "expired", "procedure_removed")[i % 3],
                       when=base + timedelta(minutes=i))
    with DsServer(fixture) as ds, ds.client() as client:
        gone = client.deleted(DEMARCHE)
        recent = client.deleted(DEMARCHE, since=base + timedelta(minutes=100))
        pages = list(client.dossiers(DEMARCHE))
    assert len(gone) == 130 and all(isinstance(g, DeletedDossier) for g in gone)
    assert sorted(g.number for g in gone) == list(range(10_001, 10_131))
    assert {g.reason for g in gone} == {"user_request", "expired", "procedure_removed"}
    assert gone[0].deleted_at == base and gone[0].deleted_at.tzinfo is not None
    assert [g.number for g in recent] == list(range(10_101, 10_131))
    assert len([r for r in ds.requests if "deletedDossiers" in r["query"]]) == 3  # 100 + 30, then 30
    assert sum(len(p.dossiers) for p in pages) == 120


def test_dossiers_are_read_whole_with_tz_aware_dates():
    fixture = dossiers_fixture(20)
    with DsServer(fixture) as ds, ds.client() as client:
        dossiers = [d for p in client.dossiers(DEMARCHE) for d in p.dossiers]
    by_number = {d.number: d for d in dossiers}
    raw = fixture.dossier(10_002)
    d = by_number[10_002]
    assert isinstance(d, Dossier) and d.id == raw["id"] and d.state == raw["state"]
    assert d.updated_at == datetime.fromisoformat(raw["dateDerniereModification"])
    for one in dossiers:
        assert one.updated_at.tzinfo is not None and one.deposited_at.tzinfo is not None
    assert d.usager_email == raw["usager"]["email"]
    assert d.demandeur is not None and d.demandeur.nom == raw["demandeur"]["nom"]
    assert d.demandeur.civilite in ("M", "Mme")
    assert [(c.label, c.descriptor_id, c.value) for c in d.champs] == [
        (c["label"], c["champDescriptorId"], c["stringValue"]) for c in raw["champs"]]
    assert [c.label for c in d.champs].count("Nom") == 2
    assert len({c.descriptor_id for c in d.champs}) == len(d.champs)  # two "Nom", told apart by id
    morale = by_number[10_020]  # filed by a company: no PersonnePhysique
    assert fixture.dossier(10_020)["demandeur"]["__typename"] == "PersonneMorale"
    assert morale.demandeur is None and morale.usager_email
    assert by_number[10_004].motivation  # a refused one carries DS's motivation


def test_hostile_text_passes_through_unchanged():
    fixture = dossiers_fixture(3)
    long = "É" * 100_000
    hostile = {
        "Nom du projet": "<script>alert('x')</script> & \"quotes\" {team} %s",
        "Problème public": long,
        "Département": "=HYPERLINK(\"http://evil\")\n80 - Somme\x1b[31m",
    }
    fixture.touch(10_002, **hostile)
    raw = fixture.dossier(10_002)
    raw["motivation"] = "<b>refusé</b>\r\n" + "x" * 5000
    raw["demandeur"]["nom"] = "O'Brien <img src=x onerror=alert(1)>"
    with DsServer(fixture) as ds, ds.client() as client:
        d = next(d for p in client.dossiers(DEMARCHE) for d in p.dossiers if d.number == 10_002)
    values = {c.label: c.value for c in d.champs}
    for label, value in hostile.items():
        assert values[label] == value
    assert d.motivation == raw["motivation"] and d.demandeur.nom == raw["demandeur"]["nom"]


def test_a_thousand_dossiers_come_in_ten_pages():
    """Their speed is measured by benchmarks/ds.py (against a raw baseline), not here."""
    with DsServer(dossiers_fixture(1000)) as ds, ds.client() as client:
        pages = list(client.dossiers(DEMARCHE))
    assert len(pages) == 10 and sum(len(p.dossiers) for p in pages) == 1000
    assert len({d.number for p in pages for d in p.dossiers}) == 1000


def answering(*bodies: object, status: int = 200) -> httpx.MockTransport:
    """A transport answering each request with the next body (the last one repeated)."""
    left = list(bodies)

    def handler(request: httpx.Request) -> httpx.Response:
        body = left.pop(0) if len(left) > 1 else left[0]
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(status, content=content, headers={"Content-Type": "application/json"})

    return httpx.MockTransport(handler)


def page(nodes: list, cursor: str | None = "c1", has_next: bool = True) -> dict:
    return {"data": {"demarche": {"dossiers": {"pageInfo": {"hasNextPage": has_next, "endCursor": cursor},
                                               "nodes": nodes}}}}


@pytest.mark.parametrize("answer, status", [
    (b"<html>Maintenance</html>", 200),
    ({"data": None}, 200),
    ({"data": {"demarche": {"dossiers": None}}}, 200),
    (page([{"id": "x", "number": "not a number"}]), 200),
    (page([{"id": "x", "number": 1, "state": "accepte", "dateDerniereModification": "hier"}]), 200),
    ({"data": {}}, 404),
])
def test_an_answer_not_shaped_as_the_api_is_one_line(answer, status):
    client = DsClient("https://ds.example/api/v2/graphql", TOKEN, sleep=lambda s: None,
                      transport=answering(answer, status=status))
    with client, pytest.raises(DsError) as caught:
        list(client.dossiers(DEMARCHE))
    assert caught.value.code == "ds_bad_answer"
    one_line(caught.value)


@pytest.mark.parametrize("cursor, after", [("same", None), (None, None), ("start", "start")])
def test_a_cursor_that_does_not_move_is_an_error_not_an_endless_loop(cursor, after):
    client = DsClient("https://ds.example/api/v2/graphql", TOKEN, sleep=lambda s: None,
                      transport=answering(page([], cursor=cursor)))
    with client, pytest.raises(DsError) as caught:
        list(client.dossiers(DEMARCHE, after=after))
    assert caught.value.code == "ds_bad_answer"
    one_line(caught.value)


def test_a_date_without_an_offset_is_read_as_paris_time():
    node = {"id": "RG9zc2llci0x", "number": 1, "state": "accepte", "dateDepot": None,
            "dateDerniereModification": "2026-03-01T10:00:00", "motivation": None, "usager": {"email": "a@b.fr"},
            "demandeur": {}, "champs": []}
    client = DsClient("https://ds.example/api/v2/graphql", TOKEN, transport=answering(page([node], None, False)))
    with client:
        (only,) = list(client.dossiers(DEMARCHE))
    d = only.dossiers[0]
    assert d.updated_at == datetime(2026, 3, 1, 10, 0, tzinfo=PARIS) and d.deposited_at is None
    assert d.demandeur is None


def test_fixture_covers_every_state_and_the_ways_forms_write_a_departement():
    fixture: Fixture = dossiers_fixture()
    assert len(fixture.dossiers) == 250
    assert {d["state"] for d in fixture.dossiers[:5]} == {"en_construction", "en_instruction", "accepte", "refuse",
                                                          "sans_suite"}
    departements = {c["stringValue"] for d in fixture.dossiers for c in d["champs"] if c["label"] == "Département"}
    assert {"80 - Somme", "Somme (80)", "somme", "80"} <= departements
    assert dossiers_fixture(seed=1) == dossiers_fixture(seed=1)


def scripted(*answers: tuple[int, dict, object]) -> httpx.MockTransport:
    """A transport giving each (status, headers, body) in turn, the last one repeated."""
    left = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        status, headers, body = left.pop(0) if len(left) > 1 else left[0]
        return httpx.Response(status, headers=headers, content=json.dumps(body).encode())

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("headers, wait", [
    ({"Retry-After": "12"}, 12.0),
    ({"RateLimit-Reset": "4"}, 4.0),
    ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date already past: no wait
    ({}, 1.0),
])
def test_a_429_waits_as_its_headers_say(headers, wait):
    waits: list[float] = []
    client = DsClient("https://ds.example/api/v2/graphql", TOKEN, sleep=waits.append,
                      transport=scripted((429, headers, {}), (200, {}, page([], None, False))))
    with client:
        assert len(list(client.dossiers(DEMARCHE))) == 1
    assert waits == [wait]


def test_a_429_without_end_is_one_line():
    with DsServer(fail={"429_on_page": 1, "429_times": 1000}) as ds, ds.client() as client, \
            pytest.raises(DsError) as caught:
        list(client.dossiers(DEMARCHE))
    assert caught.value.code == "ds_unreachable" and len(ds.waits) == 20
    one_line(caught.value)


def test_a_400_with_a_graphql_error_is_ds_message():
    body = {"data": None, "errors": [{"message": "Parse error on \"}\" (RCURLY) at [1, 2]",
                                      "extensions": {"code": "graphql_parse_failed"}}]}
    client = DsClient("https://ds.example/api/v2/graphql", TOKEN, transport=scripted((400, {}, body)))
    with client, pytest.raises(DsError) as caught:
        client.deleted(DEMARCHE)
    assert caught.value.code == "ds_error" and "Parse error" in str(caught.value)


def test_a_dossier_changed_while_paging_is_listed_again_and_none_is_skipped():
    with DsServer() as ds, ds.client() as client:
        pages = client.dossiers(DEMARCHE)
        first = next(pages)
        moved = first.dossiers[10].number
        ds.fixture.touch(moved, **{"Nom du projet": "Renommé en cours de route"})
        rest = list(pages)
    seen = [d.number for p in (first, *rest) for d in p.dossiers]
    assert set(seen) == {d["number"] for d in ds.fixture.dossiers}
    assert seen.count(moved) == 2
    again = next(d for p in rest for d in p.dossiers if d.number == moved)
    assert {c.label: c.value for c in again.champs}["Nom du projet"] == "Renommé en cours de route"


def test_the_token_is_in_no_log_line(caplog):
    caplog.set_level("DEBUG")
    with DsServer(fail={"500_times": 1, "429_on_page": 2}) as ds, \
            DsClient(ds.url, ds.token, sleep=ds.waits.append) as client:
        list(client.dossiers(DEMARCHE))
        assert ds.token not in repr(client) and ds.token not in repr(client._http.headers)
    assert caplog.records and not any(ds.token in r.getMessage() for r in caplog.records)


def test_a_naive_since_is_refused():
    with DsServer() as ds, ds.client() as client, pytest.raises(ValueError):
        list(client.dossiers(DEMARCHE, updated_since=datetime(2026, 1, 1)))
