"""Browser tests: the real app under uvicorn, a real SMTP server and Debian's Chromium.

Fixtures
  smtp_server     MailCatcher: aiosmtpd on a loopback port; .wait_for(to) / .wait_for_url(to)
  live_server     LiveServer: the app on a loopback port, fresh data dir and SQLite database,
                  sending e-mail to smtp_server; a str (its base URL) with .settings, .app,
                  .transaction(), .responses(path_prefix) (every response it sent, for
                  assertions such as "no score on a candidate page"); extra Settings
                  from the `live_settings` fixture; fails the test if it answered 500
  demo_accounts   dict role -> DemoUser made by `burnin demo` logic in the live database
  browser         Chromium per test (Playwright driving Debian's binary, no download)
  page            a fresh context (cookies, storage) per test, 1280x800; fails the test on
                  an uncaught page error
  shot            shot(name) saves test-artifacts/screenshots/<name>.png
  log_in          log_in(page, user) through the real login page
Helper: run_async(coro) runs a coroutine in its own thread (asyncio.run() fails while
Playwright is started).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Self, TypeVar

import pytest
import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy.orm import Session

from server import db
from server.app import create_app
from server.config import Settings
from server.ops.demo import DemoUser, make_demo

T = TypeVar("T")
IN_CI = os.environ.get("CI") == "true"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}
STOP_TIMEOUT_S = 60
URL_RE = re.compile(r"https?://[^\s<>\"')\]]+")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- SMTP ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def text(self) -> str:
        """The plain-text body (or the HTML one when there is no plain part), \\n line ends."""
        body = self.message.get_body(preferencelist=("plain", "html"))
        content: str = body.get_content() if body is not None else ""
        return content.replace("\r\n", "\n")  # SMTP carries CRLF line ends

    def urls(self) -> list[str]:
        return URL_RE.findall(self.text)


class MailCatcher:
    """aiosmtpd handler that keeps every message it accepts, parsed with the email package."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self._messages: list[ReceivedMail] = []
        self._cond = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        mail = ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), message)
        with self._cond:
            self._messages.append(mail)
            self._cond.notify_all()
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._cond:
            return list(self._messages)

    def to(self, address: str) -> list[ReceivedMail]:
        want = address.lower()
        return [m for m in self.messages if want in (r.lower() for r in m.rcpt_tos)]

    def wait_for(self, to: str, *, subject_contains: str = "", timeout: float = 15.0,
                 after: int = 0) -> ReceivedMail:
        """The first message to `to` (skipping the first `after` of them) whose subject
        contains `subject_contains`; fails the test after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [m for m in self.to(to) if subject_contains in m.subject][after:]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(m.rcpt_tos, m.subject) for m in self._messages]
                    pytest.fail(f"no e-mail to {to!r} with subject containing "
                                f"{subject_contains!r} within {timeout} s; received: {seen}")
                self._cond.wait(left)

    def wait_for_url(self, to: str, *, prefix: str = "", subject_contains: str = "",
                     timeout: float = 15.0) -> str:
        """The first URL starting with `prefix` in the first matching message to `to`."""
        mail = self.wait_for(to, subject_contains=subject_contains, timeout=timeout)
        urls = [u for u in mail.urls() if u.startswith(prefix)]
        if not urls:
            pytest.fail(f"no URL starting with {prefix!r} in the e-mail to {to!r}:\n{mail.text}")
        return urls[0]


@pytest.fixture
def smtp_server() -> Iterator[MailCatcher]:
    """A real SMTP server (aiosmtpd) on a free loopback port, no TLS, no authentication."""
    catcher = MailCatcher()
    catcher.port = _free_port()
    controller = Controller(catcher, hostname=catcher.host, port=catcher.port,
                            ready_timeout=10)
    controller.start()
    try:
        yield catcher
    finally:
        controller.stop()


# --- the app --------------------------------------------------------------------------------


@dataclass
class RecordedResponse:
    """One HTTP response the live server sent; the body grows while a stream is running."""

    method: str
    path: str
    query: str
    status: int
    headers: dict[str, str]
    body: bytearray = field(default_factory=bytearray)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class ResponseRecorder:
    """ASGI wrapper keeping every HTTP response (pages, htmx fragments, fetch() JSON, static
    files), so a test can assert over all that a kind of user was sent."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.responses: list[RecordedResponse] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record: RecordedResponse | None = None

        async def recording_send(message: Any) -> None:
            nonlocal record
            if message["type"] == "http.response.start":
                headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                           for k, v in message.get("headers", [])}
                record = RecordedResponse(scope["method"], scope["path"],
                                          scope.get("query_string", b"").decode("latin-1"),
                                          message["status"], headers)
                with self._lock:
                    self.responses.append(record)
            elif message["type"] == "http.response.body" and record is not None:
                record.body.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, recording_send)


class LiveServer(str):
    """The base URL (e.g. "http://127.0.0.1:41234") of a running app, with its parts."""

    settings: Settings
    app: FastAPI
    recorder: ResponseRecorder
    expect_server_errors: bool

    def __new__(cls, url: str, *, settings: Settings, app: FastAPI,
                recorder: ResponseRecorder) -> Self:
        obj = super().__new__(cls, url)
        obj.settings = settings
        obj.app = app
        obj.recorder = recorder
        obj.expect_server_errors = False
        return obj

    def responses(self, path_prefix: str = "/", *, since: int = 0) -> list[RecordedResponse]:
        """Responses sent so far (the first `since` skipped) for paths under `path_prefix`."""
        with self.recorder._lock:
            sent = self.recorder.responses[since:]
        return [r for r in sent if r.path.startswith(path_prefix)]

    def unexpected_server_errors(self) -> list[str]:
        """Requests answered with 500, unless the test set expect_server_errors."""
        if self.expect_server_errors:
            return []
        return [f"{r.method} {r.path}" for r in self.responses() if r.status == 500]

    def response_count(self) -> int:
        """A mark for responses(since=...)."""
        with self.recorder._lock:
            return len(self.recorder.responses)

    @property
    def url(self) -> str:
        return str(self)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session on the live database; commits when the block ends."""
        with db.transaction(self.app.state.sessionmaker) as session:
            yield session


class _Uvicorn(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the main thread belongs to pytest
        pass


@pytest.fixture
def live_settings() -> dict[str, Any]:
    """Extra Settings for the live server; override this fixture in a test module to change
    them (e.g. {"invite_days": 1})."""
    return {}


@pytest.fixture
def live_server(tmp_path: Path, smtp_server: MailCatcher,
                live_settings: dict[str, Any]) -> Iterator[LiveServer]:
    """The real app under uvicorn in a background thread on a free loopback port, with a
    fresh data directory and SQLite database, sending e-mail to `smtp_server`. Its
    background loop (overdue attempts, reminders, e-mail delivery) runs every second; no
    notebook kernels are kept warm (set kernel_pool_size in `live_settings` for that)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / "data"
    settings = Settings(**{
        "data_dir": data_dir,
        "database_url": f"sqlite:///{data_dir / 'burnin.db'}",
        "base_url": base_url,
        "log_json": False,
        "smtp_host": smtp_server.host,
        "smtp_port": smtp_server.port,
        "smtp_tls": "none",
        "smtp_from": "Burnin <burnin@example.com>",
        "background_every_s": 1.0,
        # No warm notebook kernels unless a test asks (live_settings): starting and removing
        # sandbox containers is slow and most browser tests never run code.
        "kernel_pool_size": 0,
        **live_settings,
    })
    settings.ensure_data_dir()
    db.upgrade(settings.db_url)
    app = create_app(settings)
    recorder = ResponseRecorder(app)
    server = _Uvicorn(uvicorn.Config(recorder, log_config=None, access_log=False,
                                     lifespan="on", timeout_graceful_shutdown=5))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # noqa: BLE001  (re-raised by the fixture)
            errors.append(exc)

    thread = threading.Thread(target=run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if errors or not thread.is_alive():
            pytest.fail(f"the live server did not start: {errors or 'thread ended'}")
        if time.monotonic() > deadline:
            pytest.fail("the live server did not start within 15 s")
        time.sleep(0.02)
    live = LiveServer(base_url, settings=settings, app=app, recorder=recorder)
    try:
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=STOP_TIMEOUT_S)  # shutdown closes kernels and sandbox containers
        sock.close()
        app.state.engine.dispose()
        if thread.is_alive():
            pytest.fail(f"the live server did not stop within {STOP_TIMEOUT_S} s")
        if errors:
            raise errors[0]
    # A 500 inside an htmx swap or a fetch() is easy to miss in a browser test.
    crashed = live.unexpected_server_errors()
    if crashed:
        pytest.fail(f"the live server answered 500 (see the captured log): {crashed}; set "
                    "live_server.expect_server_errors = True in a test that provokes them")


@pytest.fixture
def demo_accounts(live_server: LiveServer) -> dict[str, DemoUser]:
    """What `burnin demo --json` makes, in the live database: role -> account with its
    one-time password ("admin", "recruiter", "hiring_manager")."""
    with live_server.transaction() as session:
        users = make_demo(session)
    return {u.role: u for u in users}


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion in a fresh thread with its own event loop; works while
    a Playwright page is open (asyncio.run() then fails in the main thread)."""
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:  # noqa: BLE001  (re-raised in the caller's thread)
            errors.append(exc)

    thread = threading.Thread(target=target, name="run-async")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


# --- the browser ----------------------------------------------------------------------------


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright; Playwright's own browsers are never used.
    Each launch gets a fresh temporary profile (user-data dir) from Playwright.

    One per test, not per session: Playwright's sync API keeps an asyncio loop marked as
    running in the main thread while it is started, and every later asyncio.run() in the
    session (other test modules) would fail. Use run_async() for coroutines meanwhile."""
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} not found (apt-get install chromium, or run scripts/test as root)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "Playwright for Python not installed (pip install -e '.[dev]')"
    if missing:
        if IN_CI:
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                      headless=True)
        yield chromium
        chromium.close()


@dataclass
class PageErrors:
    """Uncaught exceptions in the page; the `page` fixture fails the test if any remain."""

    errors: list[str] = field(default_factory=list)

    def take(self) -> list[str]:
        """Return and forget the errors so far (for a test that expects one)."""
        taken, self.errors = self.errors, []
        return taken


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def page(browser: Any, page_errors: PageErrors) -> Iterator[Any]:
    """A page in a fresh browser context (own cookies and storage), 1280x800."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="UTC")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.on("pageerror", lambda exc: page_errors.errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()
    assert not page_errors.errors, f"uncaught errors in the page: {page_errors.errors}"


@pytest.fixture
def shot(page: Any) -> Callable[..., Path]:
    """shot(name, full_page=True) saves a screenshot of `page` to
    test-artifacts/screenshots/<name>.png and returns its path."""

    def take(name: str, *, full_page: bool = True) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
        if not safe:
            raise ValueError(f"screenshot name {name!r} has no usable characters")
        path = SCREENSHOTS / f"{safe}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def log_in(live_server: LiveServer) -> Callable[..., None]:
    """log_in(page, user) logs in through the real login page and waits for the page it
    leads to (`next`, default the home page)."""

    def do(page: Any, user: DemoUser, *, next: str = "/") -> None:
        page.goto(f"{live_server}/login?next={next}")
        page.get_by_label("E-mail").fill(user.email)
        page.get_by_label("Password").fill(user.password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server}{next}")

    return do
