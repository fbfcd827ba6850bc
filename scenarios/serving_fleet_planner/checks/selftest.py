"""Per-variant self-check (hidden): cases are deterministic, the reference passes its own
judge, and the judge rejects the starter and a sabotaged plan."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
N = 6  # one of each case kind


def _load(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def check(variant: Any) -> list[str]:
    cases = _load(HERE / "cases.py", "_st_cases")
    judge = _load(HERE / "judge.py", "_st_judge")
    ref = _load(HERE / "reference.py", "_st_ref")
    starter = _load(HERE.parent / "starter" / "planner.py", "_st_starter")
    problems = []
    a, b = cases.cases(variant.params, N), cases.cases(variant.params, N)
    if json.dumps(a, sort_keys=True) != json.dumps(b, sort_keys=True):
        problems.append("hidden cases differ between two runs")
    examples = [json.loads(v) for k, v in variant.artifacts.items() if k.startswith("examples/")]
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
