"""The OpenAPI document says what errors really look like: {"error", "detail"} (and "fields"
on a validation failure), not FastAPI's HTTPValidationError, on every operation."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

ERROR: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "Machine-readable kind, e.g. not_found."},
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "fields": {
            "type": "array",
            "description": "On validation_error: each field that failed and why.",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    # Some errors carry more: a stale save returns the server's version and content,
    # a refused CSV every row's error.
    "additionalProperties": True,
}
_REF = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def rewrite(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace every 422 body with Error, give every 4xx without a body Error, add 4XX."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["Error"] = ERROR
    for item in schema.get("paths", {}).values():
        for method, op in item.items():
            if method not in _METHODS:
                continue
            responses: dict[str, Any] = op.setdefault("responses", {})
            for code, response in responses.items():
                if code.startswith("4"):
                    if code == "422":
                        response["description"] = "The request failed validation"
                    response["content"] = _REF
            responses.setdefault("4XX", {"description": "Error (bad request, not logged in, "
                                                        "forbidden, not found, conflict, ...)",
                                         "content": _REF})
    return schema


def document_errors(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = rewrite(original())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
