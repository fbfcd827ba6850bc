"""Passwords (argon2), random tokens and their keyed hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the account does not exist, so unknown users cost the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(secret_key: bytes, token: str) -> str:
    """What the database stores instead of a token: HMAC-SHA256 under the instance secret."""
    return hmac.new(secret_key, token.encode(), hashlib.sha256).hexdigest()


def new_password() -> str:
    """A one-time password for a new account: 16 characters, easy to copy."""
    alphabet = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY346789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


CROSS_SITE_LOGIN = "this login form was sent from another site; log in on this page instead"


def _origin(url: str) -> str:
    return "/".join(url.split("/", 3)[:3]).lower()


def cross_site_form(headers: Mapping[str, str], *own_urls: str) -> bool:
    """True when a browser says this request comes from another site (login CSRF).

    own_urls: this server's public base URL and the URL the request reached. Browsers send
    Origin on every cross-origin POST and Sec-Fetch-Site on every request; a client that
    sends neither is not a browser, and CSRF needs a browser."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        # The browser sets Sec-Fetch-Site and a page cannot forge it. Trust it over Origin,
        # which is "null" on every form POST from a page sent with Referrer-Policy no-referrer.
        return site not in ("same-origin", "none")
    origin = headers.get("origin")
    return origin is not None and origin.rstrip("/").lower() not in {_origin(u) for u in own_urls}
