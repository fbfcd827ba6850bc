"""Resource limits of one sandbox, validated against hard bounds."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

# CPU weight of every sandbox against the API and its database work when cores are short
# (limits.cpus caps a sandbox's CPU time; this decides who runs first under contention).
# Docker's default is 1,024, the weight of a nice-0 task: on cgroup v2 hosts with the systemd
# driver each container's scope is then a sibling of the API's service with the same weight,
# so 20 busy kernels took 20 shares to the API's one. 128 is 1/8 of a nice-0 task (runc maps
# it to cpu.weight 5 against a service's 100); a sandbox still gets every idle cycle.
SANDBOX_CPU_SHARES = 128
# The same for sandboxes that are plain processes (bwrap): nice 10 is CFS weight 110, ~1/9.
SANDBOX_NICE = 10


class LimitError(ValueError):
    """A requested limit is outside what the sandbox allows."""


# (minimum, maximum) per field. The constructor rejects values outside, never silently
# widening them: a caller asking for 1 TiB of memory has a bug worth seeing (cf. Judge0
# 1.13.0). Only clamped(), for operator settings, moves a value to the nearest bound.
BOUNDS: dict[str, tuple[float, float]] = {
    "cpus": (0.05, 16.0),
    "memory_mib": (32, 64 * 1024),
    "pids": (8, 4096),
    "wall_s": (0.1, 6 * 3600),
    "cpu_s": (1, 6 * 3600),
    "session_cpu_s": (1, 24 * 3600),
    "output_bytes": (1024, 64 * 1024 * 1024),
    "tmpfs_mib": (1, 8 * 1024),
    "tmpfs_inodes": (64, 1_000_000),
    "file_size_mib": (1, 8 * 1024),
    "open_files": (32, 65_536),
    "shm_mib": (1, 1024),
}


@dataclass(frozen=True)
class SandboxLimits:
    """Limits for one sandbox. memory_mib bounds memory + swap together."""

    cpus: float = 1.0
    memory_mib: int = 512
    pids: int = 128
    wall_s: float = 30.0
    # One-shot runs: CPU seconds of the whole run. Kernels: CPU seconds of each cell, while
    # session_cpu_s bounds the kernel's whole life (a notebook runs many cells).
    cpu_s: int = 30
    session_cpu_s: int = 3600
    output_bytes: int = 1024 * 1024
    tmpfs_mib: int = 64
    tmpfs_inodes: int = 4096
    file_size_mib: int = 64
    open_files: int = 256
    shm_mib: int = 16

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise LimitError(f"{field.name} must be a number, got {value!r}")
            if math.isnan(value):
                raise LimitError(f"{field.name} must be a number, got NaN")
            low, high = BOUNDS[field.name]
            if not low <= value <= high:
                raise LimitError(
                    f"{field.name}={value} is outside the allowed range [{low}, {high}]"
                )

    def replace(self, **changes: Any) -> SandboxLimits:
        """A copy with some fields changed, validated again."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def clamped(cls, **values: float) -> SandboxLimits:
        """Build limits, moving each out-of-range value to the nearest bound."""
        fixed: dict[str, Any] = {}
        for name, value in values.items():
            if name not in BOUNDS:
                raise LimitError(f"unknown limit {name!r}")
            low, high = BOUNDS[name]
            kind = int if isinstance(getattr(cls, name), int) else float
            fixed[name] = kind(min(max(value, low), high))
        return cls(**fixed)
