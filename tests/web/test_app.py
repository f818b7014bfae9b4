"""The store's file deleted or replaced under the web service: every request gets a 503 page in the
visitor's language (never the old file's data) until the service is restarted; the new file is left
intact."""

from __future__ import annotations

import http.cookiejar
import os
import shutil
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from tests.smtp import free_port
from tests.web.helpers import COORD, CSRF, KEY, NOW, signin
from tests.scenarios.test_browser_checkin import wait_port
from workflow.api import Workflow
from workflow.clock import FixedClock

ROOT = Path(__file__).resolve().parents[2]
PREINCUB = str(Path(sys.executable).with_name("preincub"))


def other_store(path: Path) -> Path:
    w = Workflow.open(str(path), create=True, actor=COORD, clock=FixedClock(NOW))
    w.directory.add_programme("Autre programme", date(2020, 6, 23))
    w.close()
    return path


def replace(store: Path, other: Path) -> None:
    """`cp other.db x && mv x store.db`."""
    shutil.copy(other, store.parent / "x")
    os.replace(store.parent / "x", store)


def intact(store: Path) -> None:
    con = sqlite3.connect(store)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert [r[0] for r in con.execute("SELECT name FROM programme")] == ["Autre programme"]
    finally:
        con.close()


@pytest.mark.parametrize("how", ["replaced", "deleted"])
def test_every_request_gets_503_once_the_file_is_gone(client, wf, store, tmp_path, how):
    signin(client, wf, COORD)
    assert client.get("/").status_code == 200
    if how == "replaced":
        replace(store, other_store(tmp_path / "other.db"))
    else:
        store.unlink()
    for path, lang in (("/", "fr"), ("/team/Insertion%20RSA", "en"), ("/signin/x", "en"), ("/static/style.css", "fr"),
                       ("/nowhere", "en")):
        r = client.get(path, headers={"Accept-Language": lang})
        assert r.status_code == 503, path
        assert f'lang="{lang}"' in r.text and "Pré-incubation 2020" not in r.text and str(store) not in r.text
    assert "unavailable for now" in client.get("/", headers={"Accept-Language": "en"}).text
    assert client.post("/signout").status_code == 503
    assert client.get("/healthz").status_code == 503
    assert not any(p.name.startswith("demo.db-") for p in store.parent.iterdir())  # the old -wal and -shm are gone
    if how == "replaced":
        intact(store)


@pytest.mark.slow
def test_a_running_serve_stops_showing_a_replaced_store(store, wf, tmp_path):
    """A real `preincub serve`: a signed-in board, the file replaced (`cp` then `mv`), then 503 for
    every page, never the deleted file's data; the new store opens intact."""
    other = other_store(tmp_path / "other.db")
    url, _grant = wf.links.signin_url(COORD)
    wf.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREINCUB_")}
    env.update(PREINCUB_DB=str(store), PREINCUB_NOW=NOW.isoformat(), PREINCUB_SECRET_KEY=KEY, PREINCUB_BASE_URL=base,
               PYTHONPATH=str(ROOT))
    server = subprocess.Popen([PREINCUB, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        """GET ``path``, or POST ``form`` to it."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with opener.open(base + path, data=data, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    try:
        wait_port(port, server)
        path = "/signin/" + url.rsplit("/signin/", 1)[1]
        status, page = get(path)  # the link's page, then its button
        assert status == 200 and "Pré-incubation 2020" not in page
        status, page = get(path, {"csrf_token": CSRF.search(page).group(1)})
        assert status == 200 and "Pré-incubation 2020" in page
        replace(store, other)
        for path in ("/", "/team/Insertion%20RSA", "/healthz"):
            status, page = get(path)
            assert status == 503 and "Pré-incubation 2020" not in page and "Insertion RSA" not in page, (path, status)
    finally:
        server.terminate()
        server.communicate(timeout=20)
    assert not any(p.name.startswith("demo.db-") for p in store.parent.iterdir())
    intact(store)
    r = subprocess.run([PREINCUB, "--db", str(store), "--as", COORD, "--lang", "en", "programme", "list"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "Autre programme" in r.stdout, r.stderr
    intact(store)
