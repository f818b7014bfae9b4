"""Issue 20 on the web board, in headless Chromium against a real ``preincub serve`` (waitress): two
programmes with their own coordinators, each signed in through a one-hour link, see only their own
programme's teams; a partner body's reader sees only that body's teams.

Needs Debian's ``chromium`` and ``chromium-driver``; without them the tests are skipped, saying so.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from tests.browser import SHOTS, chromium, needs_chromium, not_blank
from tests.scenarios.test_browser_checkin import PREINCUB, wait_port
from tests.smtp import free_port
from tests.web.helpers import KEY
from workflow.api import Workflow
from workflow.clock import PARIS, FixedClock
from workflow.settings import Settings

pytestmark = [pytest.mark.slow, needs_chromium]

NOW = datetime(2020, 7, 20, 18, 0, tzinfo=PARIS)
ADMIN = "admin@example.org"
NORD, SUD = "Programme Nord", "Programme Sud"
COORD_NORD, COORD_SUD = "coord.nord@example.org", "coord.sud@example.org"
READER = "lecteur.aisne@example.org"  # partner reader of Aisne in Programme Nord
TEAMS = {  # team -> (programme, partner body)
    "Équipe Alpha": (NORD, "Aisne"),
    "Équipe Bravo": (NORD, "Oise"),
    "Équipe Charlie": (SUD, "Marne"),
    "Équipe Delta": (SUD, "Meuse"),
}


@pytest.fixture(scope="module")
def board(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A store with two programmes, served by ``preincub serve`` on a free loopback port: (base URL, store)."""
    db = tmp_path_factory.mktemp("scopes") / "store.db"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    wf = Workflow.open(str(db), clock=FixedClock(NOW), actor=ADMIN, create=True,
                       settings=Settings(base_url=base, secret_key=KEY))
    try:
        d = wf.directory
        d.add_person("Coordination Nord", COORD_NORD, ["sponsor"])
        d.add_person("Coordination Sud", COORD_SUD, ["sponsor"])
        d.add_person("Agente", "agente@example.org", ["intrapreneur"])
        d.add_programme(NORD, date(2020, 6, 23), coordinator=COORD_NORD)
        d.add_programme(SUD, date(2020, 6, 23), coordinator=COORD_SUD)
        for p, b in sorted(set(TEAMS.values())):
            d.add_partner(b, p)
        d.add_person("Lecteur Aisne", READER, ["partner"], programme=NORD, partner="Aisne")
        for name, (p, b) in TEAMS.items():
            wf.teams.add(name, p, b, problem="Un problème réel.", intrapreneurs=["agente@example.org"],
                         days_per_week=1)
    finally:
        wf.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREINCUB_")}
    env.update(PREINCUB_DB=str(db), PREINCUB_NOW=NOW.strftime("%Y-%m-%dT%H:%M"), PREINCUB_BASE_URL=base,
               PREINCUB_SECRET_KEY=KEY, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    server = subprocess.Popen([*PREINCUB, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        wait_port(port, server)
        yield base, db
    finally:
        server.terminate()
        server.communicate(timeout=20)


def link(board: tuple[str, Path], email: str) -> str:
    """A one-hour sign-in link for ``email``, made by the instance's administrator."""
    base, db = board
    wf = Workflow.open(str(db), clock=FixedClock(NOW), actor=ADMIN, settings=Settings(base_url=base, secret_key=KEY))
    try:
        return wf.links.signin_url(email)[0]
    finally:
        wf.close()


def board_seen_by(board: tuple[str, Path], email: str, shot: Path, *also: str) -> list[str]:
    """Sign ``email`` in through their link in Chromium: the board's visible text (screenshot in ``shot``),
    then that of each page ``also`` (a path) in the same session."""
    from selenium.webdriver.common.by import By

    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    texts = []
    with chromium(1100, 1200) as driver:
        driver.get(link(board, email))  # the link's page, then its button
        driver.find_element(By.CSS_SELECTOR, "form.signin button[type=submit]").click()
        WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,)).until(
            lambda d: d.find_element(By.CSS_SELECTOR, "form.signout"))
        texts.append(driver.find_element(By.TAG_NAME, "body").text)
        png = driver.get_screenshot_as_png()
        for path in also:
            driver.get(board[0] + path)
            texts.append(driver.find_element(By.TAG_NAME, "body").text)
    shot.write_bytes(png)
    assert not_blank(png), shot
    return texts


@pytest.mark.parametrize(("who", "programme", "other"), [(COORD_NORD, NORD, SUD), (COORD_SUD, SUD, NORD)],
                         ids=["nord", "sud"])
def test_each_coordinator_sees_only_their_programmes_teams(board, tmp_path, who, programme, other):
    [text] = board_seen_by(board, who, (SHOTS or tmp_path) / f"board-{who.split('@')[0]}.png")
    mine = {t for t, (p, _b) in TEAMS.items() if p == programme}
    for team, (p, _b) in TEAMS.items():
        assert (team in text) == (team in mine), (who, team, text)
    assert programme in text
    assert other not in text, (who, "sees the other programme", text)


def test_a_partner_reader_sees_only_their_partners_teams(board, tmp_path):
    text, own, other = board_seen_by(board, READER, (SHOTS or tmp_path) / "board-partner-reader.png",
                                     "/team/Équipe Alpha", "/team/Équipe Bravo")
    assert "Équipe Alpha" in text  # Aisne's
    for team in ("Équipe Bravo", "Équipe Charlie", "Équipe Delta"):
        assert team not in text, (team, text)
    assert SUD not in text, text
    assert "Un problème réel." in own  # their partner's team page opens
    assert "Un problème réel." not in other and "Oise" not in other, other  # Oise's does not
