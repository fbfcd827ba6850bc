"""Variant data for the power-and-cooling scenario (parameters only, no artifacts).

The systems' power figures are their data sheets' (graders.hw.facility.SYSTEMS); the
substation is sized so that its transformers, run N+1, give the campus's firm power at full
build; the UPS energy is drawn as 4-8 minutes of the full build's IT load. Expected answers
are computed at grading time (checks/answer_key.py).
"""

from __future__ import annotations

import random
from typing import Any

# Usable transformers at full build (one more is installed as the N+1 spare), per scale.
UNITS_BY_SCALE = {50: [4, 5], 100: [4, 5], 300: [5, 6], 1000: [8, 10]}
RACKINGS = {"dgx_h100": [2, 3, 4], "dgx_b200": [2, 3, 4], "gb200_nvl72": [1]}


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    from graders.hw.facility import (
        get_system,
        gpus_for_power,
        it_kw_per_gpu,
        rack_kw,
        required_cooling,
    )

    rng = random.Random(f"power-and-cooling/{seed}/generated")
    system = get_system(params["system"])
    per_rack = rng.choice(RACKINGS[params["system"]])
    limits = {"air": params["air_limit_kw"], "rear_door": params["rear_door_limit_kw"],
              "direct_liquid": 140}
    cooling = required_cooling(rack_kw(system, per_rack), limits)
    pue = {"air": params["pue_air"], "rear_door": params["pue_rear_door"],
           "direct_liquid": params["pue_liquid"]}[cooling]
    scale = params["scale_mw"]
    units = rng.choice(UNITS_BY_SCALE[scale])
    overhead = params["overhead_pct"] / 100
    gpus = gpus_for_power(scale, system, per_rack, overhead, pue)
    it_mw = gpus * it_kw_per_gpu(system, overhead) / 1000
    ups_min = rng.uniform(4.0, 8.0)
    return {
        "params": {
            "system_info": {
                "name": system.name, "gpus": system.gpus, "max_kw": system.max_kw,
                "gpu_tdp_w": int(system.gpu_tdp_w),
                "gpu_kw_total": round(system.gpus * system.gpu_tdp_w / 1000, 1),
                "rack_scale": system.rack_units == 1,
            },
            "systems_per_rack": per_rack,
            "liquid_limit_kw": limits["direct_liquid"],
            "xfmr_units": units + 1,
            "xfmr_mw": round(scale / units, 1),
            "phase1_units": rng.randint(2, units // 2 + 1),
            "ups_mwh": round(it_mw * ups_min / 60, 1),
        },
        "artifacts": {},
    }
