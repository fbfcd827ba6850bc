"""Naive fleet planners (hidden): what the hidden cases must punish.

plan() is the naive calibration answer's planner (calibration/naive.json carries this file's
text): it reads the fleet right (both fleet forms, each GPU's own memory) and sizes weights
and KV, but ignores the activation and workspace terms of the memory rule and takes any
free GPUs for a tensor-parallel group, across node boundaries. first_fit() honours the
whole rule but places models in input order on the first GPUs with room, so on a
heterogeneous fleet small models take the big GPUs that a big model needed. Only the
standard library: the calibration answer runs this code in the sandbox.
"""

from __future__ import annotations

from typing import Any

GIB = 2**30


def _gpus(instance: dict[str, Any]) -> tuple[list[float], list[int]]:
    """Memory and node index of every GPU id."""
    fleet = instance["fleet"]
    memory: list[float] = []
    node: list[int] = []
    if "nodes" in fleet:
        for i, n in enumerate(fleet["nodes"]):
            memory += [float(n["memory_gib"])] * int(n["gpus"])
            node += [i] * int(n["gpus"])
    else:
        per = int(fleet["gpus_per_node"])
        memory = [float(fleet["memory_gib"])] * int(fleet["count"])
        node = [g // per for g in range(int(fleet["count"]))]
    return memory, node


def _need(m: dict[str, Any], tp: int, instance: dict[str, Any], full: bool) -> float:
    kv = m["concurrency"] * m["context_tokens"] * m["kv_bytes_per_token"]
    weights = m["params_b"] * 1e9 * m["bytes_per_param"]
    act = m.get("max_batch_tokens", 0) * m.get("activation_bytes_per_token", 0) if full else 0
    extra = m.get("workspace_gib", 0.0) if full else 0.0
    return float((weights + kv + act) / tp / GIB + extra + instance["overhead_gib"])


def _place(instance: dict[str, Any], *, full: bool, cross_nodes: bool) -> dict[str, Any]:
    memory, node = _gpus(instance)
    free = [mem - instance["reserve_gib"] for mem in memory]
    placements, infeasible = [], []
    for m in instance["models"]:
        chosen = None
        for tp in sorted(m["allowed_tp"]):
            need = _need(m, tp, instance, full)
            if cross_nodes:
                ids = [g for g in range(len(free)) if free[g] >= need][:tp]
            else:
                ids = []
                for n in sorted(set(node)):
                    ids = [g for g in range(len(free)) if node[g] == n and free[g] >= need][:tp]
                    if len(ids) == tp:
                        break
            if len(ids) == tp:
                chosen = (tp, ids, need)
                break
        if chosen is None:
            infeasible.append({"model": m["name"], "reason": "no allowed tp fits"})
            continue
        tp, ids, need = chosen
        for g in ids:
            free[g] -= need
        placements.append({"model": m["name"], "gpus": ids, "tp": tp,
                           "kv_budget_tokens": m["concurrency"] * m["context_tokens"]})
    return {"placements": placements, "infeasible": infeasible}


def plan(instance: dict[str, Any]) -> dict[str, Any]:
    """Ignores activation and workspace memory; tensor-parallel groups may cross nodes."""
    return _place(instance, full=False, cross_nodes=True)


def crossing(instance: dict[str, Any]) -> dict[str, Any]:
    """The whole memory rule, first fit, but tensor-parallel groups may cross nodes."""
    return _place(instance, full=True, cross_nodes=True)


def first_fit(instance: dict[str, Any]) -> dict[str, Any]:
    """The whole memory rule, one node per group, but first fit in input order."""
    return _place(instance, full=True, cross_nodes=False)
