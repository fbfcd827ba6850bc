"""The runner graders' tests checks need, built from the sandbox's one-shot API.

graders/ never imports sandbox/ (DESIGN.md): the server builds this adapter and passes it to
graders.engine.grade_scenario(..., runner=...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from graders.runner import RunLimits, RunOutput
from sandbox.backend import Backend
from sandbox.limits import SandboxLimits
from server.config import Settings
from server.notebooks.backend import Prefer, make_backend


class SandboxRunner:
    """graders.runner.Runner on top of a sandbox backend (docker or bwrap)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @property
    def name(self) -> str:
        return str(getattr(self.backend, "name", "sandbox"))

    def run(self, files: Mapping[str, bytes], command: Sequence[str], limits: RunLimits,
            outputs: Sequence[str]) -> RunOutput:
        # The wall clock is the limit a run meets (it ends as "timed out" and its finished
        # work is salvaged); the CPU-seconds cap sits above what `cpus` cores can burn in
        # that time, as a backstop, so a busy loop is never killed by SIGXCPU first.
        cpu_budget = limits.wall_s * max(limits.cpus, 1.0) + 5.0
        sl = SandboxLimits.clamped(wall_s=limits.wall_s, cpu_s=cpu_budget,
                                   memory_mib=limits.memory_mib, cpus=limits.cpus,
                                   pids=limits.pids)
        r = self.backend.run(list(command), limits=sl, files=dict(files), outputs=list(outputs))
        return RunOutput(
            status=r.status.value, exit_code=r.exit_code,
            stdout=r.stdout, stderr=r.stderr,
            files={name: f.data for name, f in r.files.items()}, wall_s=r.wall_s,
            cpu_s=r.cpu_s, peak_memory_bytes=r.peak_memory_bytes, detail=r.detail)


def build_runner(prefer: Prefer = "auto", settings: Settings | None = None) -> SandboxRunner:
    """Runner on the backend `settings` name (default: the environment's); raises
    sandbox.backend.NoBackend when none is usable."""
    return SandboxRunner(make_backend(settings or Settings(), prefer))


def try_build_runner(prefer: Prefer = "auto", settings: Settings | None = None,
                     ) -> tuple[SandboxRunner | None, str | None]:
    """(runner, None) or (None, why no sandbox is usable)."""
    try:
        return build_runner(prefer, settings), None
    except Exception as exc:  # noqa: BLE001 - NoBackend, or an engine that does not answer
        return None, f"{type(exc).__name__}: {exc}"
