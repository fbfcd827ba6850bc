"""Figures of the production job of the write-up, from the variant (hidden)."""

from __future__ import annotations

from typing import Any


def answer_key(params: dict[str, Any]) -> dict[str, Any]:
    ranks, mb, step = int(params["prod_ranks"]), int(params["micro_batch"]), float(params["step_s"])
    samples = float(params["prod_samples_m"]) * 1e6
    per_s = ranks * mb / step  # samples the whole job consumes per second
    return {
        "read_gbps": per_s * float(params["sample_kb"]) * 1e3 / 1e9,  # GB/s from storage
        "epoch_h": samples / per_s / 3600,
        "per_rank_samples": samples / ranks,
        "ranks_per_shard": ranks / int(params["prod_shards"]),
        "samples_per_s": per_s,
    }
