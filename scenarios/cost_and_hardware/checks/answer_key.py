"""Expected values that do not depend on the candidate's option (hidden): the job's compute,
the owned option's all-in power per GPU and its energy cost for the whole job
(graders.hw.facility and costing through checks/cost_model.py), and the figures the
write-up's claims are checked against. The chosen option's own numbers are judged by the
plan criteria (checks/model_input.py)."""

from __future__ import annotations

from typing import Any

from scenarios.hooks import sibling


def answer_key(params: dict[str, Any]) -> dict[str, Any]:
    m = sibling(__file__, "cost_model.py")
    energy = m.owned_energy(params)
    best = m.cheapest(params)
    return {
        "compute_zflop": round(m.work_flop(params) / 1e21, 3),
        "owned_kw_per_gpu": round(m.owned_kw_per_gpu(params), 4),
        "owned_energy_kusd": round(energy["usd"] / 1e3, 2),
        "owned_energy_mwh": round(energy["mwh"], 1),
        "cheapest_option": best["option"] if best else None,
        # the write-up's claims: the cheapest option's goodput (%), the owned option's GPUs
        "goodput_pct": round(100 * best["goodput"], 2) if best else None,
        "owned_gpus": energy["gpus"],
    }
