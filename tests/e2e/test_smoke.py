"""The browser stack works: the real login page, an htmx form, the CodeMirror bundle."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from server.ops.demo import DemoUser
from tests.e2e.conftest import ROOT, VIEWPORT, LiveServer

pytestmark = pytest.mark.browser

BUNDLE = ROOT / "web" / "static" / "vendor" / "codemirror" / "codemirror.min.js"


def test_admin_logs_in_and_adds_a_user_who_can_then_log_in(
    live_server: LiveServer, demo_accounts: dict[str, DemoUser], page: Any, browser: Any,
    shot: Callable[..., Path], log_in: Callable[..., None],
) -> None:
    admin = demo_accounts["admin"]
    page.goto(f"{live_server}/admin/users")
    page.wait_for_url(f"{live_server}/login?next=/admin/users")
    page.get_by_label("E-mail").fill(admin.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").is_visible()
    shot("login-failed")

    log_in(page, admin)
    assert page.get_by_role("heading", level=1).inner_text() == "Demo Org"
    assert admin.email in page.locator("main").inner_text()
    shot("home-admin")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    page.wait_for_url(f"{live_server}/admin/users")
    form = page.locator("form[hx-post='/admin/users']")
    form.get_by_label("Name").fill("Nora Newhire")
    form.get_by_label("E-mail").fill("nora@example.com")
    form.get_by_label("Role").select_option("recruiter")
    form.get_by_role("button", name="Add user").click()
    notice = page.get_by_role("status")
    notice.wait_for()
    assert "Created nora@example.com" in notice.inner_text()
    password = notice.locator("code.secret").inner_text().strip()
    assert len(password) >= 12
    assert page.locator("table.data").get_by_role("cell", name="nora@example.com", exact=True).is_visible()
    assert page.url == f"{live_server}/admin/users"  # htmx swapped the section in place
    shot("admin-users-created")

    # The live server recorded what the browser was sent, fragments included.
    (created,) = [r for r in live_server.responses("/admin/users") if r.method == "POST"
                  and r.status == 201]
    assert password in created.text and "<html" not in created.text  # a fragment, not a page
    assert any(r.path == "/login" and r.status == 401 for r in live_server.responses("/login"))

    # The password shown once is the one that works, once: it must be replaced first.
    other = browser.new_context(viewport=VIEWPORT)
    try:
        tab = other.new_page()
        tab.goto(f"{live_server}/login")
        tab.get_by_label("E-mail").fill("nora@example.com")
        tab.get_by_label("Password").fill(password)
        tab.get_by_role("button", name="Log in").click()
        tab.wait_for_url(f"{live_server}/account/password?next=%2F")
        tab.get_by_label("One-time password").fill(password)
        tab.get_by_label("New password", exact=False).first.fill("nora-own-password-1")
        tab.get_by_label("New password again").fill("nora-own-password-1")
        tab.get_by_role("button", name="Save new password").click()
        tab.wait_for_url(f"{live_server}/")
        assert "nora@example.com" in tab.locator("main").inner_text()
    finally:
        other.close()


def test_admin_users_form_shows_a_duplicate_email_error(
    live_server: LiveServer, demo_accounts: dict[str, DemoUser], page: Any,
    log_in: Callable[..., None],
) -> None:
    log_in(page, demo_accounts["admin"], next="/admin/users")
    form = page.locator("form[hx-post='/admin/users']")
    form.get_by_label("Name").fill("Rita Again")
    form.get_by_label("E-mail").fill(demo_accounts["recruiter"].email)
    form.get_by_label("Role").select_option("recruiter")
    form.get_by_role("button", name="Add user").click()
    alert = page.get_by_role("alert")
    alert.wait_for()  # a 4xx fragment is swapped in, so the error shows where the form is
    assert page.get_by_role("status").count() == 0


CM_PAGE = """<!doctype html><html lang="en"><body>
<label for="code">Solution</label>
<textarea id="code" name="code" rows="6">def f(x):
    return x
</textarea>
<button id="after">After</button>
<textarea id="notes" data-editor="markdown"># Notes</textarea>
<textarea id="ro" readonly>{"a": 1}</textarea>
</body></html>"""


@pytest.fixture
def editor_page(page: Any, live_server: LiveServer) -> Any:
    page.set_content(CM_PAGE)
    # Served by the app from web/static, as pages will load it.
    page.add_script_tag(url=f"{live_server}/static/vendor/codemirror/codemirror.min.js")
    page.evaluate("""() => {
        window.inputs = 0; window.changes = 0;
        const t = document.getElementById("code");
        t.addEventListener("input", () => window.inputs++);
        t.addEventListener("change", () => window.changes++);
        window.ed = BurninEditor.create(t, {language: "python"});
    }""")
    return page


def test_codemirror_bundle_replaces_a_textarea_and_keeps_it_in_sync(
    editor_page: Any, shot: Callable[..., Path],
) -> None:
    page = editor_page
    assert BUNDLE.stat().st_size < 1_000_000
    textarea = page.locator("#code")
    editor = page.locator(".cm-editor[data-for='code']")
    assert editor.is_visible() and not textarea.is_visible()
    assert page.locator(".cm-editor[data-for='code'] .cm-content").get_attribute(
        "aria-label") == "Solution"
    # Python is highlighted: the keyword gets its own styled span.
    assert editor.locator(".cm-line span", has_text="def").count() >= 1

    page.get_by_text("Solution").click()  # the label focuses the editor
    page.keyboard.press("Control+End")
    page.keyboard.type("print(f(1))")
    assert textarea.input_value() == "def f(x):\n    return x\nprint(f(1))"
    assert page.evaluate("window.inputs") == len("print(f(1))")
    assert page.evaluate("ed.getValue()") == textarea.input_value()

    # Tab indents inside the editor; Escape then Tab leaves it for the next control.
    page.keyboard.press("Home")
    page.keyboard.press("Tab")
    assert textarea.input_value().endswith("\n    print(f(1))")
    assert page.evaluate("document.activeElement.classList.contains('cm-content')")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "after"
    assert page.evaluate("window.changes") == 1  # leaving after edits fires `change`

    page.evaluate("ed.setValue('x = 1', {silent: true})")
    assert textarea.input_value() == "x = 1"
    inputs = page.evaluate("window.inputs")
    page.evaluate("ed.setValue('x = 2')")
    assert page.evaluate("window.inputs") == inputs + 1
    shot("codemirror-python")


def test_codemirror_enhances_marked_textareas_and_honours_read_only(editor_page: Any) -> None:
    page = editor_page
    assert page.locator(".cm-editor[data-for='notes']").is_visible()  # data-editor on load
    assert page.evaluate("BurninEditor.get(document.getElementById('notes')).language") == \
        "markdown"
    # HTML inside Markdown goes through the stand-in for @codemirror/lang-html.
    page.locator(".cm-editor[data-for='notes'] .cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n<div onclick=x>hi</div>\n")
    assert page.locator("#notes").input_value() == "# Notes\n<div onclick=x>hi</div>\n"
    page.evaluate("BurninEditor.create(document.getElementById('ro'), {language: 'json'})")
    ro = page.locator(".cm-editor[data-for='ro'] .cm-content")
    ro.click()
    page.keyboard.type("zzz")
    assert page.locator("#ro").input_value() == '{"a": 1}'
    # A language without highlighting still gets a working editor, as plain text.
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    assert page.evaluate("""() => {
        const t = document.createElement('textarea');
        document.body.append(t);
        return BurninEditor.create(t, {language: 'cobol'}).language;
    }""") == "text"
    assert any("cobol" in w for w in warnings)
    page.evaluate("ed.destroy()")
    assert page.locator("#code").is_visible()
    assert page.locator(".cm-editor[data-for='code']").count() == 0


def test_async_code_runs_while_the_browser_is_open(page: Any) -> None:
    import asyncio

    from tests.e2e.conftest import run_async

    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    coro = answer()
    with pytest.raises(RuntimeError, match="running event loop"):
        asyncio.run(coro)  # why run_async exists
    coro.close()
    assert run_async(answer()) == 42
