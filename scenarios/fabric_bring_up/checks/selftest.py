"""Per-variant self-check (hidden): the reference solver finds the planted cause, node and
HCA, and the grep-only shortcut (checks/grep_solver.py) is graded with the rubric.

summary() prints the shortcut figures: the grep-only solver's mean score and how often it
names the right cause (and cause+node+HCA), naive and restricted to the job's hosts, and
how often each family's signature is found on seeds where it is not the cause. A naive
grep mean at or above MAX_GREP_MEAN is a self-test problem.
"""

from __future__ import annotations

import statistics
from typing import Any

from scenarios.hooks import SelfCheck

MAX_GREP_MEAN = 30.0
_HOOK = SelfCheck(__file__)
KEYS = ("cause_family", "culprit_node", "culprit_hca")
TEXT_FIELDS = ("evidence", "fix", "verification")

_SCORES: dict[str, list[float]] = {"grep": [], "grep_job_hosts": []}
_CAUSE: dict[str, list[bool]] = {"grep": [], "grep_job_hosts": []}
_FULL: dict[str, list[bool]] = {"grep": [], "grep_job_hosts": []}
_DECOY: dict[str, list[bool]] = {}


def grade(variant: Any, answer: dict[str, Any]) -> float:
    """The rubric score of answer. Every text criterion requires the cause: with a wrong cause
    the write-ups are stood in for (scenarios/hooks.py), the score is the same."""
    return _HOOK.grade(variant, answer, key="cause_family", text_fields=TEXT_FIELDS)

def check(variant: Any) -> list[str]:
    p = variant.params
    planted = {k: p[k] for k in KEYS}
    problems = _HOOK.solver_problems(variant, planted)
    grep = _HOOK.module("grep_solver.py")
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
