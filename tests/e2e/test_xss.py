"""Candidate-written Markdown and kernel HTML output render inert in a real browser:
scripts, event handlers and javascript: links never run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from server.invites import service as invites
from tests.e2e.conftest import LiveServer
from tests.factories import make_assessment

pytestmark = [pytest.mark.browser, pytest.mark.docker]

PAYLOAD = ('<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
           '<svg onload="window.__xss = 3"></svg><a href="javascript:window.__xss = 4">go</a>'
           '[md link](javascript:window.__xss=5)')


@pytest.fixture
def live_settings() -> dict[str, Any]:
    return {"kernel_pool_size": 1}


def test_markdown_preview_and_kernel_html_are_inert(live_server: LiveServer,
                                                    demo_accounts: dict[str, Any],
                                                    page: Any,
                                                    shot: Callable[..., Path]) -> None:
    from server.ops.demo import demo_org_id

    with live_server.transaction() as s:
        org_id = demo_org_id(s)
        from server.models import Organization

        assessment = make_assessment(s, org=s.get_one(Organization, org_id))
        _, url = invites.create(s, org_id=org_id, assessment_id=assessment.id,
                                email_addr="mallory@example.com", name="Mallory", days=2,
                                base_url=str(live_server),
                                secret_key=live_server.settings.secret_key,
                                actor=invites.Actor("test"))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.get_by_role("button", name="Start the assessment").click()
    page.wait_for_url(f"{live_server}/take/0")

    area = page.locator("textarea[name='evidence']")
    area.fill(PAYLOAD)
    page.locator("textarea[name='evidence'] ~ button", has_text="Preview").first.click()
    preview = page.locator(".md-preview").first
    preview.wait_for()
    assert "window.__xss = 1" in preview.inner_text()  # shown as text

    page.locator("#notebook .cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.type(f"from IPython.display import HTML\nHTML({PAYLOAD!r})")
    page.get_by_role("button", name="Run cell").click()
    page.locator("#nb-cells .nb-cell:not(.s-running)").first.wait_for(timeout=120_000)
    page.wait_for_timeout(500)  # give any injected handler the chance to fire
    shot("xss-inert")

    assert page.evaluate("window.__xss") is None
    assert dialogs == []
    for region in (".md-preview", "#nb-cells"):
        counts = page.evaluate(
            """(sel) => { const r = document.querySelector(sel);
                 return {scripts: r.querySelectorAll('script').length,
                         handlers: [...r.querySelectorAll('*')].filter(e =>
                           [...e.attributes].some(a => a.name.startsWith('on'))).length,
                         js_links: [...r.querySelectorAll('[href]')].filter(e =>
                           e.getAttribute('href').trim().toLowerCase()
                            .startsWith('javascript:')).length}; }""", region)
        assert counts == {"scripts": 0, "handlers": 0, "js_links": 0}, (region, counts)
