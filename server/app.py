"""create_app(): routers, pages, error handlers, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from server import db
from server.accounts import pages as account_pages
from server.accounts import router as account_router
from server.assessments import pages as staff_pages
from server.assessments import router as assessment_router
from server.attempts import pages as candidate_pages
from server.attempts import router as attempt_router
from server.bank import router as bank_router
from server.bank.service import BankService
from server.config import Settings
from server.errors import AppError, PasswordChangeRequired, TooManyRequests, Unauthenticated
from server.grading import hooks as grading_hooks
from server.grading import router as grading_router
from server.invites import router as invite_router
from server.kit.inputs import install_nul_guard
from server.kit.templating import WEB_DIR, render
from server.notebooks.service import NotebookService
from server.ops import background, overload
from server.ops import health as ops_health
from server.ops.gcpause import GcPauses
from server.ops.metrics import Metrics
from server.ops.middleware import (
    BodyLimit,
    CatchAll,
    RejectNul,
    RequestContext,
    SecurityHeaders,
    TrustedProxies,
    parse_networks,
)
from server.ops.openapi import document_errors
from server.reviews import pages as review_pages

log = logging.getLogger("burnin")

API_DESCRIPTION = """Burnin's HTTP API. Staff authenticate with `POST /api/v1/auth/login`, which
sets a session cookie and returns a CSRF token to send as `X-CSRF-Token` on every
state-changing request. Errors are `{"error": "...", "detail": "..."}`; 422 means the
payload failed validation and nothing else."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    settings.ensure_data_dir()
    engine = db.make_engine(settings.db_url, pool=settings.db_pool())
    install_nul_guard(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("burnin started", extra={"database": engine.dialect.name,
                                          "scenarios": len(app.state.bank.bank.scenarios)})
        for err in app.state.bank.bank.errors:
            log.warning("scenario not loaded", extra={"error": str(err)})
        pauses = GcPauses(app.state.metrics.gc_pause).install()
        app.state.gc_pauses = pauses
        try:
            app.state.notebooks.start()
            pool = grading_hooks.start_pool(app.state.sessionmaker, settings,
                                            app.state.bank.bank)
            task = None
            if settings.background:
                task = asyncio.create_task(background.run(
                    app.state.sessionmaker, settings, every_s=settings.background_every_s))
            yield
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await grading_hooks.stop_pool(pool)
            await asyncio.to_thread(app.state.notebooks.close)
            engine.dispose()
        finally:
            pauses.remove()  # also when a start or a shutdown step raised
        log.info("burnin stopped")

    app = FastAPI(
        title="Burnin",
        version="0.1.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # served from vendored Swagger UI: accounts/pages.api_docs
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = db.make_sessionmaker(engine)
    app.state.metrics = Metrics()
    app.state.bank = BankService(settings.scenarios_root)
    app.state.notebooks = NotebookService(settings)

    app.include_router(ops_health.router)
    # Routes are matched in this order, one router after another: the candidate API (the
    # autosave is the most frequent request) right after health, so a save is matched in
    # ~50 us instead of ~300 us behind four routers. No path of theirs overlaps its prefix
    # (tests/test_load_behaviour.py checks this).
    app.include_router(attempt_router.router)
    app.include_router(account_router.router)
    app.include_router(bank_router.router)
    app.include_router(assessment_router.router)
    app.include_router(invite_router.router)
    app.include_router(account_pages.router)
    app.include_router(staff_pages.router)
    app.include_router(candidate_pages.router)
    app.include_router(review_pages.router)
    app.include_router(grading_router.router)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")

    _install_error_handlers(app)
    document_errors(app)
    # Innermost first: CatchAll answers a 500 without re-raising (the connection stays open).
    app.add_middleware(CatchAll)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RejectNul)
    app.add_middleware(SecurityHeaders)
    overload.install(app, settings, app.state.metrics)  # inside RequestContext
    app.add_middleware(RequestContext, metrics=app.state.metrics)
    app.add_middleware(TrustedProxies, networks=parse_networks(settings.trusted_proxies))
    return app


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


def _error(status: int, error: str, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail, **extra}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        candidate_page = request.url.path.startswith(("/take", "/i/"))
        if isinstance(exc, Unauthenticated) and not request.url.path.startswith("/api/") \
                and not candidate_page:
            target = "/login?next=" + quote(request.url.path)
            if request.headers.get("hx-request") == "true":
                return Response(status_code=401, headers={"HX-Redirect": target})
            if request.method == "GET":
                return RedirectResponse(target, status_code=303)
        if isinstance(exc, PasswordChangeRequired) and not request.url.path.startswith("/api/"):
            target = "/account/password?next=" + quote(request.url.path)
            if request.headers.get("hx-request") == "true":
                return Response(status_code=403, headers={"HX-Redirect": target})
            if request.method == "GET":
                return RedirectResponse(target, status_code=303)
        headers = {}
        if isinstance(exc, TooManyRequests):
            headers["Retry-After"] = str(exc.retry_after_s)
        if _wants_html(request) or (candidate_page and request.method == "GET"):
            return render(request, "error.html", {"status": exc.status_code, "message": exc.message},
                          status_code=exc.status_code)
        response = _error(exc.status_code, exc.error, exc.message, **exc.extra)
        response.headers.update(headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(400, "malformed_json", "the request body is not valid JSON")
        fields = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"]}
            for e in errors
        ]
        detail = "; ".join(f"{f['field'] or 'body'}: {f['message']}" for f in fields)
        return _error(422, "validation_error", detail, fields=fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        names = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated"}
        detail = str(exc.detail)
        if _wants_html(request):
            return render(request, "error.html", {"status": exc.status_code, "message": detail},
                          status_code=exc.status_code)
        return _error(exc.status_code, names.get(exc.status_code, "http_error"), detail)

    # Unexpected exceptions: ops.middleware.CatchAll (a handler here would be re-raised by
    # Starlette's ServerErrorMiddleware, and the server would drop the connection).
