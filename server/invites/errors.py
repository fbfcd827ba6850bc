"""Errors of the invites domain: one base, InviteError."""

from __future__ import annotations

from server.errors import AppError, Conflict


class InviteError(AppError):
    """Base of the invites domain's errors."""


class AssessmentArchived(InviteError, Conflict):
    pass


class InviteExists(InviteError, Conflict):
    pass


class InviteClosed(InviteError, Conflict):
    """The invite was revoked or has expired."""


class InvalidCsv(InviteError):
    status_code = 422
    error = "invalid_csv"


class CsvTooLarge(InviteError):
    status_code = 413
    error = "payload_too_large"
