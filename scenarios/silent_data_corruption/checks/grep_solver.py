"""The shortcuts a candidate who skips the analysis would take (hidden), each answering a
GPU with three-word write-ups: the GPU DCGM failed, the GPU with the most ECC errors, the
first rank with a non-finite value, the largest partial norm in any dump. selftest grades
them with the rubric."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable
from typing import Any


def _answer(host: str, gpu: str, artifacts: dict[str, bytes]) -> dict[str, Any]:
    alerts = artifacts["alerts/alerts.log"].decode()
    steps = [int(s) for s in re.findall(r"step (\d+):", alerts)]
    return {"culprit_node": host, "culprit_gpu": gpu, "first_sdc_step": min(steps),
            "data_spikes": 0, "rollback_step": min(steps) // 50 * 50,
            "evidence": "DCGM and ECC point here.", "fix": "Replace the GPU.",
            "verification": "Run DCGM again."}


def dcgm_fail(artifacts: dict[str, bytes]) -> tuple[str, str] | None:
    for path in sorted(artifacts):
        if path.startswith("dcgm/"):
            m = re.search(r"GPU Memory\s+\|\s+Fail - GPU: (\d)", artifacts[path].decode())
            if m:
                return path[5:-4], m.group(1)
    return None


def most_ecc(artifacts: dict[str, bytes]) -> tuple[str, str] | None:
    rows = list(csv.DictReader(io.StringIO(artifacts["nvidia-smi/ecc_summary.csv"].decode())))
    top = max(rows, key=lambda r: int(r["volatile_sbe"]) + 1000 * int(r["volatile_dbe"]))
    return top["host"], top["gpu"]


def _dumps(artifacts: dict[str, bytes]) -> list[list[dict[str, str]]]:
    return [list(csv.DictReader(io.StringIO(artifacts[p].decode()))) for p in sorted(artifacts)
            if p.startswith("anomalies/")]


def first_nonfinite(artifacts: dict[str, bytes]) -> tuple[str, str] | None:
    for rows in _dumps(artifacts):
        for r in rows:
            if r["nonfinite"] != "0":
                return r["host"], r["local_gpu"]
    return None


def largest_norm(artifacts: dict[str, bytes]) -> tuple[str, str] | None:
    best: tuple[float, str, str] | None = None
    for rows in _dumps(artifacts):
        for r in rows:
            v = float(r["partial_grad_norm"])
            if not math.isnan(v) and (best is None or v > best[0]):
                best = (v, r["host"], r["local_gpu"])
    return (best[1], best[2]) if best else None


SHORTCUTS: list[tuple[str, Callable[[dict[str, bytes]], "tuple[str, str] | None"]]] = [
    ("dcgm_fail", dcgm_fail), ("most_ecc", most_ecc), ("first_nonfinite", first_nonfinite),
    ("largest_norm", largest_norm),
]


def solve(artifacts: dict[str, bytes], which: str) -> dict[str, Any]:
    find = dict(SHORTCUTS)[which]
    hit = find(artifacts) or ("h100-c01-n01", "0")
    return _answer(hit[0], hit[1], artifacts)
