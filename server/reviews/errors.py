"""Errors of the reviews domain: one base, ReviewError."""

from __future__ import annotations

from server.errors import AppError


class ReviewError(AppError):
    """Base of the reviews domain's errors."""


class BadComparison(ReviewError):
    """Compare wants 2 to 4 attempts, each a valid id."""


class BadAttemptId(ReviewError):
    status_code = 422
    error = "validation_error"
