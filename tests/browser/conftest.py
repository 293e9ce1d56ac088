"""Browser tests: real Chromium (Debian's) driven by Playwright against a live server.

Skipped only when Chromium is absent outside CI; `.ci/run` installs it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import Staff
from tests.kit import session_cookie

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"
EXPECTED_REFUSAL = re.compile(r"Failed to load resource: .* status of (403|409|422)\b")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between page steps are plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # In CI a missing browser is a failure, never a silent skip.
    if not os.environ.get("CI") and not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason=f"Chromium not installed at {CHROMIUM}")
        for item in items:
            if "tests/browser" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


class Session:
    """One person's browser tab, failing the test on any JavaScript error."""

    def __init__(self, browser, base_url: str, *, width: int = 1440, language: str = "en"):
        self.context = browser.new_context(
            viewport={"width": width, "height": 900},
            locale="zh-CN" if language.startswith("zh") else "en-US",
        )
        # The page's clock (countdowns, "today") is the server's fixed test clock.
        self.context.clock.install(time=timezone.now())
        self.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base_url}]
        )
        self.page = self.context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._console)

    def _console(self, message) -> None:
        # A form answered with its errors (403/409/422) is expected; anything else is not.
        if message.type == "error" and not EXPECTED_REFUSAL.search(message.text):
            self.errors.append(message.text)

    def goto(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def login(self, staff: Staff) -> Session:
        """Signed in as `staff` with the session the tests' kit gives (the form has its own
        test, tests/browser/test_frame.py)."""
        self.context.add_cookies([{**session_cookie(staff), "url": self.base_url}])
        return self

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()
        assert not self.errors, f"JavaScript errors: {self.errors}"


@pytest.fixture
def open_session(browser, live_server, transactional_ledger) -> Iterator:
    sessions: list[Session] = []

    def make(staff: Staff | None, **kwargs) -> Session:
        """A tab signed in as `staff` (None: nobody signed in yet)."""
        session = Session(browser, live_server.url, **kwargs)
        if staff is not None:
            session.login(staff)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()
