"""What every check receives (CheckContext) and returns (CheckOutcome)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from graders.report import Evidence, Status
from graders.runner import RunLimits, Runner


class CheckSetupError(Exception):
    """Hidden check material is missing or broken: our fault, never the candidate's."""


@dataclass
class CheckContext:
    """One variant and one sanitized answer, plus the hidden material a check may load."""

    scenario_id: str
    seed: int
    params: Mapping[str, Any]
    artifacts: Mapping[str, bytes]
    answer: Mapping[str, Any]
    load_check: Callable[[str], ModuleType] | None = None
    runner: Runner | None = None
    limits: RunLimits = field(default_factory=RunLimits)
    answer_key_module: str | None = None
    cache: dict[str, Any] = field(default_factory=dict)  # per grading, shared by checks
    prompt: str = ""  # the variant's prompt as the candidate sees it (public; "" unknown)
    _answer_key: dict[str, Any] | None = None

    def module(self, relpath: str) -> ModuleType:
        """Import a hidden checks/ module of the scenario."""
        if self.load_check is None:
            raise CheckSetupError(f"no loader for hidden checks ({relpath})")
        key = "module:" + relpath
        cached = self.cache.get(key)
        if isinstance(cached, ModuleType):
            return cached  # once per grading: loading compiles the file afresh
        try:
            loaded = self.load_check(relpath)
        except Exception as exc:
            raise CheckSetupError(f"{relpath}: {type(exc).__name__}: {exc}") from exc
        self.cache[key] = loaded
        return loaded

    def function(self, relpath: str, name: str) -> Callable[..., Any]:
        fn = getattr(self.module(relpath), name, None)
        if not callable(fn):
            raise CheckSetupError(f"{relpath} defines no {name}()")
        return fn  # type: ignore[no-any-return]

    def answer_key(self) -> dict[str, Any]:
        """The rubric's answer_key(params), computed once per grading."""
        if self._answer_key is None:
            if self.answer_key_module is None:
                raise CheckSetupError("the rubric has no answer_key module")
            fn = self.function(self.answer_key_module, "answer_key")
            try:
                key = fn(dict(self.params))
            except Exception as exc:
                raise CheckSetupError(f"answer_key() failed: {type(exc).__name__}: {exc}") \
                    from exc
            if not isinstance(key, dict):
                raise CheckSetupError("answer_key() must return a dict")
            self._answer_key = key
        return self._answer_key


@dataclass
class CheckOutcome:
    """What a check found: points (0..max), evidence and how sure it is."""

    points: float
    evidence: list[Evidence] = field(default_factory=list)
    confidence: float = 1.0
    needs_review: bool = False
    gradable: bool = True
    status: Status = "graded"
    detail: str = ""
    points_max: float | None = None  # what a review could still raise points to (None: =)


def clamp(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return lo if x < lo else min(x, hi)


def r4(x: float) -> float:
    """Round for reports: the same inputs must print the same numbers."""
    return round(float(x), 4)


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, dict | list | tuple | set):
        return all(is_blank(v) for v in (value.values() if isinstance(value, dict) else value))
    return False
