"""The Content-Security-Policy in a real browser: our pages run with no violation, and an
injected inline script is refused (issue 19)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import DemoUser, LiveServer

pytestmark = [pytest.mark.browser]

WATCH = """() => { window.__csp = [];
  document.addEventListener('securitypolicyviolation',
    e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI)); }"""


def test_pages_run_under_the_csp_and_inline_script_is_refused(
    page: Any, live_server: LiveServer, demo_accounts: dict[str, DemoUser]
) -> None:
    page.add_init_script(f"({WATCH})()")
    page.goto(f"{live_server}/login")  # the login page itself, before any session
    assert page.evaluate("window.__csp") == []
    admin = demo_accounts["admin"]
    r = page.request.post(f"{live_server}/api/v1/auth/login",
                          data={"email": admin.email, "password": admin.password})
    assert r.status == 200
    for path in ("/", "/assessments", "/bank", "/admin/users", "/admin/settings", "/api/docs"):
        response = page.goto(f"{live_server}{path}")
        assert response.status < 400, path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__csp") == [], path
    # What an injected <script> or handler would try: the browser refuses both.
    page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__ran = true'; document.body.appendChild(s);
        const i = document.createElement('img'); i.setAttribute('onerror', 'window.__ran = 1');
        i.src = 'data:,x'; document.body.appendChild(i); }""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__ran") is None
    assert any("script-src" in v for v in page.evaluate("window.__csp"))


def test_the_candidate_workspace_runs_under_the_csp(page: Any, live_server: LiveServer) -> None:
    """The workspace (CodeMirror editors, autosave, timer) needs no inline script or style."""
    from tests import factories

    with live_server.transaction() as session:
        session.info["secret_key"] = live_server.settings.secret_key
        org = factories.make_org(session, name="CSP Org")
        assessment = factories.make_assessment(session, org=org,
                                               scenarios=("debug-slow-run", "train-large-dense"))
        _, token = factories.make_invite(session, assessment=assessment)
    page.add_init_script(f"({WATCH})()")
    page.goto(f"{live_server}/i/{token}")
    page.locator("form[action='/take/start'] button[type=submit]").click()
    for index in (0, 1):
        response = page.goto(f"{live_server}/take/{index}")
        assert response.status == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__csp") == [], index
    assert page.locator(".cm-editor").count() > 0  # the editors did start
