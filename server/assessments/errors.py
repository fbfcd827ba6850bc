"""Errors of the assessments domain: one base, AssessmentError."""

from __future__ import annotations

from server.errors import AppError, Conflict, NotFound


class AssessmentError(AppError):
    """Base of the assessments domain's errors."""


class UnknownScenario(AssessmentError):
    """An entry names a scenario the bank does not have (a field error of the payload)."""

    status_code = 422
    error = "validation_error"


class AssessmentNotFound(AssessmentError, NotFound):
    pass


class NothingToChange(AssessmentError):
    pass


class ScenariosFixed(AssessmentError, Conflict):
    """Candidates have started: the scenarios can no longer change."""


class UnknownAction(AssessmentError, NotFound):
    pass
