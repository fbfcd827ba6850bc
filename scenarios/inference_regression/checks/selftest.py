"""Per-variant self-check (hidden): the reference solver finds the planted cause, the deploy
line and the numbers, the variant shows the regression it claims, and the grep-only shortcut
(checks/grep_solver.py) is graded with the rubric.

summary() prints the shortcut figures: the grep-only solver's mean score and how often it
names the right cause, naive and skipping the signatures every deploy carries, and how
often each family's signature is found on seeds where it is not the cause. A naive grep
mean at or above MAX_GREP_MEAN is a self-test problem.
"""

from __future__ import annotations

from typing import Any

from scenarios.hooks import SelfCheck, ShortcutTally

MAX_GREP_MEAN = 30.0
_HOOK = SelfCheck(__file__)
KEYS = ("cause_family", "changed_setting", "kv_tokens_after", "ttft_p99_before_ms",
        "ttft_p99_after_ms")
TEXT_FIELDS = ("evidence", "fix", "verification")

_TALLY = ShortcutTally({"grep": "grep-only solver",
                        "grep_skip2": "grep-only solver skipping the two signatures every "
                                      "deploy carries (not bounded)"},
                       bounded="grep", max_mean=MAX_GREP_MEAN,
                       figure=("p99 TTFT after/before", "x{:.1f}"))


def grade(variant: Any, answer: dict[str, Any]) -> float:
    """The rubric score of answer. Every text criterion requires the cause: with a wrong cause
    the write-ups are stood in for (scenarios/hooks.py), the score is the same."""
    return _HOOK.grade(variant, answer, key="cause_family", text_fields=TEXT_FIELDS)


def check(variant: Any) -> list[str]:
    p = variant.params
    problems = _HOOK.solver_problems(variant, KEYS)
    fam = p["cause_family"]
    if fam in ("kv_preemption", "kv_cache_dtype") and p["preemptions_after"] < 200:
        problems.append(f"{fam}: only {p['preemptions_after']} preemptions after the deploy")
    if fam in ("kv_preemption", "kv_cache_dtype") and \
            p["kv_tokens_after"] > 0.85 * p["kv_tokens_before"]:
        problems.append(f"{fam}: the KV pool did not shrink")
    ratio = p["ttft_p99_after_ms"] / max(p["ttft_p99_before_ms"], 1e-9)
    _TALLY.figure_of(fam, ratio)
    if ratio < 1.3:
        problems.append(f"{fam}: p99 TTFT only x{ratio:.2f} after the deploy")
    grep = _HOOK.module("grep_solver.py")
    for family, find in grep.ORDER:
        if family != fam:
            _TALLY.decoy(family, find(variant.artifacts) is not None)
    for key, skip in (("grep", 0), ("grep_skip2", 2)):
        ans = grep.solve(variant.artifacts, skip_first=skip)
        _TALLY.record(key, grade(variant, ans), ans["cause_family"] == fam)
    return problems


def summary() -> list[str]:
    return _TALLY.lines()


def reset() -> None:
    """Forget the figures (a test that runs the hook twice in one process)."""
    _TALLY.reset()
