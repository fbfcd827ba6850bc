"""Variant of the kernel-roofline scenario: the profile the write-up is about (artifacts), in
the exact input format and as the CSV a profiler summary exports. The hidden cases
(checks/cases.py) use their own seed space, so the given profile reveals none of them."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from scenarios.hooks import sibling

COLUMNS = ["name", "count", "total_us", "flops", "dram_bytes", "l2_bytes", "dtype",
           "tensor_core"]


def _csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({**r, "tensor_core": "yes" if r["tensor_core"] else "no"})
    return buf.getvalue()


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    cases = sibling(__file__, "checks/cases.py")
    case = cases.main_profile(params["gpu"], seed)
    prof = case["profile"]
    step_us = sum(k["total_us"] for k in prof["kernels"])
    ref = sibling(__file__, "checks/reference.py").reference(case)
    best = max(ref["proposals"], key=lambda p: p["gain_us"])
    return {
        "params": {"step_ms": round(step_us / 1000, 1), "kernel_count": len(prof["kernels"]),
                   "proposal_ids": [p["id"] for p in prof["proposals"]],
                   "best_change": best["id"],
                   "best_saving_pct": round(100 * best["gain_us"] / step_us, 3)},
        "artifacts": {
            "profile/kernels.csv": _csv(prof["kernels"]),
            "profile/proposals.json": json.dumps(prof["proposals"], indent=2) + "\n",
            "profile/gpu.json": json.dumps(case["gpu"], indent=2, sort_keys=True) + "\n",
            "profile/input.json": json.dumps({"profile": prof, "gpu": case["gpu"]}, indent=1,
                                             sort_keys=True) + "\n",
        },
    }
