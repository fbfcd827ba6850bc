"""Per-variant self-check (hidden): cases are deterministic, the reference passes its own
judge, the judge rejects the starter and a sabotaged plan, every shortcut case catches its
shortcut, and the naive planner (checks/naive.py) scores clearly below the reference."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from scenarios.hooks import sibling

HERE = Path(__file__).resolve().parent
N = 12  # one of each case kind, the shortcut kinds twice
NAIVE_MAX = 0.75  # mean case score the naive planner must stay under


def check(variant: Any) -> list[str]:
    cases = sibling(__file__, "cases.py")
    judge = sibling(__file__, "judge.py")
    ref = sibling(__file__, "reference.py")
    starter = sibling(__file__, "../starter/planner.py")
    problems = []
    a, b = cases.cases(variant.params, N), cases.cases(variant.params, N)
    if json.dumps(a, sort_keys=True) != json.dumps(b, sort_keys=True):
        problems.append("hidden cases differ between two runs")
    naive = sibling(__file__, "naive.py")
    examples = [json.loads(v) for k, v in variant.artifacts.items() if k.startswith("examples/")]
    naive_scores = []
    for case in a:
        kind = case["id"].split("-", 2)[2]
        if kind in cases.SHORTCUT_KINDS and not cases._punishes(case, kind):
            problems.append(f"{case['id']}: does not catch the shortcut it is for")
        naive_scores.append(judge.judge(case, naive.plan(case), ref.reference(case))["score"])
    if sum(naive_scores) / len(naive_scores) >= NAIVE_MAX:
        problems.append(f"naive planner scores {sum(naive_scores) / len(naive_scores):.2f} "
                        f">= {NAIVE_MAX} of the reference")
    for case in a + examples:
        r = ref.reference(case)
        verdict = judge.judge(case, r["plan"], r)
        if not verdict["valid"] or verdict["score"] != 1.0:
            problems.append(f"{case['id']}: reference fails its own judge: {verdict['violations']}")
        placeable = len(case["models"]) - len(r["infeasible"])
        if placeable and judge.judge(case, starter.plan(case), r)["valid"]:
            problems.append(f"{case['id']}: the starter passes")
        if r["plan"]["placements"]:
            bad = copy.deepcopy(r["plan"])
            bad["placements"][0]["kv_budget_tokens"] -= 1
            if judge.judge(case, bad, r)["valid"]:
                problems.append(f"{case['id']}: judge accepts a KV budget below the load")
    return problems
