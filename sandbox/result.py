"""What a sandbox run returns."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class RunStatus(str, enum.Enum):
    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    INFRA_ERROR = "infra_error"


@dataclass(frozen=True)
class OutputFile:
    """A file the command was asked to produce, read as data."""

    path: str
    data: bytes | None
    error: str | None = None  # "missing", "not a regular file", "too large", ...


@dataclass(frozen=True)
class RunResult:
    status: RunStatus
    exit_code: int | None
    stdout: str
    stderr: str
    truncated: bool
    wall_s: float
    cpu_s: float | None = None
    peak_memory_bytes: int | None = None
    files: dict[str, OutputFile] = field(default_factory=dict)
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.OK
