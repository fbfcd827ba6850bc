"""Errors of the integrity domain: one base, SignalError (not IntegrityError, which is
SQLAlchemy's)."""

from __future__ import annotations

from server.errors import AppError


class SignalError(AppError):
    """Base of the integrity domain's errors."""


class BadEvent(SignalError):
    status_code = 400
    error = "bad_event"
