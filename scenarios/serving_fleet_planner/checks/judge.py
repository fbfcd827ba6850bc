"""Judges one planner output against the serving memory model (hidden; runs OUTSIDE the sandbox).

The candidate's code only returns data; every verdict here is recomputed from that data.
Memory rule (the prompt states it): a model instance with tensor-parallel degree t on GPU g
uses  weights/t + kv_budget_tokens * kv_bytes_per_token / t + overhead_gib  on each of its t
GPUs, and each GPU in use also loses reserve_gib; the sum must not exceed memory_gib.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

GIB = 2**30


def per_gpu_gib(model: dict[str, Any], tp: int, kv_tokens: int, case: dict[str, Any]) -> float:
    """Memory one instance of model needs on each of its tp GPUs (without the GPU reserve)."""
    weights = model["params_b"] * 1e9 * model["bytes_per_param"] / GIB
    kv = kv_tokens * model["kv_bytes_per_token"] / GIB
    return (weights + kv) / tp + case["overhead_gib"]


def required_kv_tokens(model: dict[str, Any]) -> int:
    return int(model["concurrency"] * model["context_tokens"])


def fits_alone(model: dict[str, Any], case: dict[str, Any]) -> list[int]:
    """TP degrees with which the model fits on otherwise empty GPUs of one node."""
    fleet = case["fleet"]
    cap = fleet["memory_gib"] - case["reserve_gib"]
    return [t for t in model["allowed_tp"]
            if t <= fleet["gpus_per_node"] and t <= fleet["count"]
            and per_gpu_gib(model, t, required_kv_tokens(model), case) <= cap + 1e-9]


def judge(case: dict[str, Any], output: Any, reference: dict[str, Any]) -> dict[str, Any]:
    """Verdict for one case: valid, score in [0, 1], GPUs used, and the violations found."""
    v: list[str] = []
    fleet = case["fleet"]
    models = {m["name"]: m for m in case["models"]}
    res: dict[str, Any] = {"valid": False, "score": 0.0, "gpus_used": None,
                           "reference_gpus": reference["gpus_used"], "violations": v}
    if not isinstance(output, dict) or not isinstance(output.get("placements"), list) or \
            not isinstance(output.get("infeasible", []), list):
        v.append("output must be {'placements': [...], 'infeasible': [...]}")
        return res
    placed: dict[str, int] = defaultdict(int)
    used: dict[int, float] = defaultdict(float)
    for i, p in enumerate(output["placements"]):
        if not isinstance(p, dict):
            v.append(f"placement {i} is not an object")
            continue
        name, gpus, tp, kv = p.get("model"), p.get("gpus"), p.get("tp"), p.get("kv_budget_tokens")
        m = models.get(name)  # type: ignore[arg-type]
        if m is None:
            v.append(f"placement {i}: unknown model {name!r}")
            continue
        placed[name] += 1  # type: ignore[index]
        if not isinstance(tp, int) or isinstance(tp, bool) or tp not in m["allowed_tp"]:
            v.append(f"{name}: tp {tp!r} not allowed (allowed {m['allowed_tp']})")
            continue
        if not isinstance(gpus, list) or len(gpus) != tp or len(set(gpus)) != tp or not all(
                isinstance(g, int) and not isinstance(g, bool) and 0 <= g < fleet["count"]
                for g in gpus):
            v.append(f"{name}: gpus must be {tp} distinct ids in 0..{fleet['count'] - 1}")
            continue
        if len({g // fleet["gpus_per_node"] for g in gpus}) != 1:
            v.append(f"{name}: a tensor-parallel group must stay inside one node")
            continue
        if not isinstance(kv, int) or isinstance(kv, bool) or kv < required_kv_tokens(m):
            v.append(f"{name}: kv_budget_tokens {kv!r} below concurrency x context = "
                     f"{required_kv_tokens(m)}")
            continue
        for g in gpus:
            used[g] += per_gpu_gib(m, tp, kv, case)
    for g, gib in sorted(used.items()):
        total = gib + case["reserve_gib"]
        if total > fleet["memory_gib"] + 1e-6:
            v.append(f"GPU {g}: {total:.1f} GiB needed > {fleet['memory_gib']} GiB")
    claimed = set()
    for item in output.get("infeasible", []):
        name = item.get("model") if isinstance(item, dict) else None
        if name not in models:
            v.append(f"infeasible entry {item!r} names no model")
            continue
        claimed.add(name)
        if name not in reference["infeasible"]:
            v.append(f"{name}: reported infeasible but it can be placed")
    for name in models:
        n = placed.get(name, 0)
        if name in reference["infeasible"] and n:
            v.append(f"{name}: placed although it cannot fit")  # caught by memory anyway
        if n > 1:
            v.append(f"{name}: placed {n} times (one instance each)")
        if n == 0 and name not in claimed:
            v.append(f"{name}: neither placed nor reported infeasible")
        if n and name in claimed:
            v.append(f"{name}: both placed and reported infeasible")
    res["gpus_used"] = len(used)
    if v:
        return res
    res["valid"] = True
    ref = reference["gpus_used"]
    res["score"] = 1.0 if len(used) <= ref else round(ref / len(used), 4)
    return res
