"""Per-variant self-check (hidden): the reference solver finds the planted cause, the
culprit and the numbers, the variant shows the slowdown it claims, and the shortcut solvers
(checks/grep_solver.py) are graded with the rubric.

summary() prints the shortcut figures: each grep solver's mean score and how often it names
the right cause, and how often each family's log signature is found on seeds where it is not
the cause. A naive grep mean at or above MAX_GREP_MEAN is a self-test problem.
"""

from __future__ import annotations

from typing import Any

from scenarios.hooks import SelfCheck, ShortcutTally

MAX_GREP_MEAN = 30.0
_HOOK = SelfCheck(__file__)
KEYS = ("cause_family", "culprit", "slowest_clock_mhz", "step_time_increase_pct")
TEXT_FIELDS = ("evidence", "mitigation", "fix")

_TALLY = ShortcutTally({"grep": "grep-only solver (event logs)",
                        "grep_skip2": "grep-only solver skipping the brake and pump "
                                      "signatures (not bounded)",
                        "bits": "throttle-bits grep of the hourly DCGM export (not bounded)"},
                       bounded="grep", max_mean=MAX_GREP_MEAN, full_label="culprit right",
                       figure=("step time increase", "+{:.0f}%"))


def grade(variant: Any, answer: dict[str, Any]) -> float:
    """The rubric score of answer. Every text criterion requires the cause: with a wrong cause
    the write-ups are stood in for (scenarios/hooks.py), the score is the same."""
    return _HOOK.grade(variant, answer, key="cause_family", text_fields=TEXT_FIELDS)


def check(variant: Any) -> list[str]:
    p = variant.params
    problems = _HOOK.solver_problems(variant, KEYS)
    fam = p["cause_family"]
    _TALLY.figure_of(fam, p["step_time_increase_pct"])
    if p["step_time_increase_pct"] < 5:
        problems.append(f"{fam}: step time only +{p['step_time_increase_pct']}%")
    if p["culprit"] in p["decoy_nodes"]:
        problems.append(f"{fam}: culprit {p['culprit']} is also a decoy")
    grep = _HOOK.module("grep_solver.py")
    for family, find in grep.ORDER:
        if family != fam:
            _TALLY.decoy(family, find(variant.artifacts) is not None)
    for key, ans in (("grep", grep.solve(variant.artifacts)),
                     ("grep_skip2", grep.solve(variant.artifacts, skip_first=2)),
                     ("bits", grep.solve_bits(variant.artifacts))):
        right = ans["cause_family"] == fam
        _TALLY.record(key, grade(variant, ans), right, right and ans["culprit"] == p["culprit"])
    return problems


def summary() -> list[str]:
    return _TALLY.lines()


def reset() -> None:
    """Forget the figures (a test that runs the hook twice in one process)."""
    _TALLY.reset()
