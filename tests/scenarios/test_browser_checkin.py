"""One end-to-end run, as a coach would: the weekly e-mail reaches a real SMTP server, its link is
opened in headless Chromium against a real ``preincub serve`` process, the form is filled and sent,
and ``preincub checkin list --json`` shows the check-in with the coach as its author. The form, the
board and the team page are screenshotted at 900 px and at a phone's 375 px, and none scrolls sideways.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them with apt when it can);
without them the test is skipped, saying so.
"""

from __future__ import annotations

import json
import os
import re
import socket
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from tests.web.helpers import COORD, JULIEN, KEY, RSA, WEEK
# The web tests' demo store: the e2e run serves a copy of it.
from tests.web.conftest import demo_store, store  # noqa: F401

from tests.browser import SHOTS, chromium, full_page_png, needs_chromium, not_blank, sideways, viewport
from tests.smtp import free_port, smtp_server

pytestmark = pytest.mark.slow


# The installed console script, as a person runs it (beside this Python in a virtualenv).
PREINCUB = [str(Path(sys.executable).parent / "preincub")] if (Path(sys.executable).parent / "preincub").exists() \
    else [sys.executable, "-c", "import cli; cli.main()"]


def preincub(*args: str, env: dict, check: bool = True, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run([*PREINCUB, *args], capture_output=True, text=True, env=env, timeout=120,
                       cwd=Path(__file__).resolve().parents[2], **kw)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def test_not_blank_tells_a_blank_image():
    def png(width: int, height: int, row: bytes) -> bytes:
        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

        raw = b"".join(b"\x00" + row for _ in range(height))
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

    assert not not_blank(png(300, 200, b"\xff" * 900))
    assert not_blank(png(300, 200, bytes(range(256)) * 3 + bytes(132)))


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited: {proc.stdout.read() if proc.stdout else ''}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("serve did not listen")


@needs_chromium
def test_a_coach_logs_the_weekly_checkin_from_the_email(store, tmp_path):
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREINCUB_")}
    env.update(PREINCUB_DB=str(store), PREINCUB_NOW="2020-11-16T18:00", PREINCUB_BASE_URL=base,
               PREINCUB_SECRET_KEY=KEY, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    with smtp_server() as (url, box):
        # 1. a reminder tick sends the weekly e-mail to a real local SMTP server
        preincub("--as", COORD, "remind", "run", env={**env, "PREINCUB_SMTP_URL": url})
        mails = [r.msg for r in box.to(JULIEN) if "2020-W47" in str(r.msg["Subject"])]
        assert mails, [str(r.msg["Subject"]) for r in box.received]
    # 2. the link is taken from that e-mail
    text = mails[0].get_body(("plain",)).get_content()
    link = re.search(rf"{re.escape(base)}/checkin/\S+", text).group(0)
    # 3. a real `preincub serve` listens on a free loopback port
    server = subprocess.Popen([*PREINCUB, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    shots = SHOTS or tmp_path
    wide: dict[str, int] = {}

    def shoot(driver, name: str) -> None:
        """The page as it is (900 px), then at a phone's width: screenshots, and how far each scrolls sideways."""
        (shots / f"{name}.png").write_bytes(driver.get_screenshot_as_png())
        viewport(driver, 375)
        wide[f"{name}-375"] = sideways(driver)
        (shots / f"{name}-375.png").write_bytes(full_page_png(driver))
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        wide[name] = sideways(driver)

    try:
        wait_port(port, server)
        # 4. headless Chromium opens the link, fills the form and submits it
        with chromium(900, 1400) as driver:
            # Mid-navigation, chromedriver may answer "Node … does not belong to the document": wait on.
            wait = WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,))
            driver.get(link)
            assert RSA in driver.title and WEEK in driver.page_source
            driver.find_element(By.ID, "notes").send_keys("Trois entretiens avec des allocataires.")
            driver.find_element(By.ID, "blockers").send_keys("Accès aux données de l'ASE")
            driver.find_element(By.ID, "next_steps").send_keys("Maquette du parcours")
            driver.find_element(By.ID, "hours").send_keys("6")
            driver.find_element(By.CSS_SELECTOR, "#mood option[value='4']").click()
            shoot(driver, "checkin-form")
            driver.find_element(By.CSS_SELECTOR, "form.checkin button[type=submit]").click()
            wait.until(lambda d: "Enregistré" in d.page_source)  # the answer page, once loaded
            # the board, signed in with a one-hour link
            signin = preincub("--as", COORD, "web", "link", JULIEN, env=env).stdout.strip()
            driver.get(signin)  # the link's page (a mail scanner's visit would stop here), then its button
            assert "Pré-incubation 2020" not in driver.page_source
            driver.find_element(By.CSS_SELECTOR, "form.signin button[type=submit]").click()
            wait.until(lambda d: "Pré-incubation 2020" in d.page_source)
            shoot(driver, "board")
            driver.find_element(By.LINK_TEXT, RSA).click()
            wait.until(lambda d: "<svg" in d.page_source)
            shoot(driver, "team")
    finally:
        server.terminate()
        out = server.communicate(timeout=20)[0]
    assert link.rsplit("/", 1)[1] not in out  # the token is not in the server's output
    # 5. `preincub checkin list --json` shows the check-in with the coach as author
    listed = json.loads(preincub("--as", COORD, "checkin", "list", "--team", RSA, "--week", WEEK, "--json",
                                 env=env).stdout)
    assert [(c["author"], c["notes"]) for c in listed] == [(JULIEN, "Trois entretiens avec des allocataires.")]
    # the screenshots are not blank, and no page scrolls sideways, at 900 px or at 375 px
    for name in ("checkin-form", "board", "team"):
        for shot in (name, f"{name}-375"):
            assert not_blank((shots / f"{shot}.png").read_bytes()), shot
    assert {name: px for name, px in wide.items() if px > 0} == {}, f"pages wider than their viewport: {wide}"
