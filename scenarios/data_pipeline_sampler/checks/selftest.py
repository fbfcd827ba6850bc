"""Per-variant self-check (hidden): the hidden cases are deterministic; the policy and the
elastic rule are readable from the candidate's prompt, and the reference sampler built from
what the prompt says passes one case of every kind through the driver and the judge; the
starter and the wrong sampler fail; every large case is too big to hold as a list of ids in
the sandbox's memory."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from scenarios.hooks import SelfCheck

HOOK = SelfCheck(__file__)
HERE = Path(__file__).resolve().parent


def _load_class(source: str, name: str) -> Any:
    ns: dict[str, Any] = {"__name__": name}
    exec(compile(source, name, "exec"), ns)  # noqa: S102 - our own reference files
    return ns["Sampler"]


def from_view(prompt: str) -> tuple[str, bool]:
    """(remainder policy, elastic) as the candidate's prompt states them."""
    m = re.search(r"remainder policy `(\w+)`", prompt)
    return (m.group(1) if m else "?"), "**Elastic resume.**" in prompt


def _score(cls: Any, case: dict[str, Any]) -> tuple[float, list[str]]:
    driver, judge = HOOK.module("driver.py"), HOOK.module("judge.py")
    out = json.loads(json.dumps(driver.run(cls, case)))
    v = judge.judge(case, out, None)
    return float(v["score"]), list(v["violations"])


def check(variant: Any) -> list[str]:
    problems: list[str] = []
    cases, scale = HOOK.module("cases.py"), HOOK.module("cases_scale.py")
    s = HOOK.scenario()
    a, b = cases.cases(variant.params, 16), cases.cases(variant.params, 16)
    big = scale.cases(variant.params, 3)
    if json.dumps(a) != json.dumps(b) or json.dumps(big) != json.dumps(
            scale.cases(variant.params, 3)):
        problems.append("hidden cases differ between two runs")
    policy, elastic = from_view(s.candidate_view(variant.seed).prompt_markdown)
    if policy != variant.params["remainder"] or elastic != (variant.params["elastic"] == "yes"):
        problems.append(f"the prompt says policy {policy!r}, elastic {elastic}: not the variant's")
    ref = _load_class((HERE / "solution.py").read_text().replace("{policy}", policy),
                      "reference")
    kinds: dict[str, dict[str, Any]] = {}
    for case in a:
        kinds.setdefault(case["id"].split("-", 2)[2], case)
    for kind, case in kinds.items():
        score, why = _score(ref, case)
        if score < 1.0:
            problems.append(f"{case['id']}: the reference scores {score}: {why[:2]}")
    memory = (s.manifest.sandbox.memory_mib if s.manifest.sandbox else 1024) * 2**20
    for case in big:
        if case["total"] * 8 <= memory:
            problems.append(f"{case['id']}: {case['total']} ids fit in the sandbox as a list")
    score, why = _score(ref, big[0])
    if score < 0.5:
        problems.append(f"{big[0]['id']}: the reference is not correct at scale: {why[:2]}")
    wrong = _load_class((HERE / "wrong_shard_local.py").read_text(), "wrong")
    if _score(wrong, kinds["epoch"])[0] > 0.0:
        problems.append("the wrong sampler passes an epoch case")
    starter = _load_class((s.path / "starter" / "sampler.py").read_text(), "starter")
    try:
        _score(starter, kinds["epoch"])
        problems.append("the starter passes an epoch case")
    except NotImplementedError:
        pass
    return problems
