"""Judges one planner output against the serving memory model (hidden; runs OUTSIDE the sandbox).

The candidate's code only returns data; every verdict here is recomputed from that data.
Memory rule (the prompt states it): a model instance with tensor-parallel degree t on GPU g
uses

    (weights + kv_budget_tokens * kv_bytes_per_token
     + max_batch_tokens * activation_bytes_per_token) / t + workspace_gib + overhead_gib

on each of its t GPUs (the activation and workspace terms are 0 when a model does not give
them), and each GPU in use also loses reserve_gib; the sum must not exceed the memory of
that GPU's node. A tensor-parallel group stays inside one node.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

GIB = 2**30


def nodes(case: dict[str, Any]) -> list[tuple[int, int, float]]:
    """The fleet's nodes as (first GPU id, GPUs, memory GiB per GPU), in GPU id order.

    A fleet is either identical nodes ({memory_gib, count, gpus_per_node}) or a list of
    nodes ({"nodes": [{"gpu", "memory_gib", "gpus"}, ...], "count"})."""
    fleet = case["fleet"]
    out: list[tuple[int, int, float]] = []
    if "nodes" in fleet:
        first = 0
        for node in fleet["nodes"]:
            out.append((first, int(node["gpus"]), float(node["memory_gib"])))
            first += int(node["gpus"])
        return out
    per = int(fleet["gpus_per_node"])
    return [(first, per, float(fleet["memory_gib"]))
            for first in range(0, int(fleet["count"]), per)]


def gpu_node(case: dict[str, Any]) -> list[int]:
    """Node index of every GPU id."""
    return [i for i, (_, n, _mem) in enumerate(nodes(case)) for _ in range(n)]


def gpu_memory(case: dict[str, Any]) -> list[float]:
    return [mem for _, n, mem in nodes(case) for _ in range(n)]


def per_gpu_gib(model: dict[str, Any], tp: int, kv_tokens: int, case: dict[str, Any]) -> float:
    """Memory one instance of model needs on each of its tp GPUs (without the GPU reserve)."""
    weights = model["params_b"] * 1e9 * model["bytes_per_param"] / GIB
    kv = kv_tokens * model["kv_bytes_per_token"] / GIB
    act = model.get("max_batch_tokens", 0) * model.get("activation_bytes_per_token", 0) / GIB
    return float((weights + kv + act) / tp + model.get("workspace_gib", 0.0) + case["overhead_gib"])


def required_kv_tokens(model: dict[str, Any]) -> int:
    return int(model["concurrency"] * model["context_tokens"])


def fits_alone(model: dict[str, Any], case: dict[str, Any]) -> list[int]:
    """TP degrees with which the model fits on otherwise empty GPUs of some node."""
    need = {t: per_gpu_gib(model, t, required_kv_tokens(model), case)
            for t in model["allowed_tp"]}
    return [t for t in model["allowed_tp"]
            if any(t <= n and need[t] <= mem - case["reserve_gib"] + 1e-9
                   for _, n, mem in nodes(case))]


def _describe(res: dict[str, Any], reference: dict[str, Any]) -> None:
    """The expected and actual outcome in words, for the report."""
    inf = reference["infeasible"]
    res["expected"] = (f"valid plan on {reference['gpus_used']} GPUs"
                       + (f"; infeasible: {', '.join(inf)}" if inf else "; every model placed"))
    v = res["violations"]
    if v:
        res["actual"] = f"invalid ({len(v)} violations): " + "; ".join(v[:3])
    else:
        res["actual"] = f"valid plan on {res['gpus_used']} GPUs"


def judge(case: dict[str, Any], output: Any, reference: dict[str, Any]) -> dict[str, Any]:
    """Verdict for one case: valid, score in [0, 1], GPUs used, and the violations found."""
    res = _judge(case, output, reference)
    _describe(res, reference)
    return res


def _judge(case: dict[str, Any], output: Any, reference: dict[str, Any]) -> dict[str, Any]:
    v: list[str] = []
    fleet = case["fleet"]
    node_of = gpu_node(case)
    memory = gpu_memory(case)
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
        m = models.get(name) if isinstance(name, str) else None
        if m is None or not isinstance(name, str):
            v.append(f"placement {i}: unknown model {name!r}"[:200])
            continue
        placed[name] += 1
        if not isinstance(tp, int) or isinstance(tp, bool) or tp not in m["allowed_tp"]:
            v.append(f"{name}: tp {tp!r} not allowed (allowed {m['allowed_tp']})"[:200])
            continue
        if not isinstance(gpus, list) or len(gpus) != tp or not all(
                isinstance(g, int) and not isinstance(g, bool) and 0 <= g < fleet["count"]
                for g in gpus) or len(set(gpus)) != tp:
            v.append(f"{name}: gpus must be {tp} distinct ids in 0..{fleet['count'] - 1}")
            continue
        if len({node_of[g] for g in gpus}) != 1:
            v.append(f"{name}: its tensor-parallel group {sorted(gpus)} crosses nodes")
            continue
        if not isinstance(kv, int) or isinstance(kv, bool) or kv < required_kv_tokens(m):
            v.append(f"{name}: kv_budget_tokens {kv!r} below concurrency x context = "
                     f"{required_kv_tokens(m)}"[:200])
            continue
        for g in gpus:
            used[g] += per_gpu_gib(m, tp, kv, case)
    for g, gib in sorted(used.items()):
        total = gib + case["reserve_gib"]
        if total > memory[g] + 1e-6:
            v.append(f"GPU {g}: {total:.1f} GiB needed > {memory[g]:g} GiB")
    claimed = set()
    for item in output.get("infeasible", []):
        name = item.get("model") if isinstance(item, dict) else None
        if not isinstance(name, str) or name not in models:
            v.append(f"infeasible entry {item!r} names no model"[:200])
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
