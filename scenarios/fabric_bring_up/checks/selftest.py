"""Per-variant self-check (hidden): the reference solver finds the planted cause, node and
HCA, and the grep-only shortcut (checks/grep_solver.py) is graded with the rubric.

summary() prints the shortcut figures: the grep-only solver's mean score and how often it
names the right cause (and cause+node+HCA), naive and restricted to the job's hosts, and
how often each family's signature is found on seeds where it is not the cause. A naive
grep mean at or above MAX_GREP_MEAN is a self-test problem.
"""

from __future__ import annotations

import importlib.util
import statistics
from pathlib import Path
from types import ModuleType
from typing import Any

MAX_GREP_MEAN = 30.0
HERE = Path(__file__).resolve().parent
KEYS = ("cause_family", "culprit_node", "culprit_hca")
TEXT_FIELDS = ("evidence", "fix", "verification")

_SCORES: dict[str, list[float]] = {"grep": [], "grep_job_hosts": []}
_CAUSE: dict[str, list[bool]] = {"grep": [], "grep_job_hosts": []}
_FULL: dict[str, list[bool]] = {"grep": [], "grep_job_hosts": []}
_DECOY: dict[str, list[bool]] = {}
_CACHE: dict[str, Any] = {}


def _module(name: str) -> ModuleType:
    if name not in _CACHE:
        spec = importlib.util.spec_from_file_location(f"_fbu_{name}", HERE / f"{name}.py")
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
    """The rubric score of answer. Every text criterion requires the cause, so with a wrong
    cause the write-ups are left out (the score is the same, the embedding work is saved)."""
    from graders.engine import grade_scenario

    s = _scenario()
    if answer.get("cause_family") != variant.params["cause_family"]:
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
    for family, find in grep.ORDER:
        if family != p["cause_family"]:
            _DECOY.setdefault(family, []).append(find(variant.artifacts, None) is not None)
    for key, only_job in (("grep", False), ("grep_job_hosts", True)):
        ans = grep.solve(variant.artifacts, job_hosts_only=only_job)
        _SCORES[key].append(grade(variant, ans))
        _CAUSE[key].append(ans["cause_family"] == p["cause_family"])
        _FULL[key].append(all(ans[k] == planted[k] for k in planted))
    return problems


def summary() -> list[str]:
    lines = []
    for key, label in (("grep", "grep-only solver"),
                       ("grep_job_hosts", "grep-only solver, job hosts only (not bounded)")):
        n = len(_SCORES[key])
        if not n:
            continue
        mean = statistics.mean(_SCORES[key])
        lines.append(f"{label}: mean score {mean:.1f} over {n} seeds, cause found on "
                     f"{sum(_CAUSE[key])}/{n}, cause+node+HCA on {sum(_FULL[key])}/{n}")
        if key == "grep" and mean >= MAX_GREP_MEAN:
            lines.append(f"PROBLEM: grep-only mean {mean:.1f} is not under {MAX_GREP_MEAN:g}")
    if _DECOY:
        share = {f: sum(v) / len(v) for f, v in _DECOY.items()}
        low = sorted(share, key=share.__getitem__)[:3]
        lines.append("each family's grep signature also on decoys when it is not the cause: "
                     "lowest " + ", ".join(f"{f} {share[f]:.0%}" for f in low))
    return lines


def reset() -> None:
    """Forget the figures (a test that runs the hook twice in one process)."""
    _DECOY.clear()
    for d in (_SCORES, _CAUSE, _FULL):
        for v in d.values():
            v.clear()
