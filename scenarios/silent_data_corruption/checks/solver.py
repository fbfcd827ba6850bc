"""Reference solver for silent-data-corruption (hidden): reads the anomaly dumps the way a
good on-call engineer would. At each alerted step, the ranks far above the dump's median:
if they fill whole replicas (every rank of a replica raised) the batch was bad; if one rank
stands alone, its replica otherwise normal, that GPU computed the spike. The failing GPU is
the lone outlier that recurs; DCGM, ECC and the weight hash check decide nothing."""

from __future__ import annotations

import csv
import io
import math
import re
import statistics
from collections import Counter
from typing import Any


def classify(text: str) -> tuple[str, int | None]:
    """('data', None) or ('gpu', rank) for one anomaly dump."""
    rows = list(csv.DictReader(io.StringIO(text)))
    vals = [float(r["partial_grad_norm"]) for r in rows]
    med = statistics.median(v for v in vals if not math.isnan(v))
    out = [r for r, v in zip(rows, vals, strict=True) if math.isnan(v) or v > 4 * med]
    per_dp = Counter(r["dp_rank"] for r in out)
    if any(n >= 16 for n in per_dp.values()):
        return "data", None
    if len(out) == 1:
        return "gpu", int(out[0]["rank"])
    return "unclear", None


def solve(artifacts: dict[str, bytes]) -> dict[str, Any]:
    lone: dict[int, list[int]] = {}
    data = 0
    for path in sorted(artifacts):
        m = re.match(r"anomalies/step_(\d+)\.csv$", path)
        if not m:
            continue
        kind, rank = classify(artifacts[path].decode())
        if kind == "data":
            data += 1
        elif kind == "gpu" and rank is not None:
            lone.setdefault(rank, []).append(int(m.group(1)))
    if not lone:
        return {}
    rank, steps = max(lone.items(), key=lambda kv: len(kv[1]))
    if len(steps) < 2:
        return {}
    first = min(steps)
    dump = artifacts[f"anomalies/step_{first}.csv"].decode()
    row = next(r for r in csv.DictReader(io.StringIO(dump)) if int(r["rank"]) == rank)
    # Saves every 50 steps (the prompt): the last one before the GPU's first event, whether or
    # not it falls inside the logged window.
    return {"culprit_node": row["host"], "culprit_gpu": row["local_gpu"],
            "first_sdc_step": first, "data_spikes": data,
            "rollback_step": (first - 1) // 50 * 50}
