"""Jinja2 templates from web/, with named blocks renderable alone for htmx requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2_fragments.fastapi import Jinja2Blocks
from starlette.responses import Response

import web

WEB_DIR = Path(next(iter(web.__path__)))
templates = Jinja2Blocks(directory=str(WEB_DIR / "templates"))


def _num(value: object, digits: int = 1) -> str:
    """A number for display; a dash where there is none (pending, not scored)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "–"
    text = f"{value:.{digits}f}"
    return text[:-2] if digits and text.endswith(".0") else text


templates.env.filters["num"] = _num


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
) -> Response:
    """Render a page; for an htmx request that names a block, render only that block."""
    ctx = {"request": request, **(context or {})}
    if block is not None and request.headers.get("hx-request") == "true":
        return templates.TemplateResponse(request, name, ctx, block_name=block,
                                          status_code=status_code)
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
