"""What every backend offers, and picking one for this machine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

from sandbox.kernel import KernelHost
from sandbox.limits import SandboxLimits
from sandbox.result import RunResult


class Backend(Protocol):
    """One-shot runs and kernel hosts, behind the same contract on every backend."""

    name: str

    def available(self) -> str | None:
        """None when usable, else the reason it is not."""
        ...

    def run(self, command: Sequence[str], *, limits: SandboxLimits,
            files: Mapping[str, bytes] = ..., stdin: bytes = ...,
            outputs: Sequence[str] = ..., output_file_bytes: int = ...) -> RunResult: ...

    async def arun(self, command: Sequence[str], **kwargs: Any) -> RunResult: ...

    def start_kernel_host(self, kernel_dir: Path, limits: SandboxLimits) -> KernelHost: ...


class NoBackend(RuntimeError):
    """Neither Docker nor bwrap is usable: candidate code must not run here."""


def pick_backend(
    prefer: Literal["auto", "docker", "bwrap"] = "auto", *, image: str,
    rootfs: Path | None = None, runtime: str | None = None,
) -> Backend:
    """Docker where an engine answers, else bwrap; never no isolation at all."""
    reasons: list[str] = []
    if prefer in ("auto", "docker"):
        from sandbox.docker_backend import DockerBackend
        try:
            docker_backend = DockerBackend(image, runtime=runtime)
            reason = docker_backend.available()
        except Exception as exc:  # noqa: BLE001 - no engine socket etc.
            reason = f"Docker engine does not answer: {exc}"
        if reason is None:
            return docker_backend
        reasons.append(reason)
    if prefer in ("auto", "bwrap"):
        from sandbox.bwrap_backend import BwrapBackend
        if rootfs is None:
            reasons.append("bwrap: no sandbox root filesystem given")
        else:
            bwrap_backend = BwrapBackend(rootfs)
            reason = bwrap_backend.available()
            if reason is None:
                return bwrap_backend
            reasons.append(reason)
    raise NoBackend("no sandbox backend is usable; refusing to run code without isolation: "
                    + "; ".join(reasons))
