"""Expected values for the power-and-cooling scenario (hidden), from graders.hw.facility.

The halls use the least capable cooling whose per-rack limit carries a compute rack at its
maximum power, and that cooling's PUE. Utility power per GPU is the system's maximum per GPU
plus the network/storage/management overhead, times PUE. GPUs are whole racks on the firm
(N+1) power: full build = scale, phase 1 = (energised - 1) x rating. UPS minutes are the usable
energy over the IT load (the cooling plant is on the generators), at full power and with the
GPUs capped (only their share of each system scales). The cooling-loss cap brings the IT
heat load down to the plant's remaining share, with the non-GPU load left whole.
"""

from __future__ import annotations

from typing import Any


def answer_key(params: dict[str, Any]) -> dict[str, Any]:
    from graders.hw.facility import (
        annual_energy_mwh,
        cap_for_it_fraction,
        facility_kw_per_gpu,
        get_system,
        gpus_for_power,
        it_kw_per_gpu,
        rack_kw,
        required_cooling,
        ride_through_min,
        usable_mw,
    )

    system = get_system(params["system"])
    per_rack = params["systems_per_rack"]
    limits = {"air": params["air_limit_kw"], "rear_door": params["rear_door_limit_kw"],
              "direct_liquid": params["liquid_limit_kw"]}
    rack = rack_kw(system, per_rack)
    cooling = required_cooling(rack, limits)
    pue = {"air": params["pue_air"], "rear_door": params["pue_rear_door"],
           "direct_liquid": params["pue_liquid"]}[cooling]
    o = params["overhead_pct"] / 100
    full_mw = usable_mw(params["xfmr_units"], params["xfmr_mw"])
    phase1_mw = usable_mw(params["phase1_units"], params["xfmr_mw"])
    gpus = gpus_for_power(full_mw, system, per_rack, o, pue)
    phase1 = gpus_for_power(phase1_mw, system, per_rack, o, pue)
    it_mw = gpus * it_kw_per_gpu(system, o) / 1000
    capped_mw = gpus * it_kw_per_gpu(system, o, params["ups_cap_pct"] / 100) / 1000
    mwh = annual_energy_mwh(it_mw, params["avg_load_pct"] / 100, pue)
    return {
        "cooling": cooling,
        "rack_kw": round(rack, 2),
        "pue": pue,
        "kw_per_gpu": round(facility_kw_per_gpu(system, o, pue), 4),
        "total_gpus": gpus,
        "phase1_mw": phase1_mw,
        "phase1_gpus": phase1,
        "it_mw": round(it_mw, 3),
        "ups_full_min": round(ride_through_min(params["ups_mwh"], it_mw), 3),
        "ups_capped_min": round(ride_through_min(params["ups_mwh"], capped_mw), 3),
        "cooling_cap_pct": round(100 * cap_for_it_fraction(system, o,
                                                           params["cooling_pct"] / 100), 2),
        "annual_gwh": round(mwh / 1000, 3),
        "annual_cost_musd": round(mwh * params["price_usd_mwh"] / 1e6, 3),
    }
