"""Every page, in headless Chromium at a phone's width (375 px) and a desktop's (1280 px), with hostile
long unbroken text: no page scrolls sideways, each is screenshotted, and axe-core (from npm, injected
by the test, never by the page) finds no serious or critical accessibility violation.

One browser and one in-process server for all the pages (the suite stays fast); the tests below read
what that one visit recorded. Without Chromium they are skipped, saying so; without axe-core, the
accessibility test is skipped, saying how to install it.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tests.web.helpers import COORD, HELENE, JULIEN, KEY, RSA, ids

from tests.browser import (AXE_MISSING, SHOTS, axe_violations, chromium, full_page_png, needs_chromium, not_blank,
                           png_pixels, sideways, viewport)
from tests.smtp import free_port
from workflow.api import Workflow
from workflow.clock import PARIS, FixedClock
from workflow.services.links import checkin_path, committee_path, sign
from workflow.services.mutes import Mutes
from workflow.settings import Settings

pytestmark = [pytest.mark.slow, needs_chromium]

WIDTHS = (375, 1280)
# The committee of "Transport scolaire adapté" sits on 2020-12-10: its form is open, and week 2020-W50
# is the week of the check-in.
WHEN = datetime(2020, 12, 10, 17, 0, tzinfo=PARIS)
WEEK = "2020-W50"
# Hostile text: as long as the library lets a name be, in one unbroken word; a problem longer still.
LONG_TEAM = "Équipe" + "W" * 194
LONG_PROBLEM = "Problème" + "M" * 3000
LONG_COACH = "Julien" + "J" * 194
LONG_NOTES = "Notes" + "N" * 1500


@dataclass
class Visit:
    """What the browser saw on the pages: per (page, width), how far it scrolled sideways; per page,
    axe's serious and critical violations (None when axe-core is not installed); its main text; the
    screenshots."""

    shots: Path
    overflow: dict[tuple[str, int], int] = field(default_factory=dict)
    tables: dict[tuple[str, int], list[int]] = field(default_factory=dict)  # each .scroll box: px scrolled
    loose_tables: dict[str, int] = field(default_factory=dict)  # tables in no .scroll box
    dates: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)  # (dates, dates on 2+ lines)
    violations: dict[str, list[dict] | None] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    canary: list[dict] | None = None  # axe on a page made to fail it: the check is not vacuous


@pytest.fixture(scope="module")
def visit(demo_store, tmp_path_factory) -> Visit:
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from web import create_app

    work = tmp_path_factory.mktemp("layout")
    db = work / "demo.db"
    shutil.copy(demo_store, db)
    port = free_port()  # the app must know its base URL (its links, its redirects) before it listens
    base = f"http://127.0.0.1:{port}"
    wf = Workflow.open(str(db), clock=FixedClock(WHEN), actor=COORD, settings=Settings(base_url=base, secret_key=KEY))
    try:
        wf.teams.edit("Transport scolaire adapté", rename=LONG_TEAM, problem=LONG_PROBLEM)
        wf.teams.edit(RSA, problem=LONG_PROBLEM)
        wf.directory.edit_person(JULIEN, name=LONG_COACH)
        wf.acting_as(JULIEN).checkins.log(RSA, on=datetime(2020, 12, 3).date(), notes=LONG_NOTES,
                                          blockers=LONG_NOTES, next_steps=LONG_NOTES, hours=4, mood=3)
        pid, tid = ids(wf, JULIEN, RSA)
        checkin = checkin_path(sign(KEY, wf.clock, "checkin", pid, 0, tid, WEEK), tid, WEEK)
        hid, cid = ids(wf, HELENE, LONG_TEAM)
        committee = committee_path(sign(KEY, wf.clock, "committee", hid, 0, cid), cid)
        signin = wf.links.signin_url(COORD)[0].removeprefix(base)
        unsubscribe = Mutes(wf.ctx).url(pid, 0, "coaching", WHEN).removeprefix(base)

        from werkzeug.serving import make_server

        server = make_server("127.0.0.1", port, create_app(wf), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        seen = Visit(shots=SHOTS or work)
        try:
            with chromium(1280, 900) as driver:
                def gone(element: Any) -> bool:
                    """Whether ``element``'s page was left: stale, or (chromedriver, mid-navigation)
                    "Node … does not belong to the document", which is no StaleElementReferenceException."""
                    try:
                        element.is_enabled()
                    except WebDriverException:
                        return True
                    return False

                def click(css: str) -> None:
                    """Click what ``css`` finds, and wait for the page it leads to (a form's answer)."""
                    old = driver.find_element(By.TAG_NAME, "html")
                    driver.find_element(By.CSS_SELECTOR, css).click()
                    WebDriverWait(driver, 30).until(lambda d: gone(old))
                    WebDriverWait(driver, 30).until(
                        lambda d: d.execute_script("return document.readyState") == "complete")

                def look(page: str, path: str | None = None) -> None:
                    """Lay the page out at each width, screenshot it, and run axe on it once."""
                    if path is not None:
                        driver.get(base + path)
                    seen.texts[page] = driver.find_element(By.ID, "main").text
                    seen.loose_tables[page] = driver.execute_script(
                        "return [...document.querySelectorAll('table')].filter(t => !t.closest('.scroll')).length")
                    for width in WIDTHS:
                        viewport(driver, width)
                        seen.overflow[page, width] = sideways(driver)
                        seen.tables[page, width] = driver.execute_script(
                            "return [...document.querySelectorAll('.scroll')].map(e => e.scrollWidth - e.clientWidth)")
                        seen.dates[page, width] = tuple(driver.execute_script(
                            "const d = [...document.querySelectorAll('time, .date')];"
                            "return [d.length, d.filter(e => e.getClientRects().length > 1).length]"))
                        (seen.shots / f"{page}-{width}.png").write_bytes(full_page_png(driver))
                    seen.violations[page] = None if AXE_MISSING else axe_violations(driver)

                look("no-session", "/")
                look("not-found", "/no/such/page")
                look("bad-link", checkin[:-3] + "xyz")
                look("checkin-form", checkin)
                driver.find_element(By.ID, "notes").send_keys("Trois entretiens.")
                driver.find_element(By.ID, "hours").send_keys("beaucoup")
                click("form.checkin button[type=submit]")
                look("checkin-error")
                driver.find_element(By.ID, "hours").clear()
                driver.find_element(By.ID, "hours").send_keys("6,5")
                click("form.checkin button[type=submit]")
                look("checkin-saved")
                look("committee-form", committee)
                driver.find_element(By.ID, "opinion").send_keys("Avis favorable.")
                click("main form button[type=submit]")
                look("committee-saved")
                look("signin", signin)  # the link's page: opening it uses nothing; its button signs in
                click("form.signin button[type=submit]")
                look("board")
                look("team", "/team/" + RSA)
                look("team-long", "/team/" + LONG_TEAM)
                click("form.signout button")
                look("signed-out")
                look("unsubscribe", unsubscribe)  # a reminder's one-click link (RFC 8058): its page, its button
                click("main form button[type=submit]")
                look("unsubscribe-done")
                if not AXE_MISSING:
                    driver.get("data:text/html,<!DOCTYPE html><html><body><img src='x.png'></body></html>")
                    seen.canary = axe_violations(driver)
        finally:
            server.shutdown()
    finally:
        wf.close()
    return seen


PAGES = ("no-session", "not-found", "bad-link", "checkin-form", "checkin-error", "checkin-saved", "committee-form",
         "committee-saved", "signin", "board", "team", "team-long", "signed-out", "unsubscribe", "unsubscribe-done")


# What each page says, to be sure the visit reached it (and not, say, an error page instead).
SAYS = {"no-session": "403", "not-found": "404", "bad-link": "400", "checkin-form": WEEK,
        "checkin-error": "Rien n'a été enregistré", "checkin-saved": "Enregistré", "committee-form": LONG_TEAM[:30],
        "committee-saved": "Avis favorable.", "board": "Pré-incubation 2020", "team": LONG_NOTES[:30],
        "team-long": LONG_PROBLEM[:30], "signed-out": "déconnecté", "signin": COORD, "unsubscribe": JULIEN,
        "unsubscribe-done": "C'est fait"}


def test_every_page_was_reached_and_screenshotted(visit):
    assert set(visit.texts) == set(PAGES)
    for page in PAGES:
        assert SAYS[page] in visit.texts[page], (page, visit.texts[page][:300])
        for width in WIDTHS:
            png = (visit.shots / f"{page}-{width}.png").read_bytes()
            assert width - 20 <= png_pixels(png)[0] <= width, (page, width)  # less a scroll bar, at most
            if not page.startswith(("no-", "not-", "bad-", "signed-", "signin", "unsubscribe")):  # short: mostly white
                assert not_blank(png), (page, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways(visit, width):
    """Long unbroken names wrap, tables scroll inside their own box: the page itself never scrolls
    sideways (document.scrollingElement.scrollWidth <= the viewport's width)."""
    wide = {page: px for (page, w), px in visit.overflow.items() if w == width and px > 0}
    assert wide == {}, f"pages wider than {width} px, by (px): {wide}; screenshots in {visit.shots}"


def test_no_serious_accessibility_violation(visit):
    if AXE_MISSING:
        pytest.skip(AXE_MISSING)
    assert "image-alt" in {v["id"] for v in visit.canary}  # axe ran, and tells a missing alt text
    found = {page: v for page, v in visit.violations.items() if v}
    assert found == {}, found


def test_every_table_scrolls_in_its_own_box_and_the_board_fits_a_desktop(visit):
    """At a phone's width a table may scroll, inside its box; at 1280 px the board's tables (and a
    team's) fit without scrolling, even beside a 200-character name."""
    assert {page: n for page, n in visit.loose_tables.items() if n} == {}  # every table is in a .scroll box
    assert len(visit.tables["board", 375]) == 2 and len(visit.tables["team", 375]) == 1
    wide = {page: n for (page, w), n in visit.tables.items() if w == 1280 and any(px > 0 for px in n)}
    assert wide == {}, f"tables wider than their box at 1280 px (px): {wide}; screenshots in {visit.shots}"


def test_dates_are_time_elements_that_never_wrap(visit):
    """The board's dates (deadline, since, last check-in) and a team's are <time> elements, and none
    breaks over two lines (2020-11-16 used to wrap at its hyphens), at either width."""
    assert visit.dates["board", 1280][0] >= 3 * 9 and visit.dates["team", 1280][0] >= 10
    wrapped = {key: n for key, (_, n) in visit.dates.items() if n}
    assert wrapped == {}, f"dates over two lines: {wrapped}"
