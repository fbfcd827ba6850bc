"""Errors of the notebooks domain: one base, NotebookError."""

from __future__ import annotations

from server.errors import AppError, TooManyRequests


class NotebookError(AppError):
    """Base of the notebooks domain's errors."""


class Unavailable(NotebookError):
    """No sandbox backend: code execution is off on this server."""

    status_code = 503
    error = "sandbox_unavailable"


class KernelBusy(NotebookError, TooManyRequests):
    """One execution at a time per attempt."""
