"""Typed factories for grading tests: variants, rubrics, hidden check modules, runners."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from graders.checks.base import CheckContext
from graders.rubric import Criterion, Rubric
from graders.runner import RunLimits, RunOutput


@dataclass(frozen=True)
class FakeVariant:
    scenario_id: str = "scn"
    seed: int = 1
    params: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)


def variant(*, params: dict[str, Any] | None = None, artifacts: dict[str, str] | None = None,
            seed: int = 1, scenario_id: str = "scn") -> FakeVariant:
    return FakeVariant(scenario_id, seed, params or {},
                       {k: v.encode() for k, v in (artifacts or {}).items()})


def criterion(*, id: str = "c1", check: dict[str, Any], points: float = 10,
              dimension: str = "debugging", levels: list[dict[str, Any]] | None = None
              ) -> Criterion:
    data: dict[str, Any] = {"id": id, "title": f"criterion {id}", "dimension": dimension,
                            "points": points, "check": check}
    if levels is not None:
        data["levels"] = levels
    return Criterion.model_validate(data)


def rubric(*criteria: Criterion, answer_key: str | None = None) -> Rubric:
    return Rubric(answer_key=answer_key, criteria=list(criteria))


def check_modules(tmp: Path, sources: Mapping[str, str]) -> Callable[[str], ModuleType]:
    """Write hidden checks/ modules under tmp and return a load_check for them."""
    import importlib.util

    for rel, src in sources.items():
        p = tmp / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(src))

    def load(rel: str) -> ModuleType:
        path = tmp / rel
        if not path.is_file():
            raise FileNotFoundError(rel)
        spec = importlib.util.spec_from_file_location(f"t_{path.stem}_{abs(hash(rel))}", path)
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod

    return load


def context(*, answer: dict[str, Any], params: dict[str, Any] | None = None,
            artifacts: dict[str, str] | None = None, seed: int = 1,
            load_check: Callable[[str], ModuleType] | None = None, runner: Any = None,
            answer_key: str | None = None) -> CheckContext:
    return CheckContext(scenario_id="scn", seed=seed, params=params or {},
                        artifacts={k: v.encode() for k, v in (artifacts or {}).items()},
                        answer=answer, load_check=load_check, runner=runner,
                        answer_key_module=answer_key)


class ProcessRunner:
    """Stand-in for the sandbox where the tests need no isolation: runs the command as a
    plain subprocess in a temporary directory (the grading logic under test is the same;
    tests marked docker use the real sandbox)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def run(self, files: Mapping[str, bytes], command: Sequence[str], limits: RunLimits,
            outputs: Sequence[str]) -> RunOutput:
        self.calls.append({"files": dict(files), "command": list(command), "limits": limits})
        with tempfile.TemporaryDirectory() as d:
            for name, data in files.items():
                p = Path(d) / name
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(data)
            cmd = [sys.executable if command[0] == "python3" else command[0], *command[1:]]
            t0 = time.monotonic()
            status = "ok"
            try:
                proc = subprocess.run(cmd, cwd=d, capture_output=True, timeout=limits.wall_s,
                                      env={"PATH": os.environ.get("PATH", "")})
                code: int | None = proc.returncode
                out, err = proc.stdout.decode(errors="replace"), proc.stderr.decode(
                    errors="replace")
                if code != 0:
                    status = "error"
            except subprocess.TimeoutExpired as exc:
                status, code = "timeout", None
                out = (exc.stdout or b"").decode(errors="replace")
                err = (exc.stderr or b"").decode(errors="replace")
            files_out = {n: (Path(d) / n).read_bytes() if (Path(d) / n).is_file() else None
                         for n in outputs}
            return RunOutput(status=status, exit_code=code, stdout=out, stderr=err,  # type: ignore[arg-type]
                             files=files_out, wall_s=time.monotonic() - t0)


class ScriptedRunner:
    """A runner that returns a fixed RunOutput (or raises), to test failure handling."""

    def __init__(self, output: RunOutput | None = None, exc: Exception | None = None) -> None:
        self.output, self.exc = output, exc

    def run(self, files: Mapping[str, bytes], command: Sequence[str], limits: RunLimits,
            outputs: Sequence[str]) -> RunOutput:
        if self.exc is not None:
            raise self.exc
        assert self.output is not None
        return self.output


def results_jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()
