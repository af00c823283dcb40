"""A real Chromium (Debian's, driven by Playwright) on the console of a live `chalice local`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("LIFESHOP_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:  # `make test` installs it; a bare pytest run says what is missing instead of skipping
        raise RuntimeError("Chromium is missing: install it (apt-get install chromium) or set LIFESHOP_CHROMIUM")
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: docs/console with `make screenshots` (LIFESHOP_SCREENSHOTS), else a temporary folder."""
    where = os.environ.get("LIFESHOP_SCREENSHOTS")
    path = Path(where) if where else tmp_path_factory.mktemp("console")
    path.mkdir(parents=True, exist_ok=True)
    return path
