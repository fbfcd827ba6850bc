"""Security headers, login CSRF, sessions a failed login must keep, forwarded addresses, and
a 500 that keeps the connection open (issue 19)."""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.kit.templating import WEB_DIR
from server.models import Role
from server.ops.middleware import TrustedProxies, parse_networks
from tests.conftest import World, login
from tests.factories import PASSWORD


def _directives(r: Any) -> dict[str, str]:
    parts = (d.strip().split(" ", 1) for d in r.headers["content-security-policy"].split(";"))
    return {p[0]: p[1] if len(p) > 1 else "" for p in parts}


def _assert_headers(r: Any, *, editor: bool = False) -> None:
    csp = r.headers["content-security-policy"]
    directives = _directives(r)
    assert directives["script-src"] == "'self'" and "unsafe-eval" not in csp
    # Inline styles only where the code editor runs (its theme is a <style> element).
    assert directives["style-src"] == ("'self' 'unsafe-inline'" if editor else "'self'")
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_every_kind_of_response_has_the_headers(client: TestClient, world: World) -> None:
    html = {"accept": "text/html"}
    _assert_headers(client.get("/login", headers=html))
    _assert_headers(client.get("/no-such-page", headers=html))       # error page
    _assert_headers(client.get("/api/v1/auth/me"))                   # JSON 401
    _assert_headers(client.get("/static/js/app.js"))
    _assert_headers(client.get("/take/0", headers=html), editor=True)
    login(client, world.users[Role.admin])
    page = client.get("/assessments", headers=html)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    _assert_headers(page)


def test_templates_have_no_inline_script_or_handler() -> None:
    """What the CSP would refuse must not be in a template (it lives in web/static/js)."""
    for path in (WEB_DIR / "templates").rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert not re.search(r"\son[a-z]+\s*=", text), path
        assert "javascript:" not in text, path


def test_cross_site_login_is_refused_and_sets_no_session(client: TestClient,
                                                         world: World) -> None:
    form = {"email": world.users[Role.admin].email, "password": PASSWORD}
    for headers in ({"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"},
                    {"origin": "null"}):
        r = client.post("/login", data=form, headers=headers, follow_redirects=False)
        assert r.status_code == 403 and "another site" in r.text
        assert "burnin_session" not in r.headers.get("set-cookie", "")
        api = client.post("/api/v1/auth/login", json=form, headers=headers)
        assert api.status_code == 403 and api.json()["error"] == "forbidden"
    same = client.post("/login", data=form, follow_redirects=False,
                       headers={"origin": "http://testserver", "sec-fetch-site": "same-origin"})
    assert same.status_code == 303 and "burnin_session" in same.headers["set-cookie"]


def test_a_failed_login_keeps_the_session_it_was_sent_with(client: TestClient,
                                                           world: World) -> None:
    login(client, world.users[Role.admin])
    assert client.get("/api/v1/auth/me").status_code == 200
    bad = {"email": world.users[Role.admin].email, "password": "wrong"}
    assert client.post("/api/v1/auth/login", json=bad).status_code == 401
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.post("/login", data=bad).status_code == 401
    assert client.get("/api/v1/auth/me").status_code == 200


@pytest.fixture
def settings(settings: Any) -> Any:
    return settings.model_copy(update={"login_max_failures_per_address": 2,
                                       "login_max_failures_per_account": 100})


def test_forwarded_for_from_an_untrusted_peer_does_not_reset_throttling(
    client: TestClient
) -> None:
    for i in range(2):
        client.post("/api/v1/auth/login", json={"email": f"u{i}@example.com", "password": "x"})
    r = client.post("/api/v1/auth/login", json={"email": "u9@example.com", "password": "x"},
                    headers={"x-forwarded-for": "203.0.113.7"})
    assert r.status_code == 429


def _through(networks: str, client: tuple[str, int], headers: dict[bytes, bytes]
             ) -> tuple[Any, str]:
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.update(client=scope["client"], scheme=scope["scheme"])

    import asyncio

    scope = {"type": "http", "client": client, "scheme": "http",
             "headers": list(headers.items())}
    asyncio.run(TrustedProxies(app, parse_networks(networks))(scope, None, None))  # type: ignore[arg-type]
    return seen["client"][0], seen["scheme"]


def test_forwarded_headers_are_believed_only_from_configured_proxies() -> None:
    xff = {b"x-forwarded-for": b"198.51.100.1, 203.0.113.9", b"x-forwarded-proto": b"https"}
    assert _through("", ("127.0.0.1", 1), xff) == ("127.0.0.1", "http")
    assert _through("10.0.0.0/8", ("127.0.0.1", 1), xff) == ("127.0.0.1", "http")
    # The nearest hop that is not a proxy is the client; what the client wrote is ignored.
    assert _through("10.0.0.0/8", ("10.0.0.2", 1), xff) == ("203.0.113.9", "https")
    assert _through("10.0.0.0/8, 203.0.113.9", ("10.0.0.2", 1), xff) == ("198.51.100.1",
                                                                          "https")
    assert _through("10.0.0.0/8", ("10.0.0.2", 1), {b"x-forwarded-for": b"junk"}) == (
        "10.0.0.2", "http")
    with pytest.raises(ValueError, match="not an IP"):
        parse_networks("10.0.0.0/8, proxy.example")


@pytest.fixture
def served(app: FastAPI) -> Iterator[int]:
    """The app under real uvicorn on loopback, as `burnin serve` runs it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]

    class Server(uvicorn.Server):
        def install_signal_handlers(self) -> None:
            pass

    server = Server(uvicorn.Config(app, log_config=None, access_log=False, proxy_headers=False,
                                   lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(10)


def test_a_500_keeps_the_keep_alive_connection(served: int, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    from server import db

    def broken() -> str:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(db, "head_revision", broken)  # /readyz calls it outside its try
    conn = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    conn.request("GET", "/readyz")
    first = conn.getresponse()
    body = first.read()
    assert first.status == 500 and b"internal_error" in body and b"disk on fire" not in body
    assert first.getheader("connection") != "close"
    sock_before = conn.sock
    conn.request("GET", "/healthz")
    second = conn.getresponse()
    second.read()
    assert second.status == 200 and conn.sock is sock_before


def _serve(tmp_path: Any, **env: str) -> tuple[Any, str]:
    import os
    import subprocess
    import sys
    import urllib.request

    from tests.pg import free_port

    port = free_port()
    full = {**os.environ, "BURNIN_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path),
            "BURNIN_KERNEL_POOL_SIZE": "0", "BURNIN_GRADING_WORKERS": "0",
            "BURNIN_BACKGROUND": "false", "BURNIN_LOGIN_MAX_FAILURES_PER_ADDRESS": "1", **env}
    full.pop("BURNIN_DATABASE_URL", None)
    burnin = str(Path(sys.executable).parent / "burnin")
    proc = subprocess.Popen([burnin, "serve", "--port", str(port)], env=full, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(f"{base}/readyz", timeout=1)
            return proc, base
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("burnin serve did not start")


def _login_status(base: str, email: str, headers: dict[str, str]) -> int:
    import json
    import urllib.error
    import urllib.request

    req = urllib.request.Request(f"{base}/api/v1/auth/login", method="POST",
                                 data=json.dumps({"email": email, "password": "x"}).encode(),
                                 headers={"content-type": "application/json", **headers})
    try:
        return urllib.request.urlopen(req, timeout=10).status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.slow  # two real `burnin serve` processes
@pytest.mark.parametrize("trusted", ["", "127.0.0.1"])
def test_burnin_serve_believes_forwarded_for_only_from_trusted_proxies(
    tmp_path: Any, trusted: str
) -> None:
    """The reproduction: with the address limit reached, a spoofed X-Forwarded-For from a
    local client used to log in again (uvicorn trusted 127.0.0.1 by default)."""
    proc, base = _serve(tmp_path, BURNIN_TRUSTED_PROXIES=trusted)
    try:
        assert _login_status(base, "a@example.com", {}) == 401
        assert _login_status(base, "b@example.com", {}) == 429   # the address is throttled
        spoofed = _login_status(base, "c@example.com", {"x-forwarded-for": "198.51.100.7"})
        # Untrusted peer: the header is ignored, still throttled. Trusted proxy: a new client.
        assert spoofed == (401 if trusted else 429)
    finally:
        proc.terminate()
        proc.wait(15)
