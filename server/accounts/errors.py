"""Errors of the accounts domain: one base, AccountError. A subclass that is also a
shared kind (Conflict, Forbidden, ...) keeps that kind's status and error code."""

from __future__ import annotations

from server.errors import (
    AppError,
    Conflict,
    Forbidden,
    Gone,
    PasswordChangeRequired,
    TooManyRequests,
    Unauthenticated,
)


class AccountError(AppError):
    """Base of the accounts domain's errors."""


class LoginThrottled(AccountError, TooManyRequests):
    pass


class OneTimePasswordExpired(AccountError, Unauthenticated):
    pass


class SlugTaken(AccountError, Conflict):
    pass


class EmailTaken(AccountError, Conflict):
    pass


class NothingToChange(AccountError):
    pass


class SelfLockout(AccountError, Forbidden):
    """An admin may not disable themselves or drop their own admin role."""


class BadPassword(AccountError):
    """A new password that is too short, too long, unconfirmed or unchanged, or a wrong
    current one."""


class ResetLinkGone(AccountError, Gone):
    pass


class CrossSiteLogin(AccountError, Forbidden):
    pass


class BadRole(AccountError):
    pass


class MustChangePassword(AccountError, PasswordChangeRequired):
    """The user logged in with a one-time password and must choose their own first."""
