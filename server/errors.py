"""Domain errors and the one handler that renders them as {"error", "detail"}."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """An error a caller can act on; carries its HTTP status."""

    status_code = 400
    error = "bad_request"

    def __init__(self, message: str, *, status_code: int | None = None, error: str | None = None,
                 extra: dict[str, object] | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
        if status_code is not None:
            self.status_code = status_code
        if error is not None:
            self.error = error


class NotFound(AppError):
    status_code = 404
    error = "not_found"


class Unauthenticated(AppError):
    status_code = 401
    error = "unauthenticated"


class Forbidden(AppError):
    status_code = 403
    error = "forbidden"


class PasswordChangeRequired(Forbidden):
    """The user logged in with a one-time password and must choose their own first."""

    error = "password_change_required"


class Conflict(AppError):
    status_code = 409
    error = "conflict"


class TooManyRequests(AppError):
    status_code = 429
    error = "too_many_requests"

    def __init__(self, message: str, *, retry_after_s: int = 60):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Gone(AppError):
    status_code = 410
    error = "gone"


def validation_messages(exc: Exception) -> list[str]:
    """'field.path: message' lines of a pydantic ValidationError, for pages and the CLI."""
    errors: list[dict[str, Any]] = getattr(exc, "errors", list)()
    return [f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in errors]


class ConfigError(Exception):
    """A setting is wrong; the CLI prints the message and exits non-zero."""
