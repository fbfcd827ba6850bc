"""Variant data for the fault-tolerance scenario (parameters only, no artifacts).

The fleet's history is the Llama 3 405B snapshot (Dubey et al. 2024, section 3.3.4): 54
days on 16,384 H100 GPUs, with the unexpected-interruption count drawn around the published
419 (graders.hw.reliability). Expected answers are computed at grading time
(checks/ft_model.py).
"""

from __future__ import annotations

from typing import Any

GPUS_PER_NODE = 8
FLEET_GPUS = 16_384  # graders.hw.reliability.LLAMA3_GPUS
FLEET_DAYS = 54  # graders.hw.reliability.LLAMA3_DAYS


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "params": {
            "num_nodes": params["num_gpus"] // GPUS_PER_NODE,
            "fleet_gpus": FLEET_GPUS,
            "fleet_days": FLEET_DAYS,
        },
        "artifacts": {},
    }
