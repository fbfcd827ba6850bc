"""Variant data for the checkpointing-at-scale scenario (parameters only, no artifacts).

Model sizes are public parameter counts; the fleet's interruption counts are drawn around
the rate Meta published for Llama 3 405B pretraining (419 unexpected interruptions in 54 days
on 16,384 H100 GPUs). Expected answers are computed at grading time (checks/answer_key.py).
"""

from __future__ import annotations

from typing import Any

MODELS: dict[str, dict[str, Any]] = {
    "dense-70b": dict(params_b=70.6, layers=80, label="70B dense (Llama-3-70B shape)"),
    "dense-175b": dict(params_b=174.6, layers=96, label="175B dense (GPT-3 shape)"),
    "dense-405b": dict(params_b=405.9, layers=126, label="405B dense (Llama-3.1-405B shape)"),
}
FLEET_GPUS = 16_384
FLEET_DAYS = 54
GPUS_PER_NODE = 8


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    n = params["num_gpus"]
    tp = 8
    pp = {"dense-70b": 4, "dense-175b": 8, "dense-405b": 16}[params["model_name"]]
    return {
        "params": {
            "model": dict(MODELS[params["model_name"]]),
            "num_nodes": n // GPUS_PER_NODE,
            "layout": {"tp": tp, "pp": pp, "dp": n // (tp * pp)},
            "fleet_gpus": FLEET_GPUS,
            "fleet_days": FLEET_DAYS,
            "pfs_read_gbs": int(params["pfs_write_gbs"] * 1.6),
            "node_storage_gbs": params["node_storage_gbit"] / 8,
        },
        "artifacts": {},
    }
