"""Debian's chromium driven by Playwright for Python (never a downloaded browser), and screenshots.

Screenshots of the main pages go to ``$PARLEY_SCREENSHOTS`` (default: a ``parley-console``
folder in the system's temporary directory): CI keeps them as artifacts, nothing is committed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def screenshots() -> Path:
    """Where the tests write their screenshots (created if missing)."""
    folder = Path(os.environ.get("PARLEY_SCREENSHOTS") or Path(tempfile.gettempdir()) / "parley-console")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def shot(page: Page, name: str) -> None:
    """A full-page screenshot ``<name>.png`` for people to look at."""
    await page.screenshot(path=str(screenshots() / f"{name}.png"), full_page=True)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Headless Debian chromium; stopped (with Playwright's driver) whatever the test does."""
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 (one stat, before the browser starts)
        pytest.fail(f"{CHROMIUM} is missing: scripts/test installs it (apt-get install chromium)")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()
