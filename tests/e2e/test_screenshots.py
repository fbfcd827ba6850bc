"""Screenshots of what users see, at 1366x900: the report and the dashboard a hiring manager
reads (the candidate's workspace: tests/e2e/test_workspace.py). `scripts/screenshots` runs
this module with
BURNIN_SCREENSHOTS=docs/screenshots to refresh the pictures in the docs; in a normal test run
they go to test-artifacts/screenshots."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from server.models import CellRun, utcnow
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
    _report_with_notebook_history_open(live_server, demo_accounts["hiring_manager"], browser,
                                       ada)


# A candidate who worked in the notebook: enough cells, long lines and long outputs that an
# unbounded history would push the criteria off-screen or widen the page.
CELLS = [
    ("import json, math\nspec = json.load(open('artifacts/cluster.json'))\nprint(spec)",
     "{'gpus': 512, 'gpu': 'H100-SXM-80GB', 'nvlink_gbps': 900, 'ib_gbps_per_gpu': 400, "
     "'nodes': 64, 'fs_gbps': 1200}"),
    ("# per-GPU memory of the plan: weights + grads + optimizer shards + activations\n"
     "params = 70e9; tp, pp, dp = 8, 4, 16\n"
     "print(params * 18 / (tp * pp) / 2**30, 'GiB before ZeRO-1')", "36.67 GiB before ZeRO-1"),
    ("for mb in (1, 2, 4, 8):\n    print(mb, 'bubble', round((4 - 1) / (4 - 1 + 8 * mb), 3))",
     "\n".join(f"{mb} bubble {round(3 / (3 + 8 * mb), 3)}" for mb in (1, 2, 4, 8))),
] * 4


def _report_with_notebook_history_open(live: LiveServer, user: DemoUser, browser: Any,
                                       attempt_id: int) -> None:
    with live.transaction() as session:
        started = utcnow() - timedelta(minutes=30)
        for n, (code, out) in enumerate(CELLS, start=1):
            begin = started + timedelta(minutes=2 * n)
            session.add(CellRun(attempt_id=attempt_id, scenario_id="train-large-dense",
                                code=code, outputs={"items": [{"type": "stream", "text": out}]},
                                status="ok", execution_count=n, started_at=begin,
                                finished_at=begin + timedelta(milliseconds=40 + 7 * n)))
    for size, name in (({"width": 1280, "height": 800}, "report-notebook-1280x800"),
                       ({"width": 1920, "height": 1080}, "report-notebook-1920x1080")):
        ctx = browser.new_context(viewport=size, locale="en-GB", timezone_id="UTC")
        try:
            page = ctx.new_page()
            page.goto(f"{live}/login?next=/attempts/{attempt_id}")
            page.get_by_label("E-mail").fill(user.email)
            page.get_by_label("Password").fill(user.password)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(f"{live}/attempts/{attempt_id}")
            history = page.locator("details.notebook").first
            history.locator("summary").click()
            cells = history.locator(".nb-cell")
            assert cells.count() == len(CELLS)
            history.locator("summary").scroll_into_view_if_needed()
            page.evaluate("window.scrollBy(0, -40)")
            # The page does not grow sideways, the history scrolls inside its own box, and
            # the criteria of the same scenario stay on screen beside it.
            assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
            box = history.locator(".nb-cells").bounding_box()
            assert box is not None and box["height"] <= 0.75 * size["height"]
            report = history.locator("xpath=ancestor::*[contains(@class, 'scenario-report')]")
            crit = report.locator(".criteria-col").bounding_box()
            assert crit is not None
            assert crit["y"] < size["height"] and crit["y"] + crit["height"] > 0
            assert crit["x"] > box["x"] + box["width"] - 1  # beside, not below
            # The history is keyboard-scrollable (a focusable region with a name).
            region = history.locator(".nb-cells")
            assert region.get_attribute("tabindex") == "0" and region.get_attribute("aria-label")
            save(page, name)
        finally:
            ctx.close()
