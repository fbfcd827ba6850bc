"""Variant data for the cost-and-hardware scenario (parameters only, no artifacts).

A pretraining job (a Llama 3 architecture, a token budget, a deadline) and five capacity
options across GPU vendors and purchase modes. The figures a candidate computes with are the
models': each GPU's MFU is the training model's best plan at pilot scale
(graders.hw.costing.pilot_mfu), the interruptions feed the checkpoint model's goodput, the
owned systems' power is the facility model's. Prices, supply limits and lead times are
quotes, drawn here. A draw is kept when at least two options can make the deadline and the
option with the lowest list price per GPU-hour is not within 70% of the cheapest job
(checks/cost_model.py decides both), so the hourly price alone never picks well.
"""

from __future__ import annotations

import math
import random
from typing import Any

from scenarios.hooks import sibling

# Data-sheet HBM capacities, GB (NVIDIA H100/H200/DGX B200 and AMD MI300X data sheets).
HBM_GB = {"H100-SXM-80GB": 80, "H200-SXM-141GB": 141, "B200-SXM-180GB": 180, "MI300X": 192}
GPU_LABELS = {"H100-SXM-80GB": "NVIDIA H100 SXM 80GB", "H200-SXM-141GB": "NVIDIA H200 SXM 141GB",
              "B200-SXM-180GB": "NVIDIA B200 180GB", "MI300X": "AMD Instinct MI300X 192GB"}
TOKENS_T = {"llama3-8b": [10, 12, 15], "llama3-70b": [2, 3, 4]}
OWNED = {"dgx_b200": ("B200-SXM-180GB", (430_000, 520_000)),
         "dgx_h100": ("H100-SXM-80GB", (260_000, 330_000))}


def _cap(n: int | None, rng: random.Random) -> int:
    base = n if n is not None else 4096
    return max(256, int(round(base * rng.uniform(0.7, 1.9) / 128)) * 128)


def _draw(rng: random.Random, params: dict[str, Any]) -> dict[str, Any]:
    from graders.hw.catalog import get_gpu
    from graders.hw.costing import pilot_mfu
    from graders.hw.facility import get_system

    model = params["model"]
    system_key = rng.choice(sorted(OWNED))
    owned_gpu, price_range = OWNED[system_key]
    system = get_system(system_key)
    names = ["H100-SXM-80GB", "H200-SXM-141GB", "MI300X", owned_gpu]
    gpus, params_b = [], 0.0
    for name in dict.fromkeys(names):
        mfu, n_params = pilot_mfu(model, name)
        params_b = n_params / 1e9
        g = get_gpu(name)
        gpus.append({"name": name, "label": GPU_LABELS[name], "peak_tflops": g.peak("bf16"),
                     "memory_gb": HBM_GB[name],
                     "mfu": round(mfu, 3)})
    options = [
        {"id": "a", "mode": "on_demand", "gpu": "H100-SXM-80GB", "provider": "hyperscaler",
         "price_gpu_h": round(rng.uniform(3.4, 4.4), 2), "lead_days": 0},
        {"id": "b", "mode": "reserved", "gpu": "H200-SXM-141GB", "provider": "hyperscaler",
         "price_gpu_h": round(rng.uniform(2.6, 3.5), 2), "lead_days": rng.randint(5, 20)},
        {"id": "c", "mode": "spot", "gpu": "H100-SXM-80GB", "provider": "hyperscaler",
         "price_gpu_h": round(rng.uniform(1.5, 2.3), 2), "lead_days": 0},
        {"id": "d", "mode": "reserved", "gpu": "MI300X", "provider": "GPU cloud",
         "price_gpu_h": round(rng.uniform(2.3, 3.3), 2), "lead_days": rng.randint(0, 14)},
        {"id": "e", "mode": "owned", "gpu": owned_gpu, "provider": "buy and colocate",
         "price_gpu_h": None, "lead_days": rng.randint(28, 50)},
    ]
    out = {
        "model_info": {"name": model, "params_b": round(params_b, 2),
                       "label": {"llama3-8b": "Llama 3 8B", "llama3-70b": "Llama 3 70B"}[model]},
        "tokens_t": rng.choice(TOKENS_T[model]),
        "gpus": gpus,
        "gpu_mtbf_h": rng.choice([30_000, 40_000, 50_000, 60_000]),
        "checkpoint_s": rng.choice([30, 45, 60, 90, 120]),
        "restart_min": rng.choice([10, 15, 20]),
        "spot_node_mtbf_h": rng.choice([72, 96, 120, 168, 240, 336]),
        "spot_restart_min": rng.choice([20, 30, 45]),
        "owned": {"system": system_key, "system_name": system.name, "gpus_per_system": system.gpus,
                  "system_kw": system.max_kw,
                  "system_price_usd": int(round(rng.uniform(*price_range) / 1000)) * 1000,
                  "life_years": 4, "commit_months": rng.choice([3, 4, 6]), "overhead_pct": rng.randint(8, 12),
                  "pue": round(rng.uniform(1.2, 1.45), 2),
                  "price_usd_mwh": rng.randrange(50, 125, 5)},
        "options": options,
    }
    return out


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    model = sibling(__file__, "checks/cost_model.py")
    rng = random.Random(f"cost-and-hardware/{seed}/generated")
    for _ in range(400):
        draw = _draw(rng, params)
        full = dict(params, **draw)
        for opt in draw["options"]:
            opt["max_gpus"] = 10**6
        unlimited = {o["id"]: model.evaluate(full, o["id"])["gpus"] for o in draw["options"]}
        for opt in draw["options"]:
            opt["max_gpus"] = _cap(unlimited[opt["id"]], rng)
        if unlimited["e"] is None:
            continue
        evals = model.all_options(full)
        ok = [e for e in evals if e["feasible"]]
        if len(ok) < 2:
            continue
        best = min(e["cost_usd"] for e in ok)
        listed = min((o for o in draw["options"] if o["price_gpu_h"] is not None),
                     key=lambda o: o["price_gpu_h"])
        low = next(e for e in evals if e["option"] == listed["id"])
        if low["feasible"] and best / low["cost_usd"] > 0.7:
            continue
        owned = draw["owned"]
        owned["max_systems"] = math.ceil(
            next(o for o in draw["options"] if o["id"] == "e")["max_gpus"] / 8)
        return {"params": draw, "artifacts": {}}
    raise RuntimeError(f"seed {seed}: no variant meets the constraints")  # pragma: no cover
