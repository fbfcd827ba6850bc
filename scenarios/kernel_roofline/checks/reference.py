"""Reference analysis (hidden; runs OUTSIDE the sandbox) from graders/hw/roofline.py.

reference(case) is what the judge compares with: per kernel its intensity, bound, attainable
time and achieved fraction, per proposal its step-time gain, and the ranking (proposals that
gain, largest first). Keys starting with "_" are the roofs, for the case generator only.
"""

from __future__ import annotations

from typing import Any


def _gpu(d: dict[str, Any]) -> Any:
    from graders.hw.roofline import RooflineGPU

    return RooflineGPU(name=d["name"], tensor_tflops=dict(d["tensor_tflops"]),
                       vector_tflops=float(d["vector_tflops"]), hbm_gbps=float(d["hbm_gbps"]),
                       launch_floor_us=float(d["launch_floor_us"]))


def _kernel(row: dict[str, Any]) -> Any:
    from graders.hw.roofline import Kernel

    return Kernel(row["name"], int(row["count"]), float(row["total_us"]), float(row["flops"]),
                  float(row["dram_bytes"]), row["dtype"], bool(row["tensor_core"]))


def analyse(profile: dict[str, Any], gpu_dict: dict[str, Any]) -> dict[str, Any]:
    from graders.hw import roofline as rl

    gpu = _gpu(gpu_dict)
    kernels = {r["name"]: _kernel(r) for r in profile["kernels"]}
    out_k = []
    for k in kernels.values():
        r = rl.kernel_roofline(gpu, k)
        out_k.append({"name": k.name, "intensity": r.intensity, "bound": r.bound,
                      "attainable_us": r.attainable_us, "fraction": r.fraction,
                      "_compute_us": r.compute_us, "_memory_us": r.memory_us,
                      "_launch_us": r.launch_us})
    out_p = []
    for p in profile["proposals"]:
        if p["kind"] == "fuse":
            gain = rl.fusion_gain_us(gpu, [kernels[n] for n in p["kernels"]],
                                     [float(x) for x in p["intermediate_bytes"]])
        else:
            gain = rl.fp8_gain_us(gpu, kernels[p["kernel"]], float(p["input_bytes"]),
                                  float(p["cast_bytes"]))
        out_p.append({"id": p["id"], "gain_us": gain})
    ranking = [p["id"] for p in sorted(out_p, key=lambda p: -p["gain_us"]) if p["gain_us"] > 0]
    return {"kernels": out_k, "proposals": out_p, "ranking": ranking}


def reference(case: dict[str, Any]) -> dict[str, Any]:
    return analyse(case["profile"], case["gpu"])
