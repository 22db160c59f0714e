"""The admin in a real browser: Playwright driving Debian's Chromium against the live server.

Chromium is the distribution's (``/usr/bin/chromium``; `make test` installs it through `make
browser`), never one that ``playwright install`` downloads: nothing is fetched at test time, and
the flags in ``pages.CHROMIUM_ARGS`` keep Chromium itself off the network.

Each test gets a fresh browser context (cookies, storage) on a browser launched once per module,
and pytest-django's ``live_server`` on 127.0.0.1 (a thread of this process, one per xdist worker,
serving the admin's static files through Django's finders). A test that uses ``live_server`` runs
on ``transactional_db``: what it writes is committed, so the server sees it, and every table is
emptied after it.

For a new test: ``operator_page`` is a page already logged in as an operator (its session made in
the database, not typed); ``pages.log_in`` types into the login form; ``screenshot`` saves a PNG
under ``artifacts/screenshots/``; ``world`` is a row in every table the admin lists.
Every page a test opens must load without a JavaScript error or an HTTP error (``page``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    Response,
    sync_playwright,
)

from commerce.models import User
from tests.browser import pages
from tests.browser import world as world_module

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright's sync API, for one module.

    While it is started, its event loop counts as running in this thread (the loop is parked in a
    greenlet between calls), and Django refuses ORM calls from a thread with a running loop. The
    ORM calls made here (factories, the flush after each test) are plain synchronous code that
    never runs inside that loop, so Django's check is turned off for exactly as long as Playwright
    is started: one module, so that the rest of the suite in this process keeps the check."""
    if not pages.CHROMIUM.exists():
        pytest.fail(f"The browser tests need {pages.CHROMIUM}: run `make browser` (as root)")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as p:
            yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(pages.CHROMIUM), args=pages.CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def base_url(live_server: Any) -> str:
    """The live server's root, by address: it listens on 127.0.0.1 (IPv4 only)."""
    return f"http://127.0.0.1:{live_server.thread.port}"


@pytest.fixture
def context(browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(pages.TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page_errors() -> list[str]:
    return []


@pytest.fixture
def page(context: BrowserContext, page_errors: list[str]) -> Iterator[Page]:
    """A page whose JavaScript errors and HTTP errors (4xx/5xx, of the page or of any stylesheet,
    script or image it loads) are collected in ``page_errors``, which must stay empty."""
    page = context.new_page()

    def on_failed(request: Request) -> None:
        # A request cut short by the next navigation (ERR_ABORTED) is the browser's doing.
        if "ERR_ABORTED" not in (request.failure or ""):
            page_errors.append(f"failed: {request.url} ({request.failure})")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            page_errors.append(f"HTTP {response.status}: {response.url}")

    page.on("pageerror", lambda error: page_errors.append(f"JavaScript: {error}"))
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    yield page
    assert page_errors == [], "the pages opened had errors"


@pytest.fixture
def operator_page(page: Page, base_url: str, operator: User) -> Page:
    """``page``, logged in as ``operator`` (tests/conftest.py; committed, as ``live_server``
    makes every database fixture transactional)."""
    pages.give_session(page.context, operator, base_url)
    return page


@pytest.fixture
def world(operator: User) -> world_module.ConsoleWorld:
    """A row in every table the operator's admin lists (``tests/browser/world.py``)."""
    return world_module.console_world(operator=operator)


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """``screenshot(page, "admin-index")`` saves the whole page as
    ``artifacts/screenshots/admin-index.png`` (kept after the run; git ignores it)."""
    return pages.save_screenshot
