"""Settings: one class, environment prefix BURNIN_."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from server.errors import ConfigError

if TYPE_CHECKING:
    from server.db import PoolSize

SUPPORTED_DB_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BURNIN_", extra="ignore")

    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("burnin")),
        description="Where the SQLite file, the secret key and uploads live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is a SQLite file in the data directory.",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000", description="Public address used in links and e-mails."
    )
    session_hours: int = Field(default=12, ge=1, le=24 * 30, description="Staff session lifetime.")
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=20, ge=1)
    login_window_s: int = Field(default=900, ge=10, description="Window for login throttling.")
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest request body.")
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks (CIDR) of reverse proxies whose "
                    "X-Forwarded-For and X-Forwarded-Proto are believed; empty: none, the peer "
                    "address is the client.",
    )
    scenarios_root: Path | None = Field(
        default=None, description="Scenario bank folder; default: the bank shipped with Burnin."
    )
    invite_days: int = Field(default=7, ge=1, le=365, description="Default invite lifetime.")
    save_grace_s: int = Field(
        default=15, ge=0, le=300,
        description="Saves sent before the deadline may arrive this much later (network).",
    )
    smtp_host: str | None = Field(default=None, description="SMTP server; unset: outbox page only.")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_tls: str = Field(default="starttls", pattern="^(starttls|ssl|none)$")
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = Field(default="Burnin <no-reply@localhost>")
    sandbox_backend: str = Field(default="auto", pattern="^(auto|docker|bwrap)$",
                                 description="Where candidate code runs; never without isolation.")
    sandbox_image: str | None = Field(default=None, description="Image tag (default: current).")
    sandbox_rootfs: Path | None = Field(default=None, description="Root filesystem for bwrap.")
    sandbox_runtime: str | None = Field(default=None, description="Docker runtime, e.g. runsc.")
    kernel_pool_size: int = Field(default=2, ge=0, le=200, description="Warm notebook kernels.")
    kernel_idle_s: int = Field(default=1800, ge=60, description="Idle kernels are culled after.")
    cell_timeout_s: float = Field(default=60, gt=0, le=3600, description="Per notebook cell.")
    cell_cpu_s: int = Field(default=30, ge=1, le=3600,
                            description="CPU-seconds one notebook cell may use (then interrupted).")
    run_timeout_s: float = Field(default=20, gt=0, le=600, description="Per Run of candidate code.")
    background: bool = Field(default=True, description="Run periodic work in this process.")
    background_every_s: float = Field(default=5.0, gt=0, le=3600)
    log_level: str = Field(default="INFO")
    log_json: bool = Field(default=True, description="Structured JSON logs on stderr.")
    grading_workers: int = Field(default=2, ge=0, le=64,
                                 description="In-process grading workers; 0 disables them.")
    grading_lease_s: float = Field(default=30.0, gt=0, description="Grading job lease.")
    grading_job_timeout_s: float = Field(default=900.0, gt=0,
                                         description="Give up one grading try after this.")
    grading_isolation: str = Field(
        default="process", pattern="^(process|thread)$",
        description="process: the embedded workers grade in child processes at a lower "
                    "CPU priority (grading_nice); thread: in the API process itself.")
    # 19: a grader competing with the API for a core gets ~1.5 % of it (CFS weight 15 against
    # 1,024), the rest of the time all of it.
    grading_nice: int = Field(default=19, ge=0, le=19,
                              description="How much nicer grading processes are than the API.")
    # Longer than the gap between a candidate's autosaves, so one connection carries them:
    # uvicorn's default of 5 s closed it before each save 10 s apart (a new connection per
    # save, and a reset when the close crossed the client's next request on the wire).
    keep_alive_s: int = Field(default=75, ge=1, le=3600,
                              description="Seconds an idle HTTP keep-alive connection is kept open.")
    api_threads: int = Field(default=40, ge=4, le=2000,
                             description="Threads that run the API's blocking handlers.")
    # Few: on two cores a handful of handler threads keep the CPU busy; more only make
    # them, and the event loop, queue for the GIL. Waiting for a slot costs no thread.
    max_in_flight: int = Field(
        default=8, ge=1, le=10_000,
        description="API requests handled at once; more wait up to admission_wait_s, then "
                    "get 503 + Retry-After (health, metrics, static files and running "
                    "notebook cells or code are never held back).")
    admission_wait_s: float = Field(default=2.0, ge=0, le=60,
                                    description="Longest wait for a slot before a 503.")
    db_pool_size: int | None = Field(
        default=None, ge=1, le=2000,
        description="Database connections kept open; default: max_in_flight + 2 per grading "
                    "worker + 8 (background, notebook records).")
    db_pool_timeout_s: float = Field(default=5.0, gt=0, le=300,
                                     description="Longest wait for a connection; then 503.")

    @field_validator("data_dir", mode="before")
    @classmethod
    def _expand(cls, v: object) -> object:
        return Path(str(v)).expanduser() if v is not None else v

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: str) -> str:
        from server.ops.middleware import parse_networks

        parse_networks(v)  # ValueError names the bad entry
        return v

    @property
    def db_url(self) -> str:
        url = self.database_url or f"sqlite:///{self.data_dir / 'burnin.db'}"
        scheme = url.split(":", 1)[0]
        if scheme not in SUPPORTED_DB_SCHEMES:
            raise ConfigError(
                f"unknown database URL scheme {scheme!r} in BURNIN_DATABASE_URL; "
                "use sqlite:///PATH or postgresql+psycopg://USER:PASS@HOST/DB"
            )
        if scheme == "postgresql":
            url = "postgresql+psycopg" + url[len("postgresql") :]
        return url

    def db_pool(self) -> PoolSize:
        """Connections sized to what may use one at once: requests in flight, grading
        workers and their lease heartbeats, periodic work."""
        from server.db import PoolSize

        size = self.db_pool_size or self.max_in_flight + 2 * self.grading_workers + 8
        return PoolSize(size=size, overflow=max(8, size // 4), timeout_s=self.db_pool_timeout_s)

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def ensure_data_dir(self) -> Path:
        """Create the data directory (0700) and check it is writable."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            probe = self.data_dir / ".write-probe"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(
                f"data directory {self.data_dir} is not writable ({exc.strerror}); "
                "set BURNIN_DATA_DIR to a directory you own"
            ) from exc
        return self.data_dir

    @cached_property
    def secret_key(self) -> bytes:
        """The instance secret: generated on first run, stored 0600 in the data directory."""
        path = self.ensure_data_dir() / "secret_key"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
        return bytes.fromhex(path.read_text().strip())
