"""Headless Chromium for the tests that look at a page or a document as a person would: one way to
start it, to tell a blank screenshot, and to list what a page fetched."""

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
    if network_log:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


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
