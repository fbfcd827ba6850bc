"""Serving-fleet placement planner.

Implement plan(instance) -> {"placements": [...], "infeasible": [...]} as described in the
prompt. You may add helper functions and modules' worth of code in this file; only the
standard library is available where it runs.

    instance = {
        "id": "example-1-mixed",
        "fleet": {"gpu": "H100-SXM-80GB", "memory_gib": 80, "count": 16, "gpus_per_node": 8},
        "reserve_gib": 4.0,       # lost on every GPU that hosts anything
        "overhead_gib": 1.5,      # per model instance, on each of its GPUs
        "objective": "min_gpus",
        "models": [
            {"name": "llama3-70b-fp8-0", "params_b": 70.6, "bytes_per_param": 1.0,
             "kv_bytes_per_token": 327680, "concurrency": 32, "context_tokens": 8192,
             "allowed_tp": [1, 2, 4, 8]},
            # optional per model (0 when absent): activations of one forward step over
            # max_batch_tokens tokens, and per-GPU workspace
            {"name": "mistral-7b-bf16-1", ..., "max_batch_tokens": 16384,
             "activation_bytes_per_token": 98304, "workspace_gib": 1.5},
            ...
        ],
    }

    # A fleet whose nodes differ (GPU ids 0-7 are the H100s, 8-11 the L40S):
    "fleet": {"nodes": [{"gpu": "H100-SXM-80GB", "memory_gib": 80, "gpus": 8},
                        {"gpu": "L40S-48GB", "memory_gib": 48, "gpus": 4}], "count": 12}

    return {
        "placements": [
            {"model": "llama3-70b-fp8-0", "gpus": [0, 1], "tp": 2,
             "kv_budget_tokens": 262144},
        ],
        "infeasible": [
            {"model": "...", "reason": "why it cannot be placed"},
        ],
    }
"""

from __future__ import annotations

from typing import Any

GIB = 2**30


def plan(instance: dict[str, Any]) -> dict[str, Any]:
    # TODO: place every model that can fit, using as few GPUs as possible.
    return {
        "placements": [],
        "infeasible": [{"model": m["name"], "reason": "not implemented"}
                       for m in instance["models"]],
    }
