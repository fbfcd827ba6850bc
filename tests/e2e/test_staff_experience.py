"""The hiring manager's, recruiter's and admin's experience in Debian's Chromium: the report
as a write-up, compare, review queue, dashboard per role, assessment builder, confirmations,
filters in the URL, the password flow and /api/docs offline."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from scenarios.loader import load_bank
from server.ops.demo import DemoUser
from tests.e2e.cohort import FLAGSHIPS, make_graded_cohort
from tests.e2e.conftest import VIEWPORT, LiveServer, MailCatcher

pytestmark = pytest.mark.browser


@pytest.mark.docker
@pytest.mark.slow
def test_manager_reads_a_report_compares_and_works_the_queue(
    live_server: LiveServer, demo_accounts: dict[str, DemoUser], page: Any, browser: Any,
    log_in: Callable[..., None],
) -> None:
    cohort = make_graded_cohort(live_server)
    ada, grace, linus = (cohort.attempt_ids[e] for e in
                         ("ada@example.com", "grace@example.com", "linus@example.com"))
    log_in(page, demo_accounts["hiring_manager"])
    # Home never offers what the role cannot open.
    for href in page.locator("main a.tile").evaluate_all("els => els.map(e => e.href)"):
        assert page.request.get(href).status == 200, href

    page.goto(f"{live_server}/attempts/{ada}")
    main = page.locator("main")
    text = main.inner_text()
    # Rendered Markdown, not raw: no '**' or '##' and section titles instead of keys.
    assert "Parallelism and topology" in text and "[parallelism]" not in text
    assert page.locator(".md p").count() > 3
    # The sentences that earned points are marked and linked from their criterion.
    marks = page.locator("mark.earned")
    assert marks.count() >= 5
    link = page.locator(".quote a").first
    target = link.get_attribute("href")
    assert target and page.locator(f"mark{target}").count() == 1
    # Evidence in words, not JSON; claims with their checked values.
    criteria = "\n".join(page.locator(".criteria-col").all_inner_texts())
    assert '{"' not in criteria and '"anchors"' not in criteria and "user:" not in criteria
    assert "checked value" in criteria
    # Code: every listed case with input, expected and actual; the hidden-case count explained.
    page.locator("details.cases summary").first.click()
    table = page.locator("table.cases").first
    assert table.locator("th").all_inner_texts()[:4] == ["Case", "Input", "Expected", "Actual"]
    first = table.locator("tbody tr").first.locator("td").all_inner_texts()
    assert "nodes" in first[1] and "GPUs" in first[2] and first[3]
    assert re.search(r"Points = 60 × the average credit over \d+ hidden cases", text)
    # Small cohort: a rank, not "percentile 75 of 2".
    assert "ranked 1 of 3 graded" in text and "percentile" not in text.lower()
    # Opening the notebook history keeps the criteria in view (the column is sticky).
    assert page.locator(".criteria-col").first.evaluate(
        "el => getComputedStyle(el).position") == "sticky"

    # A person's grade shows their name, not user:N.
    page.goto(f"{live_server}/attempts/{grace}")
    form = page.locator("form.grade-form").filter(has=page.locator("input[name=level]")).first
    form.locator("xpath=ancestor::details").evaluate("el => el.open = true")
    form.locator("input[name=level]").first.check()
    form.get_by_label("Comment").fill("Read it twice.")
    form.get_by_role("button", name="Save").click()
    page.wait_for_load_state("load")
    assert "scored by Hank Hiring-Manager" in page.locator("main").inner_text()

    # Compare with one candidate: a page that helps pick more, not a bare 400.
    page.goto(f"{live_server}/compare?attempt={ada}")
    assert "Pick at least one more candidate" in page.get_by_role("alert").inner_text()
    page.get_by_label(re.compile("Grace Hopper")).check()
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url(re.compile(r"/compare\?attempt="))
    assert page.locator("table.compare").is_visible()

    # The blank answer does not wait for review; filters stay in the URL.
    page.goto(f"{live_server}/review")
    rows = page.locator("table.data tbody tr")
    titles = {s: load_bank().get(s).manifest.title for s in FLAGSHIPS}
    waiting = rows.all_inner_texts()
    assert any("Ada Lovelace" in r for r in waiting)
    # Linus left the fleet planner blank: it scored 0 instead of waiting here.
    assert not any("Linus Blank" in r and titles["serving-fleet-planner"] in r for r in waiting)
    page.get_by_label("Scenario").select_option("debug-slow-run")
    page.wait_for_url(re.compile(r"/review\?assessment=&scenario=debug-slow-run"))
    filtered = rows.all_inner_texts()
    assert filtered and all(titles["debug-slow-run"] in r for r in filtered)
    page.reload()
    assert page.get_by_label("Scenario").input_value() == "debug-slow-run"

    # The recruiter's dashboard shows what the recruiter's API gives: status and overall score.
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        tab = ctx.new_page()
        log_in(tab, demo_accounts["recruiter"])
        tab.goto(f"{live_server}/assessments/{cohort.assessment_id}/dashboard")
        headers = [h.lower() for h in tab.locator("table.data th").all_inner_texts()]
        assert headers[:3] == ["candidate", "status", "overall"] and len(headers) == 3
        api = tab.request.get(f"{live_server}/api/v1/attempts/{linus}/report").json()
        assert "dimensions" not in api or api["dimensions"] is None
        for href in tab.locator("main a.tile").evaluate_all("els => els.map(e => e.href)"):
            assert tab.request.get(href).status == 200, href
    finally:
        ctx.close()


def test_builder_errors_picker_minutes_invites_and_confirmations(
    live_server: LiveServer, demo_accounts: dict[str, DemoUser], page: Any,
    log_in: Callable[..., None],
) -> None:
    log_in(page, demo_accounts["recruiter"], next="/assessments/new")
    page.get_by_label("Title").fill("Infra lead")
    page.get_by_role("button", name="Create assessment").click()
    alert = page.get_by_role("alert")
    assert "Pick at least one scenario" in alert.inner_text()
    assert "List should have" not in alert.inner_text()
    # Human skill names; an empty state when nothing matches; minutes against the limit.
    skills = page.locator("#bank-skill option").all_inner_texts()
    assert "Systems design" in skills and not any("_" in s for s in skills)
    page.get_by_label("Search").fill("no such scenario anywhere")
    assert page.locator("#picker-empty").is_visible()
    page.get_by_label("Search").fill("")
    assert page.locator("#picker-empty").is_hidden()
    page.get_by_label("Time limit (minutes)").fill("30")
    boxes = page.locator("#picker tbody input[type=checkbox]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    total = page.locator("#picker-total")
    assert "2 scenarios picked" in total.inner_text()
    assert "more than the limit allows" in total.inner_text()
    page.get_by_label("Time limit (minutes)").fill("600")
    assert "more than the limit" not in total.inner_text()
    page.get_by_role("button", name="Create assessment").click()
    page.wait_for_url(re.compile(r"/assessments/\d+$"))

    # SMTP is configured in this live server: the notice says e-mailed.
    page.locator("form[hx-post$='/invite']").get_by_label("E-mail").fill("kim@example.com")
    page.locator("form[hx-post$='/invite']").get_by_role("button", name="Invite").click()
    assert "Invitation e-mailed" in page.get_by_role("status").inner_text()

    # Archive asks first; dismissing keeps the assessment active.
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.get_by_role("button", name="Archive").click()
    assert asked and "Archive" in asked[0]
    page.wait_for_timeout(300)
    assert page.locator(".badge", has_text="active").count() == 1
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Archive").click()
    page.wait_for_load_state("load")
    page.locator(".badge", has_text="archived").wait_for()

    # Pipeline filters are in the URL and survive a reload; aria-sort sits on the header.
    page.goto(f"{live_server}/pipeline")
    page.get_by_label("Status").select_option("invited")
    page.wait_for_url(re.compile(r"status=invited"))
    page.reload()
    assert page.get_by_label("Status").input_value() == "invited"
    assert page.locator("a[aria-sort]").count() == 0
    assert page.locator("th[aria-sort]").count() >= 4


@pytest.fixture
def no_smtp_settings() -> dict[str, Any]:
    return {"smtp_host": None}


class TestWithoutSmtp:
    @pytest.fixture
    def live_settings(self) -> dict[str, Any]:
        return {"smtp_host": None}

    def test_invitation_says_outbox_when_no_smtp(
        self, live_server: LiveServer, demo_accounts: dict[str, DemoUser], page: Any,
        log_in: Callable[..., None],
    ) -> None:
        log_in(page, demo_accounts["recruiter"], next="/assessments/new")
        page.get_by_label("Title").fill("No mail")
        page.locator("#picker tbody input[type=checkbox]").first.check()
        page.get_by_role("button", name="Create assessment").click()
        page.wait_for_url(re.compile(r"/assessments/\d+$"))
        page.locator("form[hx-post$='/invite']").get_by_label("E-mail").fill("lee@example.com")
        page.locator("form[hx-post$='/invite']").get_by_role("button", name="Invite").click()
        notice = page.get_by_role("status").inner_text()
        assert "queued in the outbox" in notice and "e-mailed" not in notice


def test_first_login_forces_a_password_change_and_reset_link_works(
    live_server: LiveServer, demo_accounts: dict[str, DemoUser], page: Any, browser: Any,
    log_in: Callable[..., None], smtp_server: MailCatcher,
) -> None:
    log_in(page, demo_accounts["admin"], next="/admin/users")
    form = page.locator("form[hx-post='/admin/users']")
    assert form.get_by_label("Role").input_value() == ""  # no default role, least of all admin
    form.get_by_label("Name").fill("Nora Newhire")
    form.get_by_label("E-mail").fill("nora@example.com")
    form.get_by_label("Role").select_option("recruiter")
    form.get_by_role("button", name="Add user").click()
    otp = page.locator("code.secret").inner_text().strip()
    # Role change and Disable ask first.
    row = page.locator("tr", has_text="nora@example.com")
    row.get_by_label("Role of nora@example.com").select_option("hiring_manager")
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Change role").click()
    page.get_by_text("nora@example.com is now hiring manager").wait_for()
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.locator("tr", has_text="nora@example.com").get_by_role("button", name="Disable").click()
    page.wait_for_timeout(300)
    assert asked and "Disable nora@example.com" in asked[0]
    assert "disabled" not in page.locator("tr", has_text="nora@example.com").inner_text()

    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        tab = ctx.new_page()
        tab.goto(f"{live_server}/login?next=/pipeline")
        tab.get_by_label("E-mail").fill("nora@example.com")
        tab.get_by_label("Password", exact=True).fill(otp)
        tab.get_by_role("button", name="Log in").click()
        tab.wait_for_url(re.compile(r"/account/password\?next="))
        assert "Choose your own password" in tab.locator("h1").inner_text()
        tab.goto(f"{live_server}/bank")  # anything else leads back to the form
        tab.wait_for_url(re.compile(r"/account/password"))
        tab.get_by_label("One-time password").fill(otp)
        tab.get_by_label("New password", exact=False).first.fill("nora-chooses-this-one")
        tab.get_by_label("New password again").fill("nora-chooses-this-one")
        tab.get_by_role("button", name="Save new password").click()
        tab.wait_for_url(f"{live_server}/bank")  # where it was going when sent to the form
    finally:
        ctx.close()

    # Forgot password: the link comes by e-mail through the outbox and SMTP.
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        tab = ctx.new_page()
        tab.goto(f"{live_server}/login")
        tab.get_by_role("link", name="Forgot your password?").click()
        tab.get_by_label("E-mail").fill("nora@example.com")
        tab.get_by_role("button", name="E-mail me a reset link").click()
        assert "reset link is on its way" in tab.get_by_role("status").inner_text()
        url = smtp_server.wait_for_url("nora@example.com", prefix=f"{live_server}/password/reset",
                                       subject_contains="Reset")
        tab.goto(url)
        tab.get_by_label("New password", exact=False).first.fill("nora-after-reset-1")
        tab.get_by_label("New password again").fill("nora-after-reset-1")
        tab.get_by_role("button", name="Save new password").click()
        assert "Password changed" in tab.get_by_role("status").inner_text()
        tab.get_by_label("Password", exact=True).fill("nora-after-reset-1")
        tab.get_by_role("button", name="Log in").click()
        tab.wait_for_url(f"{live_server}/")
    finally:
        ctx.close()


def test_audit_log_is_readable_links_objects_and_filters_by_url(
    live_server: LiveServer, demo_accounts: dict[str, DemoUser], page: Any,
    log_in: Callable[..., None],
) -> None:
    log_in(page, demo_accounts["admin"], next="/admin/settings")
    page.get_by_label("Branding name").fill('Acme "Labs"')
    page.get_by_role("button", name="Save settings").click()
    page.goto(f"{live_server}/admin/audit")
    text = page.locator("main").inner_text()
    assert '\\"' not in text and '{"' not in text  # no JSON with visible escapes
    assert 'Acme "Labs"' in text
    page.locator("a", has_text="organization").first.click()
    page.wait_for_url(f"{live_server}/admin/settings")
    page.goto(f"{live_server}/admin/audit")
    page.get_by_label("Action").select_option("user.")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"action=user\."))
    actions = page.locator("table.data tbody tr td:nth-child(3)").all_inner_texts()
    assert actions and all(a.startswith("user.") for a in actions)
    page.reload()
    assert page.get_by_label("Action").input_value() == "user."


def test_api_docs_list_every_operation_offline(live_server: LiveServer, page: Any) -> None:
    outside: list[str] = []

    def only_loopback(route: Any) -> None:
        if route.request.url.startswith(str(live_server)):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_loopback)
    page.goto(f"{live_server}/api/docs")
    page.locator(".opblock").first.wait_for()
    spec = page.request.get(f"{live_server}/api/v1/openapi.json").json()
    want = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops
            if m in ("get", "post", "put", "patch", "delete")}
    shown = (page.locator(".opblock-summary").evaluate_all(
        "els => els.map(e => [e.querySelector('.opblock-summary-method').innerText,"
        " e.querySelector('.opblock-summary-path').dataset.path])"))
    assert {tuple(x) for x in shown} == want  # an operation under two tags shows twice
    assert outside == []
    assert page.request.get(f"{live_server}/favicon.ico").status == 200
