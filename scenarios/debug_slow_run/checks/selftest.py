"""Per-variant self-check (hidden): the reference solver finds the planted cause, node and
GPU, and the grep-only shortcut (checks/grep_solver.py) is graded with the rubric.

summary() prints the shortcut figures over the seeds checked: the grep-only solver's mean
score and how often it names the right cause (and cause+node+GPU), for the naive grep and
for one that skips hosts outside the job. A naive-grep mean at or above MAX_GREP_MEAN is a
self-test problem (a line starting with "PROBLEM:").
"""

from __future__ import annotations

import statistics
from typing import Any

from scenarios.hooks import SelfCheck

MAX_GREP_MEAN = 30.0
_HOOK = SelfCheck(__file__)

_SCORES: dict[str, list[float]] = {"grep": [], "grep_job_hosts": []}
_CAUSE: dict[str, list[bool]] = {"grep": [], "grep_job_hosts": []}
_FULL: dict[str, list[bool]] = {"grep": [], "grep_job_hosts": []}
_SPECIFIC: list[tuple[bool, bool]] = []  # harmful-form grep: (cause right, all three right)
_DECOY: dict[str, list[bool]] = {}  # family -> its signature found on a seed it is not the cause
TEXT_FIELDS = ("evidence", "fix", "verification")


def grade(variant: Any, answer: dict[str, Any]) -> float:
    """The rubric score of answer. Every text criterion requires the cause: with a wrong cause
    the write-ups are stood in for (scenarios/hooks.py), the score is the same."""
    return _HOOK.grade(variant, answer, key="cause_family", text_fields=TEXT_FIELDS)

def check(variant: Any) -> list[str]:
    p = variant.params
    planted = {k: p[k] for k in ("cause_family", "culprit_node", "culprit_gpu")}
    problems = _HOOK.solver_problems(variant, planted)
    grep = _HOOK.module("grep_solver.py")
    for family, find in grep.ORDER:
        if family != p["cause_family"]:
            _DECOY.setdefault(family, []).append(find(variant.artifacts, None) is not None)
    spec = grep.solve_specific(variant.artifacts, p["slowdown_words"])
    _SPECIFIC.append((spec.get("cause_family") == p["cause_family"],
                      all(spec.get(k) == planted[k] for k in planted)))
    for key, only_job in (("grep", False), ("grep_job_hosts", True)):
        ans = grep.solve(variant.artifacts, p["slowdown_words"], job_hosts_only=only_job)
        _SCORES[key].append(grade(variant, ans))
        _CAUSE[key].append(ans["cause_family"] == p["cause_family"])
        _FULL[key].append(all(ans[k] == planted[k] for k in planted))
    return problems


def summary() -> list[str]:
    lines = []
    for key, label in (("grep", "grep-only solver"),
                       ("grep_job_hosts", "grep-only solver, job hosts only")):
        n = len(_SCORES[key])
        if not n:
            continue
        mean = statistics.mean(_SCORES[key])
        lines.append(f"{label}: mean score {mean:.1f} over {n} seeds, cause found on "
                     f"{sum(_CAUSE[key])}/{n}, cause+node+GPU on {sum(_FULL[key])}/{n}")
        if key == "grep" and mean >= MAX_GREP_MEAN:
            lines.append(f"PROBLEM: grep-only mean {mean:.1f} is not under {MAX_GREP_MEAN:g}")
    if _SPECIFIC:
        n = len(_SPECIFIC)
        lines.append(f"harmful-form grep (job hosts, no timings; not bounded): cause "
                     f"found on {sum(c for c, _ in _SPECIFIC)}/{n}, cause+node+GPU on "
                     f"{sum(f for _, f in _SPECIFIC)}/{n}")
    if _DECOY:
        share = {f: sum(v) / len(v) for f, v in _DECOY.items()}
        low = sorted(share, key=share.__getitem__)[:3]
        lines.append("each family's grep signature also on decoys when it is not the cause: "
                     "lowest " + ", ".join(f"{f} {share[f]:.0%}" for f in low))
    return lines


def reset() -> None:
    """Forget the figures (a test that runs the hook twice in one process)."""
    _DECOY.clear()
    _SPECIFIC.clear()
    for d in (_SCORES, _CAUSE, _FULL):
        for v in d.values():
            v.clear()
