"""Per-variant self-check (hidden): the reference solver finds the planted cause, node and
HCA, and the grep-only shortcut (checks/grep_solver.py) is graded with the rubric.

summary() prints the shortcut figures: the grep-only solver's mean score and how often it
names the right cause (and cause+node+HCA), naive and restricted to the job's hosts, and
how often each family's signature is found on seeds where it is not the cause. A naive
grep mean at or above MAX_GREP_MEAN is a self-test problem.
"""

from __future__ import annotations

from typing import Any

from scenarios.hooks import SelfCheck, ShortcutTally

MAX_GREP_MEAN = 30.0
_HOOK = SelfCheck(__file__)
KEYS = ("cause_family", "culprit_node", "culprit_hca")
TEXT_FIELDS = ("evidence", "fix", "verification")

_TALLY = ShortcutTally({"grep": "grep-only solver",
                        "grep_job_hosts": "grep-only solver, job hosts only (not bounded)"},
                       bounded="grep", max_mean=MAX_GREP_MEAN, full_label="cause+node+HCA")


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
            _TALLY.decoy(family, find(variant.artifacts, None) is not None)
    for key, only_job in (("grep", False), ("grep_job_hosts", True)):
        ans = grep.solve(variant.artifacts, job_hosts_only=only_job)
        _TALLY.record(key, grade(variant, ans), ans["cause_family"] == p["cause_family"],
                      all(ans[k] == planted[k] for k in planted))
    return problems


def summary() -> list[str]:
    return _TALLY.lines()


def reset() -> None:
    """Forget the figures (a test that runs the hook twice in one process)."""
    _TALLY.reset()
