"""A real headless Chromium for the browser tests (marked `browser`), driven by Playwright.

Debian's chromium is used (`apt-get install chromium`, as .ci/run does); Playwright never
downloads a browser of its own. Tests using it run against pytest-django's live server.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A busy CI machine is slow; a real failure still fails, only later.
TIMEOUT_MS = 30_000


@contextmanager
def chromium_context(
    monkeypatch: pytest.MonkeyPatch, *, locale: str = "en-US", height: int = 900
) -> Iterator[Any]:
    """A fresh browser context (no cookies) with the given browser language."""
    if not os.path.exists(CHROMIUM):
        pytest.fail("chromium is not installed: apt-get install chromium (see .ci/run)")
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test makes
    # while it runs are ordinary blocking calls, not calls from async code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": height})
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()
            browser.close()
            # The ORM calls made while Playwright's loop ran used connections of their own
            # context; close them, or PostgreSQL refuses to drop the test database at the end.
            connections.close_all()


def sign_in_session(context: Any, live_server: Any, user: Any) -> None:
    """Hand the browser the session of a logged-in Django client (skipping the login page)."""
    client = Client()
    client.force_login(user)
    context.clear_cookies()
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
