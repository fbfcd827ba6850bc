"""Errors of the grading domain: one base, GradingError; each carries its HTTP status."""

from __future__ import annotations

from server.errors import AppError, Conflict, NotFound


class GradingError(AppError):
    """Base of the grading domain's errors."""


class NotGraded(GradingError):
    status_code = 409
    error = "not_graded"


class BadGrade(GradingError):
    """A person's grade that cannot apply: no reason for an override, no such level, too
    many points."""

    status_code = 400
    error = "bad_grade"


class AttemptNotFound(GradingError, NotFound):
    pass


class CriterionNotFound(GradingError, NotFound):
    pass


class JobNotRetryable(GradingError, Conflict):
    pass


class InvalidReport(GradingError):
    """A grade function returned something that is not a report (the job's failure)."""

    status_code = 500
    error = "invalid_report"


class BadGradeFn(GradingError):
    """`--grade-fn` does not name a callable as module:attribute."""


class ScenarioNotInBank(GradingError):
    """An assessment's scenario is missing from the bank grading uses (the job retries)."""

    status_code = 503
    error = "scenario_not_in_bank"
