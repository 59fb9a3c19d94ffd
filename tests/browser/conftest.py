"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Playwright's own browser download is not used; the tests need /usr/bin/chromium. Without it
they are skipped locally and fail on CI (CI=true), where a missing browser is a broken image.
The live server runs in a thread of this process, so the locmem outbox and eager Celery are
shared with the test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


def pytest_collection_modifyitems(config: Any, items: list[pytest.Item]) -> None:
    """Mark every test under tests/browser `browser` (this hook sees the whole session's items)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in item.path.resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    """Keep each phase's report on the item, so that fixtures can see whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    """One browser for all the browser tests.

    Package-scoped rather than session-scoped on purpose: while Playwright's sync API is
    started, an asyncio loop counts as running in this thread, so Django refuses ORM calls
    (the tests' factories, the flush after each test) unless DJANGO_ALLOW_ASYNC_UNSAFE is set.
    The variable is set only while the browser lives and removed with it, so that the rest
    of the suite keeps Django's async-safety check, and subprocesses started by other tests
    (`manage.py check --deploy` reports the variable as an error) never inherit it.
    """
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium package to run browser tests"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


def _screenshot_on_failure(request: pytest.FixtureRequest, pages: list[Any]) -> None:
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    for number, page in enumerate(pages):
        if page.is_closed():
            continue
        suffix = f"-{number}" if number else ""
        try:
            page.screenshot(path=str(ARTIFACTS / f"FAILED-{name}{suffix}.png"), full_page=True)
        except Exception as exc:  # a screenshot must never hide the real failure
            print(f"Could not save a screenshot: {exc}")


# Every page reports what its Content-Security-Policy blocked (an inline script or style, a
# source not allowed) to the test, through a function that Playwright exposes to each page.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${location.pathname}: ${event.effectiveDirective} blocked ${event.blockedURI || "?"}`
  );
});
"""


def _watch_csp(context: Any, violations: list[str]) -> None:
    def report(violation: str) -> None:
        violations.append(violation)

    def on_console(message: Any) -> None:
        if "Content Security Policy" in message.text:
            violations.append(f"console: {message.text}")

    context.expose_function("reportCspViolation", report)
    context.add_init_script(CSP_LISTENER)
    context.on("console", on_console)


@pytest.fixture
def csp_violations() -> list[str]:
    """The Content-Security-Policy violations reported by this test's pages so far."""
    return []


@pytest.fixture
def new_context(
    chromium: Any, live_server: Any, request: pytest.FixtureRequest, csp_violations: list[str]
) -> Iterator[Callable[..., Any]]:
    """new_context(**options) -> a fresh browser context on the live server; closed after.

    A test whose pages reported a Content-Security-Policy violation fails at teardown, so
    every browser test also checks that the policy lets its pages work.
    """
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        options.setdefault("viewport", DESKTOP)
        context = chromium.new_context(base_url=live_server.url, locale="en-GB", **options)
        context.set_default_timeout(TIMEOUT_MS)
        _watch_csp(context, csp_violations)
        contexts.append(context)
        return context

    yield make
    _screenshot_on_failure(request, [p for c in contexts for p in c.pages])
    for context in contexts:
        context.close()
    if csp_violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(csp_violations))


@pytest.fixture
def context(new_context: Callable[..., Any]) -> Any:
    """A desktop-sized context."""
    return new_context()


@pytest.fixture
def phone_context(new_context: Callable[..., Any]) -> Any:
    """A phone-sized, touch context (an iPhone 12-15 sized viewport)."""
    return new_context(viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True)


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


@pytest.fixture
def phone_page(phone_context: Any) -> Any:
    return phone_context.new_page()


@pytest.fixture
def artifacts() -> Path:
    """The git-ignored directory for screenshots worth a human look."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def log_in_as(live_server: Any) -> Callable[[Any, Any], None]:
    """log_in_as(context, user): give the browser context a session cookie for that user.

    Only the sign-up test logs in through the form; the others start signed in.
    """
    from django.conf import settings
    from django.test import Client

    def log_in(context: Any, user: Any) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
        )

    return log_in
