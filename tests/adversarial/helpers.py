from __future__ import annotations

from typing import Any

from sandbox.result import RunResult
from tests.sandbox.support import small_limits


def py(backend: Any, code: str, *, stdin: bytes = b"", outputs: tuple[str, ...] = (),
       **limits: float) -> RunResult:
    """Run Python code in a fresh sandbox with tight limits."""
    result: RunResult = backend.run(["python", "-c", code], limits=small_limits(**limits),
                                    stdin=stdin, outputs=list(outputs))
    return result


def sh(backend: Any, script: str, **limits: float) -> RunResult:
    result: RunResult = backend.run(["sh", "-c", script], limits=small_limits(**limits))
    return result
