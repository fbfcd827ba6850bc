"""Variant data for the network-design scenario (parameters only, no artifacts).

The switch is a 64-port NDR InfiniBand switch (Quantum-2 class) or a 128-port 400GbE
switch (Spectrum-4 class, RoCE); nodes are 8-GPU HGX H100/H200 with one 400 Gb/s NIC per
GPU. The customer's requirements (block that must be non-blocking, oversubscription they
accept above it) and prices are drawn per seed; every expected number is computed at grading
time from graders.hw.topology (checks/fabric_model.py).
"""

from __future__ import annotations

import random
from typing import Any

SWITCHES: dict[str, dict[str, Any]] = {
    "ib-64": dict(radix=64, label="64-port NDR InfiniBand switch (Quantum-2 class)",
                  nic="IB-NDR", nic_label="ConnectX-7 NDR 400 Gb/s InfiniBand",
                  fabric="InfiniBand"),
    "eth-128": dict(radix=128, label="128-port 400GbE switch (Spectrum-4 class)",
                    nic="RoCE-400G", nic_label="400 Gb/s Ethernet SuperNIC (RoCE v2)",
                    fabric="RoCE Ethernet"),
}
MODELS = {13: "13B", 34: "34B", 70: "70B"}


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    rng = random.Random(f"network-design/{seed}/generated")
    n = params["num_gpus"]
    sw = dict(SWITCHES[params["switch"]])
    blocks = [b for b in (256, 512, 1024, 2048) if b <= n // 2] or [n // 2]
    model_b = rng.choice(sorted(MODELS))
    return {
        "params": {
            "num_nodes": n // 8,
            "radix": sw["radix"],
            "switch_label": sw["label"],
            "nic": sw["nic"],
            "nic_label": sw["nic_label"],
            "fabric_kind": sw["fabric"],
            "nonblocking_gpus": rng.choice(blocks),
            "max_oversub": rng.choice([2, 3, 4]),
            "switch_price_k": rng.randrange(18, 46) if sw["radix"] == 64
            else rng.randrange(40, 91),
            "transceiver_price": rng.randrange(500, 1301, 50),
            "model_b": model_b,
            "grad_gb": model_b * 2 / 8,
            "a2a_mib": rng.choice([256, 512, 1024]),
        },
        "artifacts": {},
    }
