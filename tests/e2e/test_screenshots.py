"""Screenshots of what users see, at 1366x900: the report and the dashboard a hiring manager
reads (the candidate's workspace: tests/e2e/test_workspace.py). `scripts/screenshots` runs
this module with
BURNIN_SCREENSHOTS=docs/screenshots to refresh the pictures in the docs; in a normal test run
they go to test-artifacts/screenshots."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from server.ops.demo import DemoUser
from tests.e2e.cohort import make_graded_cohort
from tests.e2e.conftest import ROOT, SCREENSHOTS, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.docker, pytest.mark.slow]
SIZE = {"width": 1366, "height": 900}
OUT = ROOT / os.environ["BURNIN_SCREENSHOTS"] if os.environ.get("BURNIN_SCREENSHOTS") \
    else SCREENSHOTS


def save(page: Any, name: str, *, full_page: bool = False) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def test_screenshots_of_report_and_dashboard(
    live_server: LiveServer, demo_accounts: dict[str, DemoUser], browser: Any,
) -> None:
    cohort = make_graded_cohort(live_server)
    ada = cohort.attempt_ids["ada@example.com"]
    manager = browser.new_context(viewport=SIZE, locale="en-GB", timezone_id="UTC")
    try:
        page = manager.new_page()
        user = demo_accounts["hiring_manager"]
        page.goto(f"{live_server}/login?next=/assessments/{cohort.assessment_id}/dashboard")
        page.get_by_label("E-mail").fill(user.email)
        page.get_by_label("Password").fill(user.password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server}/assessments/{cohort.assessment_id}/dashboard")
        assert page.evaluate("document.documentElement.scrollWidth") <= SIZE["width"]
        save(page, "dashboard")
        page.goto(f"{live_server}/attempts/{ada}")
        assert page.evaluate("document.documentElement.scrollWidth") <= SIZE["width"]
        save(page, "report")
        # The first written answer with its credited sentences, next to its criteria.
        page.locator("mark.earned").first.scroll_into_view_if_needed()
        page.evaluate("window.scrollBy(0, -120)")
        save(page, "report-writeup")
        page.locator("details.cases summary").first.click()
        page.locator("table.cases").first.scroll_into_view_if_needed()
        save(page, "report-test-cases")
    finally:
        manager.close()
