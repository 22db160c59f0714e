"""What the browser tests do to and read from the admin's pages."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.test import Client
from playwright.sync_api import BrowserContext, Locator, Page

from commerce.models import User
from tests.commerce.factories import TEST_PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, and Chromium's sandbox refuses root
    "--disable-gpu",
    # Nothing but the live server may be reached: no QUIC probes, no component or safe-browsing
    # updates, no sync, no first-run pings.
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Playwright waits 30 s by default; the admin answers in milliseconds here, and a test waiting for
# something that never comes should say so sooner.
TIMEOUT_MS = 10_000
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"


def log_in(page: Page, username: str, password: str = TEST_PASSWORD) -> None:
    """Type into the admin's login form and submit it, as a person does."""
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def give_session(context: BrowserContext, user: User, base_url: str) -> None:
    """Log ``context`` in as ``user`` with a session made in the database, as
    ``Client.force_login`` makes it: for tests about what a user sees, not about logging in."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])


def result_rows(page: Page) -> Locator:
    """The rows of a changelist's table."""
    return page.locator("#result_list tbody tr")


def save_screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path
