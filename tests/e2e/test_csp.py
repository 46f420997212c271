"""Browser: the policy holds in Chromium, and the suite's CSP watcher (conftest) sees violations."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


def test_an_injected_inline_script_is_blocked_and_reported(
    page, live_server, make_user, project, _no_csp_violations
):
    make_user("alice", project=project, role="admin")
    log_in(page, live_server.url, "alice")
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.inlineScriptRan = true";
          document.head.appendChild(script);
        }"""
    )
    for _ in range(40):  # console events arrive asynchronously
        if _no_csp_violations:
            break
        page.wait_for_timeout(50)
    assert page.evaluate("window.inlineScriptRan === undefined")
    assert any("script-src" in problem for problem in _no_csp_violations), _no_csp_violations
    _no_csp_violations.clear()  # this test's violation was the point: the others must have none
