"""Browser tests: Debian's Chromium driven by Playwright against a real `herald dev`.

Playwright's own browser download is not reachable here, so the tests launch the system's
Chromium (`executable_path`). Without it they are not collected, and the run says so in one line.
All of them share one `herald dev` and one browser on one xdist worker (group "browser").
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Herald, start_herald

CHROMIUM = Path(os.environ.get("HERALD_CHROMIUM", "/usr/bin/chromium"))  # Debian's package
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The README's screenshots: rewritten only when asked (`make screenshots`), so a test run leaves
# the work tree as it was; otherwise they go to a temporary folder (the code that takes them runs).
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "console"
    if os.environ.get("HERALD_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / f"herald-console-screenshots-{os.getpid()}"
)
SKIP_LINE = (
    f"browser tests skipped: no Chromium at {CHROMIUM} (install it: apt-get install -y chromium; "
    ".ci/run does)"
)

try:
    import playwright.sync_api  # noqa: F401

    _available = CHROMIUM.exists()
except ImportError:  # pragma: no cover - the dev extras install it
    _available = False

if not _available:
    collect_ignore_glob = ["test_*.py"]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _available:
        terminalreporter.write_line(SKIP_LINE)


@pytest.fixture(scope="session")
def herald(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Herald]:
    instance = start_herald(tmp_path_factory.mktemp("herald-browser"), retry_schedule="0,0")
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Per module, not per session: Playwright's sync API runs an event loop on this thread until
    it stops, and the worker's later tests (asyncio.run) must not find it running."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Watch:
    """What a page did that it must not: dialogs, page errors, CSP violations."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    responses: list[Any] = field(default_factory=list)


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def page(browser: Any, herald: Herald, watch: Watch) -> Iterator[Any]:
    """A fresh browser context (no session) at 1280x800, watched."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(20_000)

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    tab.on("pageerror", lambda exc: watch.errors.append(f"page error: {exc}"))
    tab.on(
        "console",
        lambda msg: (
            watch.errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    tab.on("response", lambda response: watch.responses.append(response))
    yield tab
    context.close()
    assert not watch.dialogs, watch.dialogs
    assert not watch.errors, watch.errors


def console_url(herald: Herald, fragment: str = "") -> str:
    return f"{herald.url}/console/{fragment}"


def sign_in(page: Any, herald: Herald, key: str | None = None) -> None:
    page.goto(console_url(herald))
    page.get_by_label("API key").fill(key or herald.key)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def shoot(page: Any, name: str, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(150)  # let the last request's render settle
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def wait_until(check: Any, timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
