"""Errors of the bank domain: one base, BankError."""

from __future__ import annotations

from server.errors import AppError, NotFound


class BankError(AppError):
    """Base of the bank domain's errors."""


class ScenarioNotFound(BankError, NotFound):
    pass


class TemplateNotFound(BankError, NotFound):
    pass
