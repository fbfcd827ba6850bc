"""Per-variant self-check (hidden): the reference solver finds the planted cause, node and
GPU, and the grep-only shortcut (checks/grep_solver.py) is graded with the rubric.

summary() prints the shortcut figures over the seeds checked: the grep-only solver's mean
score and how often it names the right cause (and cause+node+GPU), for the naive grep and
for one that skips hosts outside the job. A naive-grep mean at or above MAX_GREP_MEAN is a
self-test problem (a line starting with "PROBLEM:").
"""

from __future__ import annotations

from typing import Any

from scenarios.hooks import SelfCheck, ShortcutTally

MAX_GREP_MEAN = 30.0
_HOOK = SelfCheck(__file__)

_TALLY = ShortcutTally({"grep": "grep-only solver",
                        "grep_job_hosts": "grep-only solver, job hosts only"},
                       bounded="grep", max_mean=MAX_GREP_MEAN, full_label="cause+node+GPU")
_SPECIFIC: list[tuple[bool, bool]] = []  # harmful-form grep: (cause right, all three right)
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
            _TALLY.decoy(family, find(variant.artifacts, None) is not None)
    spec = grep.solve_specific(variant.artifacts, p["slowdown_words"])
    _SPECIFIC.append((spec.get("cause_family") == p["cause_family"],
                      all(spec.get(k) == planted[k] for k in planted)))
    for key, only_job in (("grep", False), ("grep_job_hosts", True)):
        ans = grep.solve(variant.artifacts, p["slowdown_words"], job_hosts_only=only_job)
        _TALLY.record(key, grade(variant, ans), ans["cause_family"] == p["cause_family"],
                      all(ans[k] == planted[k] for k in planted))
    return problems


def summary() -> list[str]:
    lines = _TALLY.lines()
    if _SPECIFIC:
        n = len(_SPECIFIC)
        at = len(lines) - (1 if _TALLY.decoys else 0)  # before the decoy line, as it was
        lines.insert(at, f"harmful-form grep (job hosts, no timings; not bounded): cause "
                         f"found on {sum(c for c, _ in _SPECIFIC)}/{n}, cause+node+GPU on "
                         f"{sum(f for _, f in _SPECIFIC)}/{n}")
    return lines


def reset() -> None:
    """Forget the figures (a test that runs the hook twice in one process)."""
    _TALLY.reset()
    _SPECIFIC.clear()
