"""In Debian's Chromium against the real server: a candidate whose kernel is queued behind
other candidates' starts reads their place and an estimate in the notebook's live region
("Starting your sandbox: 3rd in line, about 8 s."), then gets the cell's result. The pool
keeps nothing warm and starts one kernel at a time; two other "candidates" wait before.
The screenshot goes to test-artifacts/screenshots/candidate-kernel-queue.png."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from sandbox.pool import KernelPool, Session
from server.notebooks.backend import kernel_limits
from tests.e2e.conftest import LiveServer
from tests.e2e.test_workspace import SERVING, cell_state, save_shot, set_cell, start

pytestmark = [pytest.mark.browser, pytest.mark.docker]


@pytest.fixture
def live_settings() -> dict[str, Any]:
    return {"cell_timeout_s": 40}


def test_a_queued_candidate_sees_place_and_eta_then_the_result(
        live_server: LiveServer, page: Any) -> None:
    notebooks = live_server.app.state.notebooks
    try:
        backend = notebooks.backend()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no sandbox backend: {exc}")
    pool = KernelPool(backend, size=0, max_warm=0, max_parallel_starts=1,
                      limits=kernel_limits(notebooks.settings)).start()
    notebooks._pool = pool
    others: list[Session] = []
    ahead = [threading.Thread(target=lambda: others.append(pool.acquire(timeout_s=120)))
             for _ in range(2)]
    try:
        page.set_viewport_size({"width": 1366, "height": 900})
        start(page, live_server)
        page.goto(f"{live_server}/take/{SERVING}")
        page.evaluate("""() => { window.statusSeen = [];
            new MutationObserver(() => window.statusSeen.push(
                document.getElementById('nb-status').textContent))
              .observe(document.getElementById('nb-status'),
                       {childList: true, characterData: true, subtree: true}); }""")
        for t in ahead:
            t.start()
        page.wait_for_timeout(200)
        assert pool.stats()["waiting"] >= 1
        set_cell(page, "print('first result')")
        page.get_by_role("button", name="Run cell").click()
        page.wait_for_function(
            "() => /Starting your sandbox: \\d+(st|nd|rd|th) in line, about \\d+ s\\./"
            ".test(document.getElementById('nb-status').textContent)", timeout=30_000)
        assert page.locator("#nb-status").get_attribute("aria-live") == "polite"
        assert "in line" in page.locator("#nb-cells .nb-cell .nb-wait").last.inner_text()
        page.locator("#nb-status").scroll_into_view_if_needed()
        save_shot(page, "candidate-kernel-queue")
        page.wait_for_function("() => !document.querySelector('#nb-cells .s-running')",
                               timeout=120_000)
        cell = page.locator("#nb-cells .nb-cell").last
        assert cell_state(cell) == "ok", cell.inner_text()
        assert "first result" in cell.inner_text()
        seen = page.evaluate("window.statusSeen")
        waits = [s for s in seen if s.startswith("Starting your sandbox:")]
        assert waits, seen
        places = [int(s.split(": ")[1].split(" ")[0][:-2]) for s in waits if "in line" in s]
        assert places == sorted(places, reverse=True), waits  # the place only moves up
        assert page.locator("#nb-status").inner_text().startswith("Done in")
    finally:
        for t in ahead:
            if t.is_alive() or t.ident:
                t.join(120)
        for s in others:
            s.close()
