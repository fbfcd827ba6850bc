"""Errors of the attempts domain: one base, AttemptError."""

from __future__ import annotations

from server.errors import AppError, Conflict, Gone, NotFound


class AttemptError(AppError):
    """Base of the attempts domain's errors."""


class InvitationNotFound(AttemptError, NotFound):
    pass


class InvitationGone(AttemptError, Gone):
    """The invitation was withdrawn or has expired."""


class StartedElsewhere(AttemptError, Conflict):
    pass


class TierNoLongerReached(AttemptError, Conflict):
    """The entry pins a scale tier its scenario no longer reaches (it changed after the
    assessment was built)."""


class ScenarioNotFound(AttemptError, NotFound):
    pass


class ArtifactNotFound(AttemptError, NotFound):
    pass


class AttemptClosed(AttemptError):
    status_code = 409
    error = "attempt_closed"


class NotStarted(AttemptError):
    status_code = 409
    error = "not_started"


class BadAnswer(AttemptError):
    """Unknown answer fields or an answer over its size limit (422 like any field error)."""

    status_code = 422
    error = "validation_error"


class StaleSave(AttemptError, Conflict):
    """Another save won; `extra` carries the version and content to merge with."""


class NoCode(AttemptError):
    status_code = 409
    error = "no_code"


class NotRunnable(AttemptError):
    """Only the scenario's code files, within the size limit, can be run."""

    status_code = 422
    error = "validation_error"
