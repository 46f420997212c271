"""Browser tests: Playwright for Python driving Debian's Chromium against live_server.

`make test-e2e` runs them (`.ci/run` too); never `playwright install`: the
browser is the system's /usr/bin/chromium. Each test saves screenshots under
artifacts/screenshots/ for people to look at.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext

# live_server runs Django in a thread while Playwright's sync API holds an event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "correct horse battery staple"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


# Runs in every page before its own scripts (injected by the browser, so the page's CSP
# does not apply to it): a violation becomes one console line the watcher recognises,
# whatever wording Chromium uses for its own report.
_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " blocked " +
                (event.blockedURI || "inline") + " at " + event.sourceFile + ":" +
                event.lineNumber);
});
"""


def _watch(context: BrowserContext, problems: list[str]) -> None:
    context.add_init_script(_REPORT_CSP_VIOLATIONS)

    def on_console(message: Any) -> None:
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text:
            problems.append(f"console {message.type}: {text} ({message.page and message.page.url})")

    def on_page_error(error: Any) -> None:
        problems.append(f"page error: {error.error} ({error.page and error.page.url})")

    context.on("console", on_console)
    context.on("weberror", on_page_error)


@pytest.fixture(autouse=True)
def _no_csp_violations(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every browser test fails on a Content-Security-Policy violation or an uncaught
    script error, in any page of any context it opens (pytest-playwright's `page` and
    the tests' own browser.new_context() alike)."""
    problems: list[str] = []
    new_context = Browser.new_context

    def watched_new_context(self: Browser, *args: Any, **kwargs: Any) -> BrowserContext:
        context = new_context(self, *args, **kwargs)
        _watch(context, problems)
        return context

    monkeypatch.setattr(Browser, "new_context", watched_new_context)
    yield problems
    assert not problems, "The browser reported:\n" + "\n".join(problems)


@pytest.fixture(autouse=True)
def _live_database(transactional_db: None) -> None:
    """live_server's thread must see the test's rows: no wrapping transaction."""


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """screenshot(page, suffix="") saves artifacts/screenshots/<test name><suffix>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = request.node.name.replace("[", "-").replace("]", "").replace("/", "-")

    def take(page: Any, suffix: str = "") -> Path:
        path = SCREENSHOTS / f"{name}{suffix}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def admin(project: Any, make_user: Any) -> Any:
    """alice, admin of the test project: the user most browser tests sign in as."""
    return make_user("alice", project=project, role="admin")


def log_in(page: Any, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def call_api(base_url: str, key: str, path: str = "/api/v1/runs") -> tuple[int, dict]:
    """One request with X-Api-Key, as a client outside the browser would send it."""
    request = urllib.request.Request(f"{base_url}{path}", headers={"X-Api-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # live_server: plain http
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
