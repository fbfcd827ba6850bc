"""Per-variant self-check (hidden): the hidden cases are deterministic and well posed, the
solution passes the judge on every case and on the given profile (and finds the variant's
best change), the starter scores 0, and every shortcut (checks/shortcuts.py) scores clearly
below the solution on the cases aimed at it."""

from __future__ import annotations

import json
from typing import Any

from scenarios.hooks import sibling

N = 18
# (shortcut, kinds of the cases it is judged on (None = all), highest mean score allowed)
LIMITS: list[tuple[str, set[str] | None, float]] = [
    ("all_memory", None, 0.45),
    ("own_times", None, 0.6),
    ("l2_bytes", None, 0.4),
    ("bf16_ridge", {"fp8_mix"}, 0.75),
    ("no_launch_floor", {"small"}, 0.85),
    ("rank_all", None, 0.95),
]


def check(variant: Any) -> list[str]:
    cases = sibling(__file__, "cases.py")
    judge = sibling(__file__, "judge.py")
    ref = sibling(__file__, "reference.py")
    sol = sibling(__file__, "solution.py")
    short = sibling(__file__, "shortcuts.py")
    starter = sibling(__file__, "../starter/roofline.py")
    problems: list[str] = []
    a, b = cases.cases(variant.params, N), cases.cases(variant.params, N)
    if json.dumps(a, sort_keys=True) != json.dumps(b, sort_keys=True):
        problems.append("hidden cases differ between two runs")
    given = json.loads(variant.artifacts["profile/input.json"])
    given_case = {"id": "given-profile", **given}
    refs = {c["id"]: ref.reference(c) for c in a + [given_case]}
    for c in a + [given_case]:
        r = refs[c["id"]]
        if not cases._well_posed(c):
            problems.append(f"{c['id']}: a kernel or a gain sits on a knife edge")
        v = judge.judge(c, sol.analyse(c["profile"], c["gpu"]), r)
        if v["score"] != 1.0:
            problems.append(f"{c['id']}: the solution scores {v['score']}: {v['violations'][:2]}")
        if judge.judge(c, starter.analyse(c["profile"], c["gpu"]), r)["score"] > 0:
            problems.append(f"{c['id']}: the starter scores above 0")
    best = max(refs["given-profile"]["proposals"], key=lambda p: p["gain_us"])
    if best["id"] != variant.params["best_change"]:
        problems.append(f"best_change {variant.params['best_change']} != {best['id']}")
    for name, kinds, limit in LIMITS:
        f = short.SHORTCUTS[name]
        aimed = [c for c in a if kinds is None or c["id"].split("-", 2)[2] in kinds]
        scores = [judge.judge(c, f(c["profile"], c["gpu"]), refs[c["id"]])["score"]
                  for c in aimed]
        mean = sum(scores) / len(scores)
        if mean > limit:
            problems.append(f"shortcut {name} scores {mean:.2f} > {limit} on its cases")
    return problems
