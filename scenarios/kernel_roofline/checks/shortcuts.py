"""Shortcut analyses (hidden): the solution with one slip each, for the self-test and the
tests. Each takes (profile, gpu) like analyse()."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from scenarios.hooks import sibling

_sol = sibling(__file__, "solution.py")


def all_memory(profile: dict[str, Any], gpu: dict[str, Any]) -> dict[str, Any]:
    """Every kernel memory-bound: attainable = bytes / bandwidth, the gains from that too."""
    g = {**gpu, "launch_floor_us": 0.0, "vector_tflops": 1e9,
         "tensor_tflops": {d: 1e9 for d in gpu["tensor_tflops"]}}
    out = _sol.analyse(profile, g)
    for k in out["kernels"]:
        k["bound"] = "memory"
    result: dict[str, Any] = out
    return result


def own_times(profile: dict[str, Any], gpu: dict[str, Any]) -> dict[str, Any]:
    """The profile's own times as the attainable ones (fraction 1), so every new kernel is
    taken to run at its roofline."""
    out = _sol.analyse(profile, gpu)
    rows = {k["name"]: k for k in profile["kernels"]}
    for k in out["kernels"]:
        k["attainable_us"], k["fraction"] = rows[k["name"]]["total_us"], 1.0
    for p, q in zip(profile["proposals"], out["proposals"], strict=True):
        if p["kind"] == "fuse":
            chain = [rows[n] for n in p["kernels"]]
            dram = sum(k["dram_bytes"] for k in chain) - 2 * sum(p["intermediate_bytes"])
            new = max(_sol._roofs(gpu, sum(k["flops"] for k in chain), dram,
                                  chain[0]["count"], "fp32", False))
            q["gain_us"] = sum(k["total_us"] for k in chain) - new
        elif "fp8" in gpu["tensor_tflops"]:
            g = rows[p["kernel"]]
            new = (max(_sol._roofs(gpu, g["flops"], g["dram_bytes"] - p["input_bytes"] / 2,
                                   g["count"], "fp8", True))
                   + max(_sol._roofs(gpu, 0.0, p["cast_bytes"], g["count"], "fp32", False)))
            q["gain_us"] = g["total_us"] - new
    out["ranking"] = [p["id"] for p in sorted(out["proposals"], key=lambda p: -p["gain_us"])
                      if p["gain_us"] > 0]
    result: dict[str, Any] = out
    return result


def no_launch_floor(profile: dict[str, Any], gpu: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = _sol.analyse(profile, {**gpu, "launch_floor_us": 0.0})
    return result


def l2_bytes(profile: dict[str, Any], gpu: dict[str, Any]) -> dict[str, Any]:
    p = copy.deepcopy(profile)
    for k in p["kernels"]:
        k["dram_bytes"] = k["l2_bytes"]
    result: dict[str, Any] = _sol.analyse(p, gpu)
    return result


def bf16_ridge(profile: dict[str, Any], gpu: dict[str, Any]) -> dict[str, Any]:
    """Every tensor-core kernel against the BF16 peak, whatever its precision."""
    g = copy.deepcopy(gpu)
    g["tensor_tflops"] = {d: g["tensor_tflops"]["bf16"] for d in g["tensor_tflops"]}
    g["tensor_tflops"].setdefault("fp8", gpu["tensor_tflops"]["bf16"])
    out = _sol.analyse(profile, g)
    out["proposals"] = _sol.analyse(profile, gpu)["proposals"]
    result: dict[str, Any] = out
    return result


def tensor_for_vector(profile: dict[str, Any], gpu: dict[str, Any]) -> dict[str, Any]:
    """The tensor-core peak of the dtype for the vector kernels too."""
    p = copy.deepcopy(profile)
    for k in p["kernels"]:
        if not k["tensor_core"]:
            k["tensor_core"] = True
            k["dtype"] = k["dtype"] if k["dtype"] in gpu["tensor_tflops"] else "bf16"
    out = _sol.analyse(p, gpu)
    out["proposals"] = _sol.analyse(profile, gpu)["proposals"]
    result: dict[str, Any] = out
    return result


def rank_all(profile: dict[str, Any], gpu: dict[str, Any]) -> dict[str, Any]:
    """Every proposal in the ranking, losers and impossible ones included."""
    out = _sol.analyse(profile, gpu)
    out["ranking"] = [p["id"] for p in sorted(out["proposals"], key=lambda p: -p["gain_us"])]
    result: dict[str, Any] = out
    return result


def no_fp8_check(profile: dict[str, Any], gpu: dict[str, Any]) -> dict[str, Any]:
    """FP8 gains computed on a GPU without FP8 as if it had twice the BF16 peak."""
    g = copy.deepcopy(gpu)
    g["tensor_tflops"].setdefault("fp8", 2 * g["tensor_tflops"]["bf16"])
    result: dict[str, Any] = _sol.analyse(profile, g)
    return result


SHORTCUTS: dict[str, Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]] = {
    "all_memory": all_memory, "own_times": own_times, "no_launch_floor": no_launch_floor,
    "l2_bytes": l2_bytes, "bf16_ridge": bf16_ridge, "tensor_for_vector": tensor_for_vector,
    "rank_all": rank_all, "no_fp8_check": no_fp8_check,
}
