"""What a check that runs candidate code needs from the caller: a one-shot runner.

The grading library never imports the sandbox. The server builds an object with this
`run` method from the sandbox's one-shot API (server/notebooks/runner.py) and passes it in.
Files go in, the command runs in a fresh sandbox, and stdout/stderr and the requested
output files come back as data; every verdict is computed outside.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

RunStatusName = Literal["ok", "error", "timeout", "memory_limit", "output_limit", "infra_error"]


@dataclass(frozen=True)
class RunLimits:
    """Limits for one run (the scenario's `sandbox:` block, or defaults)."""

    wall_s: float = 30.0
    memory_mib: int = 1024
    cpus: float = 1.0
    pids: int = 128


@dataclass(frozen=True)
class RunOutput:
    """What one run returned, as plain data."""

    status: RunStatusName
    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    files: Mapping[str, bytes | None] = field(default_factory=dict)
    wall_s: float = 0.0
    cpu_s: float | None = None
    peak_memory_bytes: int | None = None
    detail: str = ""


class Runner(Protocol):
    """Runs a command once in a fresh sandbox holding `files` (copied into its cwd)."""

    def run(
        self,
        files: Mapping[str, bytes],
        command: Sequence[str],
        limits: RunLimits,
        outputs: Sequence[str],
    ) -> RunOutput:
        """Run `command`; return status, output and the `outputs` files (None if missing)."""
        ...
