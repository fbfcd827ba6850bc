"""Per-variant self-check (hidden): the reference solver finds the GPU, its first event, the
data events and the rollback checkpoint; each shortcut in checks/grep_solver.py is graded
with the rubric. A shortcut whose mean is at or above MAX_SHORTCUT_MEAN is a problem."""

from __future__ import annotations

import importlib.util
import statistics
from pathlib import Path
from types import ModuleType
from typing import Any

MAX_SHORTCUT_MEAN = 30.0
HERE = Path(__file__).resolve().parent
KEYS = ("culprit_node", "culprit_gpu", "first_sdc_step", "data_spikes", "rollback_step")
TEXT_FIELDS = ("evidence", "fix", "verification")
_SCORES: dict[str, list[float]] = {}
_HITS: dict[str, list[bool]] = {}
_CACHE: dict[str, Any] = {}


def _module(name: str) -> ModuleType:
    if name not in _CACHE:
        spec = importlib.util.spec_from_file_location(f"_sdc_{name}", HERE / f"{name}.py")
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        _CACHE[name] = mod
    return _CACHE[name]  # type: ignore[no-any-return]


def _scenario() -> Any:
    if "scenario" not in _CACHE:
        from scenarios.loader import load_scenario

        scenario, errors = load_scenario(HERE.parent)
        if scenario is None:
            raise RuntimeError(f"scenario does not load: {errors[:3]}")
        _CACHE["scenario"] = scenario
    return _CACHE["scenario"]


def grade(variant: Any, answer: dict[str, Any]) -> float:
    """The rubric score of answer. Every text criterion requires the host, so with a wrong
    host the write-ups are left out (the score is the same, the embedding work is saved)."""
    from graders.engine import grade_scenario

    s = _scenario()
    if answer.get("culprit_node") != variant.params["culprit_node"]:
        answer = {k: v for k, v in answer.items() if k not in TEXT_FIELDS}
    report = grade_scenario(s.rubric, answer, variant, load_check=s.load_check)
    return float(report.score or 0.0)


def check(variant: Any) -> list[str]:
    p = variant.params
    planted = {k: p[k] for k in KEYS}
    problems = []
    found = _module("solver").solve(variant.artifacts)
    if found != planted:
        problems.append(f"reference solver found {found or 'nothing'}, planted {planted}")
    grep = _module("grep_solver")
    for name, _ in grep.SHORTCUTS:
        ans = grep.solve(variant.artifacts, name)
        _SCORES.setdefault(name, []).append(grade(variant, ans))
        _HITS.setdefault(name, []).append(
            (ans["culprit_node"], ans["culprit_gpu"]) == (p["culprit_node"], p["culprit_gpu"]))
    return problems


def summary() -> list[str]:
    lines = []
    for name, scores in _SCORES.items():
        mean = statistics.mean(scores)
        lines.append(f"shortcut {name}: mean score {mean:.1f} over {len(scores)} seeds, "
                     f"right GPU on {sum(_HITS[name])}/{len(scores)}")
        if mean >= MAX_SHORTCUT_MEAN:
            lines.append(f"PROBLEM: shortcut {name} mean {mean:.1f} is not under "
                         f"{MAX_SHORTCUT_MEAN:g}")
    return lines


def reset() -> None:
    """Forget the figures (a test that runs the hook twice in one process)."""
    _SCORES.clear()
    _HITS.clear()
