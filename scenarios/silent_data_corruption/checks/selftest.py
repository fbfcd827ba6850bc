"""Per-variant self-check (hidden): the reference solver finds the GPU, its first event, the
data events and the rollback checkpoint; each shortcut in checks/grep_solver.py is graded
with the rubric. A shortcut whose mean is at or above MAX_SHORTCUT_MEAN is a problem."""

from __future__ import annotations

import statistics
from typing import Any

from scenarios.hooks import SelfCheck

MAX_SHORTCUT_MEAN = 30.0
_HOOK = SelfCheck(__file__)
KEYS = ("culprit_node", "culprit_gpu", "first_sdc_step", "data_spikes", "rollback_step")
TEXT_FIELDS = ("evidence", "fix", "verification")
_SCORES: dict[str, list[float]] = {}
_HITS: dict[str, list[bool]] = {}


def grade(variant: Any, answer: dict[str, Any]) -> float:
    """The rubric score of answer. Every text criterion requires the host: with a wrong host
    the write-ups are stood in for (scenarios/hooks.py), the score is the same."""
    return _HOOK.grade(variant, answer, key="culprit_node", text_fields=TEXT_FIELDS)

def check(variant: Any) -> list[str]:
    p = variant.params
    problems = _HOOK.solver_problems(variant, KEYS)
    grep = _HOOK.module("grep_solver.py")
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
