"""ASGI middleware: request id, access log, metrics, the request-body cap, security headers,
forwarded addresses from trusted proxies only, and 500s that keep the connection open."""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.ops.metrics import Metrics

log = logging.getLogger("burnin.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContext:
    """Gives every request an id (X-Request-ID), logs it as JSON, and counts it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(elapsed)
            state: dict[str, Any] = scope.get("state", {})
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "latency_ms": round(elapsed * 1000, 2),
                    "user_id": state.get("user_id"),
                },
            )


class BodyLimit:
    """Refuse request bodies over max_bytes with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await _too_large(send, self.max_bytes)
            return
        seen = 0
        too_large = False
        replied = False

        async def counted_receive() -> Message:
            nonlocal seen, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Stop feeding the app; whatever it answers is replaced by a 413 below.
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal replied
            if not too_large:
                await send(message)
            elif not replied and message["type"] == "http.response.start":
                replied = True
                await _too_large(send, self.max_bytes)

        await self.app(scope, counted_receive, guarded_send)
        if too_large and not replied:
            await _too_large(send, self.max_bytes)


async def _too_large(send: Send, max_bytes: int) -> None:
    body = json.dumps(
        {"error": "payload_too_large", "detail": f"request body over {max_bytes} bytes"}
    ).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


# Inline <script>, on*= handlers and inline styles are refused: every script lives in
# web/static/js. data: images are kernel outputs (PNG) shown in the notebook.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
# The candidate workspace's editor (CodeMirror 6) puts its theme in a <style> element; it
# could take a nonce (EditorView.cspNonce) only through a rebuilt bundle. Scripts stay 'self'.
CSP_EDITOR = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
EDITOR_PATHS = ("/take/",)
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    # Invite links carry their token in the path: never send it to another site.
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """CSP, framing, nosniff and referrer headers on every response (HTML, JSON, static)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        csp = CSP_EDITOR if scope["path"].startswith(EDITOR_PATHS) else CSP
        ours = [(b"content-security-policy", csp.encode()), *SECURITY_HEADERS]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *[(k, v) for k, v in ours if k not in present]]
            await send(message)

        await self.app(scope, receive, send_with_headers)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(spec: str) -> list[Network]:
    """'10.0.0.1, 192.168.0.0/16, ::1' -> networks; raises ValueError naming a bad entry."""
    nets: list[Network] = []
    for part in (p.strip() for p in spec.split(",")):
        if part:
            try:
                nets.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"not an IP address or network: {part!r}") from None
    return nets


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _in(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


class TrustedProxies:
    """The client address (and scheme) from X-Forwarded-For/-Proto, only when the peer is a
    configured proxy. The nearest address that is not itself a proxy is the client; anything
    to its left was written by the client and is ignored."""

    def __init__(self, app: ASGIApp, networks: Sequence[Network]) -> None:
        self.app = app
        self.networks = list(networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        if scope["type"] == "http" and self.networks and peer and _in(peer[0], self.networks):
            headers = dict(scope["headers"])
            hops = [h.strip() for h in headers.get(b"x-forwarded-for", b"").decode(
                "latin-1").split(",") if h.strip()]
            client = None
            for hop in reversed(hops):
                client = hop
                if not _in(hop, self.networks):
                    break
            if client is not None and _is_ip(client):
                scope["client"] = (client, 0)
            proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1").strip().lower()
            if proto in ("http", "https"):
                scope["scheme"] = proto
        await self.app(scope, receive, send)


class RejectNul:
    """400 for a NUL character in the path or query string, before any handler sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
            query: bytes = scope.get("query_string", b"")
            if b"\x00" in unquote_to_bytes(raw) or b"\x00" in unquote_to_bytes(query):
                await _json(send, 400, {"error": "bad_request",
                                        "detail": "the URL contains a NUL character (%00)"})
                return
        await self.app(scope, receive, send)


class CatchAll:
    """Any unhandled exception becomes a JSON 500 here, inside Starlette's error middleware,
    which would re-raise it and make the server drop the keep-alive connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            request_id = scope.get("state", {}).get("request_id", "?")
            log.exception("unhandled error", extra={"request_id": request_id})
            if started:  # too late for a clean answer; the server closes the connection
                raise
            await _json(send, 500, {"error": "internal_error",
                                    "detail": f"unexpected error; request id {request_id}"})


async def _json(send: Send, status: int, payload: dict[str, str]) -> None:
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
