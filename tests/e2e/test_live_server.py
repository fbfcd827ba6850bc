"""E-mail reaches a real SMTP server on loopback; the live server works (no browser needed)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from server.accounts import repository as account_repo
from server.email.service import SmtpConfig, outbox, queue, send_one
from server.ops.demo import DEMO_SLUG, DemoUser
from tests.e2e.conftest import LiveServer, MailCatcher, run_async


def _config(server: MailCatcher) -> SmtpConfig:
    return SmtpConfig(host=server.host, port=server.port, tls="none", username=None,
                      password=None, sender="Burnin <burnin@example.com>")


def test_send_one_delivers_to_the_loopback_server(smtp_server: MailCatcher) -> None:
    body = "Hello Cleo,\n\nStart here: http://127.0.0.1:8000/c/abc123?x=1\n\nBurnin"
    run_async(send_one(_config(smtp_server), "cleo@example.com", "Your assessment", body))
    mail = smtp_server.wait_for("Cleo@Example.com", subject_contains="assessment", timeout=5)
    assert mail.rcpt_tos == ("cleo@example.com",)
    assert mail.message["From"] == "Burnin <burnin@example.com>"
    assert mail.text.strip() == body
    assert smtp_server.wait_for_url("cleo@example.com", prefix="http://127.0.0.1:8000/c/") == \
        "http://127.0.0.1:8000/c/abc123?x=1"


def test_waiting_for_mail_that_never_comes_fails(smtp_server: MailCatcher) -> None:
    run_async(send_one(_config(smtp_server), "a@example.com", "Hi", "no link here"))
    with pytest.raises(pytest.fail.Exception, match="no e-mail to 'b@example.com'"):
        smtp_server.wait_for("b@example.com", timeout=0.2)
    with pytest.raises(pytest.fail.Exception, match="no URL"):
        smtp_server.wait_for_url("a@example.com", timeout=1)


def test_live_server_points_at_the_smtp_server(live_server: LiveServer,
                                               smtp_server: MailCatcher) -> None:
    s = live_server.settings
    assert (s.smtp_host, s.smtp_port, s.smtp_tls) == (smtp_server.host, smtp_server.port, "none")
    assert s.base_url == str(live_server)


def test_live_server_delivers_queued_mail_to_the_smtp_server(
    live_server: LiveServer, smtp_server: MailCatcher, demo_accounts: dict[str, DemoUser],
) -> None:
    with live_server.transaction() as session:
        org_id = account_repo.org_by_slug(session, DEMO_SLUG).id
        queue(session, org_id=org_id, to="dana@example.com", subject="You are invited",
              body=f"Open {live_server}/i/tok123 to start.", kind="invite")
    assert smtp_server.wait_for_url("dana@example.com", prefix=live_server.url, timeout=15) == \
        f"{live_server}/i/tok123"
    deadline = time.monotonic() + 5  # the outbox row is marked just after the SMTP reply
    while True:
        with live_server.transaction() as session:
            (sent,) = outbox(session, org_id)
        if sent.status == "sent" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert sent.status == "sent"


class TestLiveSettingsOverride:
    @pytest.fixture
    def live_settings(self) -> dict[str, object]:
        return {"invite_days": 3, "background_every_s": 2.5}

    def test_a_module_can_change_the_live_servers_settings(self,
                                                           live_server: LiveServer) -> None:
        assert live_server.settings.invite_days == 3
        assert live_server.settings.background_every_s == 2.5


def test_live_server_notices_a_500(live_server: LiveServer) -> None:
    def boom() -> None:
        raise RuntimeError("deliberate failure for this test")

    live_server.app.add_api_route("/test-only/boom", boom)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{live_server}/test-only/boom", timeout=10)
    assert caught.value.code == 500
    assert live_server.unexpected_server_errors() == ["GET /test-only/boom"]
    live_server.expect_server_errors = True  # else the fixture's teardown fails this test
    assert live_server.unexpected_server_errors() == []
