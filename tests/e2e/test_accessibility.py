"""axe-core (vendored, web/static/vendor/axe-core) on every page a staff member, a candidate
or an anonymous visitor can open: no critical or serious violation anywhere."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from scenarios.loader import load_bank
from server.ops.demo import DemoUser
from tests.e2e.cohort import FLAGSHIPS, make_graded_cohort
from tests.e2e.conftest import VIEWPORT, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.docker, pytest.mark.slow]

AXE_URL = "/static/vendor/axe-core/axe.min.js"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Critical and serious axe-core violations of the page as it is now (WCAG 2.1 A/AA and
    best practices). The script is loaded from the app itself, so the page's CSP allows it."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE_URL)
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ["violations"]});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " +
                                           n.failureSummary.split("\\n").slice(0, 3).join(" "))}));
    }""")
    return [v for v in result if v["impact"] in ("critical", "serious")]


def check_pages(page: Any, live: LiveServer, paths: list[str], found: dict[str, Any]) -> None:
    for path in paths:
        page.goto(f"{live}{path}")
        page.wait_for_load_state("networkidle")
        check_here(page, path, found)


def check_here(page: Any, name: str, found: dict[str, Any]) -> None:
    """axe on the page as it is now, without navigating (a dialog, a rendered widget)."""
    bad = axe_violations(page)
    if bad:
        found[name] = bad


@pytest.fixture
def live_settings() -> dict[str, Any]:
    return {"grading_workers": 0}


def test_axe_finds_no_serious_violation_on_any_page(
    live_server: LiveServer, demo_accounts: dict[str, DemoUser], page: Any, browser: Any,
    log_in: Callable[..., None],
) -> None:
    cohort = make_graded_cohort(live_server)
    # Every scenario the bank holds, not a list kept by hand: a new scenario is checked too.
    bank_ids = sorted(load_bank(live_server.settings.scenarios_root).scenarios)
    assert set(FLAGSHIPS) <= set(bank_ids)
    ada, grace, linus = cohort.attempt_ids.values()
    a = cohort.assessment_id
    found: dict[str, Any] = {}

    # Anonymous visitors.
    check_pages(page, live_server, ["/login", "/password/forgot", "/password/reset?token=x",
                                    "/no-such-page", "/i/not-a-token"], found)

    # Staff: the admin reaches every staff page.
    log_in(page, demo_accounts["admin"])
    staff_paths = [
        "/", "/assessments", "/assessments?archived=true", "/assessments/new",
        f"/assessments/{a}", f"/assessments/{a}/edit", f"/assessments/{a}/dashboard",
        f"/assessments/{a}/dashboard?flagged=true", "/pipeline", "/pipeline?status=submitted",
        "/bank", *[f"/bank/{s}/preview" for s in bank_ids], "/review", "/outbox",
        "/admin/users", "/admin/audit", "/admin/settings", "/account/password",
        f"/attempts/{ada}", f"/attempts/{grace}", f"/attempts/{linus}",
        f"/compare?attempt={ada}&attempt={grace}&attempt={linus}", f"/compare?attempt={ada}",
    ]
    check_pages(page, live_server, staff_paths, found)
    # Swagger UI once it has drawn the operations (its markup is vendored; our page wraps it).
    page.goto(f"{live_server}/api/docs")
    page.locator(".opblock").first.wait_for(timeout=30_000)
    page.locator(".opblock-post .opblock-summary-control").first.click()  # one operation open
    page.locator(".opblock-body").first.wait_for()
    check_here(page, "/api/docs", found)
    # The report with the notebook history and the grade forms opened.
    page.goto(f"{live_server}/attempts/{linus}")
    for d in page.locator("details").all():
        d.evaluate("el => el.open = true")
    bad = axe_violations(page)
    if bad:
        found["report with every <details> open"] = bad
    for role in ("recruiter", "hiring_manager"):
        ctx = browser.new_context(viewport=VIEWPORT)
        try:
            tab = ctx.new_page()
            log_in(tab, demo_accounts[role])
            check_pages(tab, live_server, ["/", f"/assessments/{a}/dashboard", "/pipeline"],
                        found)
        finally:
            ctx.close()

    # A candidate: landing, every scenario, the submitted page.
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        tab = ctx.new_page()
        tab.goto(cohort.invite_url)
        tab.wait_for_url(f"{live_server}/take")
        check_pages(tab, live_server, ["/take"], found)
        tab.get_by_role("button", name="Start").click()
        tab.wait_for_url(f"{live_server}/take/0")
        check_pages(tab, live_server, [f"/take/{i}" for i in range(len(FLAGSHIPS))], found)
        # The submit dialog open, then the page after submit.
        tab.locator("#submit-open").click()
        tab.locator("#submit-dialog").wait_for(state="visible")
        check_here(tab, "/take submit dialog", found)
        tab.locator("#submit-dialog").get_by_role("button", name="Submit", exact=True).click()
        tab.wait_for_url(f"{live_server}/take/done")
        tab.wait_for_load_state("networkidle")
        check_here(tab, "/take/done", found)
    finally:
        ctx.close()

    assert not found, "axe-core critical/serious violations:\n" + json.dumps(found, indent=1)
