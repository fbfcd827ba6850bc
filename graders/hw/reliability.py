"""Interruptions of a large training job, hot-spare sizing and goodput per restart path.

Sources (docs/hw.md "Reliability"): Llama 3 (Dubey et al. 2024, section 3.3.4 and Table 5):
466 interruptions in a 54-day snapshot of Llama 3 405B pretraining on 16,384 H100 GPUs,
47 planned and 419 unexpected, about 78% of the unexpected ones confirmed or suspected
hardware. Spares: nodes in repair form an M/G/infinity queue, so the number out at once is
Poisson with mean (node failure rate x repair time) whatever the repair-time distribution
(Palm's theorem). Goodput: graders.hw.checkpoint (Daly 2006 complete model).
"""

from __future__ import annotations

import math

from graders.hw.checkpoint import goodput

LLAMA3_GPUS = 16_384
LLAMA3_DAYS = 54
LLAMA3_UNEXPECTED = 419
LLAMA3_PLANNED = 47
LLAMA3_HARDWARE_SHARE = 0.78


def job_mtbf_h(fleet_interruptions: float, fleet_days: float, fleet_gpus: int,
               job_gpus: int) -> float:
    """Mean time between interruptions of a job of job_gpus GPUs, failures spread evenly
    over the fleet's GPUs (rate per GPU times GPUs in the job)."""
    per_gpu_per_h = fleet_interruptions / (fleet_days * 24.0 * fleet_gpus)
    return 1.0 / (per_gpu_per_h * job_gpus)


def poisson_sf(k: int, mean: float) -> float:
    """P(X > k) for X ~ Poisson(mean) (terms in log space, so large means do not underflow)."""
    if k < 0:
        return 1.0
    if mean <= 0:
        return 0.0
    log_mean = math.log(mean)
    cdf = math.fsum(math.exp(-mean + i * log_mean - math.lgamma(i + 1)) for i in range(k + 1))
    return max(0.0, 1.0 - cdf)


def spares_needed(nodes_out_mean: float, max_shortfall: float) -> int:
    """Fewest spares S with P(more than S nodes in repair at once) <= max_shortfall."""
    s = 0
    while poisson_sf(s, nodes_out_mean) > max_shortfall:
        s += 1
    return s


def lost_per_interruption_s(detect_s: float, restart_s: float, interval_s: float) -> float:
    """Expected wall time lost per interruption: detection + restart + half an interval of
    recomputed work (first order)."""
    return detect_s + restart_s + interval_s / 2.0


def lost_fraction(interval_s: float, stall_s: float, detect_s: float, restart_s: float,
                  mtbf_s: float) -> float:
    """Share of wall time not spent on useful work (Daly 2006 complete model, detection and
    restart together as the restart cost)."""
    return 1.0 - goodput(interval_s, stall_s, detect_s + restart_s, mtbf_s)
