"""A candidate-style solution (hidden): analyse(profile, gpu) with the standard library only,
written from the prompt. The reference calibration answer ships it; tests run it."""

from __future__ import annotations

from typing import Any


def _peak(gpu: dict[str, Any], dtype: str, tensor: bool) -> float:
    return float(gpu["tensor_tflops"][dtype] if tensor else gpu["vector_tflops"]) * 1e12


def _roofs(gpu: dict[str, Any], flops: float, dram: float, count: int, dtype: str,
           tensor: bool) -> tuple[float, float, float]:
    bw = float(gpu["hbm_gbps"]) * 1e9
    return (flops / _peak(gpu, dtype, tensor) * 1e6, dram / bw * 1e6,
            count * float(gpu["launch_floor_us"]))


def _kernel(gpu: dict[str, Any], k: dict[str, Any]) -> dict[str, Any]:
    c, m, launch = _roofs(gpu, k["flops"], k["dram_bytes"], k["count"], k["dtype"],
                          k["tensor_core"])
    intensity = k["flops"] / k["dram_bytes"]
    ridge = _peak(gpu, k["dtype"], k["tensor_core"]) / (float(gpu["hbm_gbps"]) * 1e9)
    if launch > max(c, m):
        bound = "launch"
    else:
        bound = "compute" if intensity >= ridge else "memory"
    att = max(c, m, launch)
    return {"name": k["name"], "intensity": intensity, "bound": bound,
            "attainable_us": att, "fraction": att / k["total_us"]}


def analyse(profile: dict[str, Any], gpu: dict[str, Any]) -> dict[str, Any]:
    rows = {k["name"]: k for k in profile["kernels"]}
    kernels = {n: _kernel(gpu, k) for n, k in rows.items()}
    proposals = []
    for p in profile["proposals"]:
        if p["kind"] == "fuse":
            chain = [rows[n] for n in p["kernels"]]
            measured = sum(k["total_us"] for k in chain)
            share = sum(kernels[k["name"]]["attainable_us"] for k in chain) / measured
            dram = sum(k["dram_bytes"] for k in chain) - 2 * sum(p["intermediate_bytes"])
            new = max(_roofs(gpu, sum(k["flops"] for k in chain), dram, chain[0]["count"],
                             "fp32", False)) / share
            gain = measured - new
        elif "fp8" not in gpu["tensor_tflops"]:
            gain = 0.0
        else:
            g = rows[p["kernel"]]
            share = kernels[g["name"]]["fraction"]
            new = (max(_roofs(gpu, g["flops"], g["dram_bytes"] - p["input_bytes"] / 2,
                              g["count"], "fp8", True))
                   + max(_roofs(gpu, 0.0, p["cast_bytes"], g["count"], "fp32", False))) / share
            gain = g["total_us"] - new
        proposals.append({"id": p["id"], "gain_us": gain})
    ranking = [p["id"] for p in sorted(proposals, key=lambda p: -p["gain_us"])
               if p["gain_us"] > 0]
    return {"kernels": list(kernels.values()), "proposals": proposals, "ranking": ranking}
