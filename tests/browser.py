"""Headless Chromium for the tests that look at a page or a document as a person would: one way to
start it, to give it a phone's or a desktop's width, to tell a blank screenshot, to list what a page
fetched, and to run axe-core (the accessibility checker, from npm) in a page without the page serving it."""

from __future__ import annotations

import json
import os
import shutil
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
SHOTS = Path(os.environ["PREINCUB_SCREENSHOTS"]) if os.environ.get("PREINCUB_SCREENSHOTS") else None

# axe-core, installed by npm beside the web tests (tests/web/package.json; .ci/run does it), or the
# axe.min.js that PREINCUB_AXE names. The test injects it; no page of preincub ever loads it.
AXE = Path(os.environ.get("PREINCUB_AXE") or Path(__file__).resolve().parent / "web" / "node_modules" / "axe-core"
           / "axe.min.js")
AXE_MISSING = (None if AXE.is_file() else
               f"axe-core is not installed ({AXE} is missing): run `npm install` in tests/web, or set PREINCUB_AXE "
               "to an axe.min.js (.ci/run does it when npm is available)")

needs_chromium = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                    reason="headless Chromium is not installed: apt-get install chromium "
                                           "chromium-driver (.ci/run does it when apt is available)")


@contextmanager
def chromium(width: int, height: int, *, network_log: bool = False) -> Iterator[Any]:
    """A headless Chromium (French), quit on the way out; ``network_log`` for :func:`fetched_urls`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--lang=fr-FR"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": "fr-FR,fr"})  # --lang alone: en-US headers
    if network_log:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def viewport(driver: Any, width: int, height: int = 900) -> None:
    """Lay the page out at ``width`` CSS pixels, as a phone (mobile, for ``width`` < 600) or a desktop
    does: a device-metrics override, so the width is exact whatever the window's minimum size."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def full_page_png(driver: Any) -> bytes:
    """A screenshot of the whole page, not only what the viewport shows (a table below the fold too)."""
    import base64

    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    return base64.b64decode(shot["data"])


def sideways(driver: Any) -> int:
    """How many CSS pixels the page is wider than its viewport (0 or less: it does not scroll sideways).

    Against the narrower of ``innerWidth`` and the root's ``clientWidth``: a phone may zoom out to show
    a wide page (``innerWidth`` grows), and a desktop's vertical scroll bar takes from ``clientWidth``."""
    return int(driver.execute_script(
        "return document.scrollingElement.scrollWidth"
        " - Math.min(window.innerWidth, document.documentElement.clientWidth)"))


def axe_violations(driver: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """axe-core's violations of ``impacts`` on the page open in ``driver`` (its id, help and first nodes).

    The script is injected through WebDriver, which the page's Content-Security-Policy does not govern."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(60)
    found = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']})
          .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                                  nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))
          .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));""")
    return [v for v in found if v["impact"] in impacts]


def fetched_urls(driver: Any) -> list[str]:
    """Every URL the pages opened since the last call requested (needs ``network_log``)."""
    messages = [json.loads(e["message"])["message"] for e in driver.get_log("performance")]
    return [m["params"]["request"]["url"] for m in messages if m["method"] == "Network.requestWillBeSent"]


def png_pixels(png: bytes) -> tuple[int, int, bytes]:
    """Width, height and the decompressed (still filtered) image data of a PNG: enough to tell blank."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", data[:8])
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def not_blank(png: bytes) -> bool:
    """More than 1 % of the image bytes differ from the commonest one, with many distinct values."""
    width, height, raw = png_pixels(png)
    if width < 100 or height < 100:
        return False
    counts = [0] * 256
    for b in raw[:: max(1, len(raw) // 200_000)]:
        counts[b] += 1
    total = sum(counts)
    return (total - max(counts)) / total > 0.01 and sum(1 for c in counts if c) > 16
