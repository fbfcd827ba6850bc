"""The failure-handling model of this scenario (hidden), over graders.hw.reliability and
graders.hw.checkpoint.

- job MTBF: the fleet's per-GPU interruption rate times the job's GPUs;
- spares: nodes in repair ~ Poisson(hardware interruptions per hour x repair hours); the
  fewest spares S with P(more than S out) <= shortfall_pct;
- detection: hangs (hang_pct of interruptions) are noticed by the NCCL watchdog after its
  timeout, crashes after crash_detect_s;
- restart: relaunch + reading the checkpoint (storage_load_min from the file system,
  mem_load_s from host memory and peers); stall per checkpoint storage_stall_s or mem_stall_s;
- lost per interruption: detection + restart + half the interval (first order); share of
  wall time lost: Daly 2006 complete model with detection + restart as the restart cost.
"""

from __future__ import annotations

from typing import Any

PATHS = ("memory", "storage")


def mtbf_s(params: dict[str, Any]) -> float:
    from graders.hw.reliability import job_mtbf_h
    return 3600.0 * job_mtbf_h(params["fleet_interruptions"], params["fleet_days"],
                               params["fleet_gpus"], params["num_gpus"])


def spares_needed(params: dict[str, Any]) -> int:
    from graders.hw.reliability import spares_needed as need
    return need(nodes_out_mean(params), params["shortfall_pct"] / 100.0)


def nodes_out_mean(params: dict[str, Any]) -> float:
    return float(params["hw_pct"] / 100.0 * params["repair_h"] * 3600.0 / mtbf_s(params))


def shortfall(params: dict[str, Any], spares: int) -> float:
    from graders.hw.reliability import poisson_sf
    return poisson_sf(spares, nodes_out_mean(params))


def detect_s(params: dict[str, Any], watchdog_min: float) -> float:
    h = params["hang_pct"] / 100.0
    return float(h * watchdog_min * 60.0 + (1.0 - h) * params["crash_detect_s"])


def restart_s(params: dict[str, Any], path: str) -> float:
    load = params["mem_load_s"] if path == "memory" else params["storage_load_min"] * 60.0
    return float(params["relaunch_min"] * 60.0 + load)


def stall_s(params: dict[str, Any], path: str) -> float:
    return float(params["mem_stall_s"] if path == "memory" else params["storage_stall_s"])


def consequences(params: dict[str, Any], path: str, watchdog_min: float,
                 interval_min: float) -> dict[str, float]:
    from graders.hw.reliability import lost_fraction, lost_per_interruption_s
    m, tau = mtbf_s(params), interval_min * 60.0
    d, r = detect_s(params, watchdog_min), restart_s(params, path)
    return {
        "detect_min": d / 60.0,
        "restart_min": r / 60.0,
        "lost_per_interruption_min": lost_per_interruption_s(d, r, tau) / 60.0,
        "lost_pct": 100.0 * lost_fraction(tau, stall_s(params, path), d, r, m),
    }


def doubled(params: dict[str, Any], path: str, watchdog_min: float) -> float:
    """Share of wall time lost (%) on twice the GPUs, same path and watchdog, at the Daly
    interval for the larger job."""
    from graders.hw.checkpoint import daly_interval
    big = dict(params, num_gpus=2 * params["num_gpus"])
    tau = daly_interval(stall_s(big, path), mtbf_s(big)) / 60.0
    return consequences(big, path, watchdog_min, tau)["lost_pct"]


def best(params: dict[str, Any]) -> dict[str, Any]:
    """The model's best plan: each path at its Daly interval with the watchdog at the
    longest legitimate wait; the one that loses least."""
    from graders.hw.checkpoint import daly_interval
    out: dict[str, Any] | None = None
    for path in PATHS:
        tau = daly_interval(stall_s(params, path), mtbf_s(params)) / 60.0
        c = consequences(params, path, params["longest_wait_min"], tau)
        if out is None or c["lost_pct"] < out["lost_pct"]:
            out = {"restart_path": path, "interval_min": tau,
                   "watchdog_min": params["longest_wait_min"], **c}
    assert out is not None
    return out
