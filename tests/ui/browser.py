"""Helpers of the dashboard tests: a dashboard served on a free loopback port, and a real
headless Chromium driven by selenium (Debian's ``chromium`` and ``chromium-driver``).

Without the browser the browser tests skip, except under CI (``CI=true``), where they fail:
``.ci/run`` installs it, so a missing one there is a broken install, not a reason to skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pyvela._backends.protocol import Backend
from pyvela._ui.serve import bound_port, server, start_in_thread

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
DRIVER = "chromedriver"
#: Where screenshots go, beside the test's tmp dir (git ignores it).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def browser_paths() -> tuple[str, str]:
    """Chromium's and chromedriver's paths; skips (fails under CI) when either is missing."""
    binary = next((p for p in map(shutil.which, CHROMIUM) if p), None)
    driver = shutil.which(DRIVER)
    try:
        import selenium  # noqa: F401
    except ImportError:
        binary = None
    if binary is None or driver is None:
        why = "the browser tests need chromium, chromium-driver (apt-get) and selenium (the test extra)"
        if _under_ci():
            pytest.fail(why + "; .ci/run installs them")
        pytest.skip(why)
    return binary, driver


@contextmanager
def chromium() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1300,1500",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",  # no network but loopback
    ):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(driver), options=options)
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


@contextmanager
def dashboard(backend: Backend, poll: float = 0.2) -> Iterator[str]:
    """The dashboard of ``backend`` on a free loopback port; yields its base URL."""
    srv = server(backend, "127.0.0.1", 0, poll=poll)
    thread = start_in_thread(srv)
    try:
        yield f"http://127.0.0.1:{bound_port(srv)}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def screenshot(browser: Any, name: str, tmp_path: Path) -> Path:
    """A PNG of the page, in the test's tmp dir and in ``test-artifacts/``."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = tmp_path / f"{name}.png"
    assert browser.save_screenshot(str(path)), "the browser took no screenshot"
    shutil.copyfile(path, ARTIFACTS / path.name)
    return path
