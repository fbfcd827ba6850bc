"""The cost of the variant's pretraining job on each capacity option (hidden), from
graders.hw.costing (training-model MFU, checkpoint-model goodput, facility-model power).

evaluate(params, option_id) -> the option's consequences: the fewest GPUs (whole nodes, within
its supply) that finish the work between the day it is available and the deadline with
goodput counted, its goodput, wall hours, total cost and $ per million tokens, or why it cannot
make the deadline. Billing: on-demand and spot per GPU-hour held (the wall time, restarts
included); reserved from the day it is available to the deadline; owned systems straight-line
depreciation over their life for the longer of delivery-to-deadline and the
minimum commitment (months of 730 h) plus the utility energy while the
job runs at maximum draw (kW per GPU all-in, facility.facility_kw_per_gpu).
"""

from __future__ import annotations

from typing import Any

NODE = 8


def work_flop(params: dict[str, Any]) -> float:
    return 6.0 * float(params["model_info"]["params_b"]) * 1e9 * float(params["tokens_t"]) * 1e12


def owned_kw_per_gpu(params: dict[str, Any]) -> float:
    from graders.hw.facility import facility_kw_per_gpu, get_system

    o = params["owned"]
    return facility_kw_per_gpu(get_system(o["system"]), o["overhead_pct"] / 100, o["pue"])


def option(params: dict[str, Any], option_id: str) -> dict[str, Any]:
    for opt in params["options"]:
        if opt["id"] == option_id:
            return dict(opt)
    raise ValueError(f"unknown option {option_id!r} (options: "
                     f"{[o['id'] for o in params['options']]})")


def _gpu(params: dict[str, Any], name: str) -> dict[str, Any]:
    return next(g for g in params["gpus"] if g["name"] == name)


def _interruptions(params: dict[str, Any], opt: dict[str, Any]) -> tuple[float | None, float]:
    """(GPU-hours per spot reclaim or None, mean restart in minutes over all interruptions):
    on spot, failures restart after restart_min and reclaims after spot_restart_min, so the
    mean restart is their rate-weighted mean."""
    if opt["mode"] != "spot":
        return None, float(params["restart_min"])
    spot = params["spot_node_mtbf_h"] * NODE
    hw = 1 / params["gpu_mtbf_h"]
    sp = 1 / spot
    return spot, (hw * params["restart_min"] + sp * params["spot_restart_min"]) / (hw + sp)


def _needed(params: dict[str, Any], opt: dict[str, Any], limit: int) -> int | None:
    from graders.hw.costing import gpus_to_finish

    g = _gpu(params, opt["gpu"])
    window = (params["deadline_days"] - opt["lead_days"]) * 24.0
    spot, restart = _interruptions(params, opt)
    return gpus_to_finish(work_flop(params), g["peak_tflops"] * 1e12 * g["mfu"], window, NODE,
                          params["gpu_mtbf_h"], params["checkpoint_s"], restart * 60.0, spot,
                          limit=limit)


def evaluate(params: dict[str, Any], option_id: str, num_gpus: int | None = None) -> dict[str, Any]:
    """The option at the fewest GPUs that meet the deadline (or at num_gpus when given)."""
    from graders.hw.costing import energy_mwh, job_goodput

    opt = option(params, option_id)
    g = _gpu(params, opt["gpu"])
    window_h = (params["deadline_days"] - opt["lead_days"]) * 24.0
    reasons: list[str] = []
    n = num_gpus or _needed(params, opt, 200_000)
    if n is None:
        reasons.append("no GPU count finishes the job by the deadline (goodput falls faster "
                       "than GPUs are added)" if window_h > 0 else
                       "the capacity arrives after the deadline")
        return {"option": option_id, "feasible": False, "reasons": reasons, "gpus": None,
                "goodput": None, "cost_usd": None, "usd_per_mtok": None, "wall_h": None}
    if n > opt["max_gpus"]:
        reasons.append(f"needs {n} GPUs, the option supplies at most {opt['max_gpus']}")
    spot, restart = _interruptions(params, opt)
    gp = job_goodput(n, params["gpu_mtbf_h"], params["checkpoint_s"], restart * 60.0, spot)
    wall_h = work_flop(params) / (n * g["peak_tflops"] * 1e12 * g["mfu"] * gp) / 3600.0
    if wall_h > window_h * 1.0001:
        reasons.append(f"{wall_h / 24:.1f} days of wall time, {window_h / 24:.0f} available")
    energy = 0.0
    if opt["mode"] in ("on_demand", "spot"):
        cost = n * wall_h * opt["price_gpu_h"]
    elif opt["mode"] == "reserved":
        cost = n * window_h * opt["price_gpu_h"]
    else:
        o = params["owned"]
        held_h = max(window_h, o["commit_months"] * 730.0)
        depreciation = n / NODE * o["system_price_usd"] * held_h / (o["life_years"] * 8760.0)
        energy = energy_mwh(n, wall_h, owned_kw_per_gpu(params)) * o["price_usd_mwh"]
        cost = depreciation + energy
    return {"option": option_id, "feasible": not reasons, "reasons": reasons, "gpus": n,
            "goodput": gp, "wall_h": wall_h, "cost_usd": cost, "energy_usd": energy,
            "usd_per_mtok": cost / (params["tokens_t"] * 1e6)}


def all_options(params: dict[str, Any]) -> list[dict[str, Any]]:
    return [evaluate(params, o["id"]) for o in params["options"]]


def cheapest(params: dict[str, Any]) -> dict[str, Any] | None:
    ok = [e for e in all_options(params) if e["feasible"]]
    return min(ok, key=lambda e: e["cost_usd"]) if ok else None


def owned_energy(params: dict[str, Any]) -> dict[str, float]:
    """Power and cooling of the whole job on the owned systems, at the GPUs it would need
    (supply limit aside): utility energy (kW all-in x GPUs x wall hours) and its cost."""
    from graders.hw.costing import energy_mwh, job_goodput

    opt = next(o for o in params["options"] if o["mode"] == "owned")
    ev = evaluate(params, opt["id"])
    if ev["gpus"] is None:  # pragma: no cover - generate() keeps owned schedulable
        raise ValueError("the owned option cannot be scheduled")
    g = _gpu(params, opt["gpu"])
    gp = job_goodput(ev["gpus"], params["gpu_mtbf_h"], params["checkpoint_s"],
                     params["restart_min"] * 60.0)
    wall_h = work_flop(params) / (ev["gpus"] * g["peak_tflops"] * 1e12 * g["mfu"] * gp) / 3600
    mwh = energy_mwh(ev["gpus"], wall_h, owned_kw_per_gpu(params))
    return {"gpus": ev["gpus"], "mwh": mwh,
            "usd": mwh * params["owned"]["price_usd_mwh"]}
