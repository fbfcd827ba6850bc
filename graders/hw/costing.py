"""What a pretraining job costs on one capacity option: GPUs to meet a deadline, goodput
under failures and preemptions, GPU-hours, energy and dollars.

The parts are the other models': sustained throughput per GPU from the training model's
best plan at pilot scale (`pilot_mfu`, graders.hw.search), goodput from the checkpoint model
at the Daly interval (graders.hw.checkpoint), utility power per GPU all-in from the facility
model (graders.hw.facility). Prices are not modelled: they are quotes, inputs.

Conventions: compute counted as 6 x parameters x tokens (MFU below uses the same count, so
attention FLOPs are inside the MFU, not the work); a GPU's interruptions are independent and
exponential (job MTBF = 1 / (GPUs x rate)); GPUs come in whole nodes. Sources and the
validation against published GPU-hour totals: docs/hw.md ("Job cost across capacity
options"), bench/costing_validation.py.
"""

from __future__ import annotations

import math
from functools import lru_cache

from graders.hw.checkpoint import daly_interval, goodput

PILOT_GPUS = 256
SEQ_LEN = 8192
GLOBAL_BATCH = 512


@lru_cache(maxsize=64)
def pilot_mfu(model: str, gpu: str, num_gpus: int = PILOT_GPUS, seq_len: int = SEQ_LEN,
              global_batch: int = GLOBAL_BATCH) -> tuple[float, int]:
    """(MFU counted as 6 x params per token, total params) of the training model's best BF16
    plan for `model` on `num_gpus` of `gpu`. ValueError if no plan fits."""
    from graders.hw.catalog import get_gpu
    from graders.hw.plan import ClusterSpec
    from graders.hw.search import search_training
    from graders.hw.training import TrainingInput, estimate_training

    cluster = ClusterSpec(gpu=gpu, num_gpus=num_gpus)
    res = search_training(model, cluster, global_batch, seq_len,
                          top=1, micro_batch_sizes=[1, 2])
    if not res.feasible:
        raise ValueError(f"no plan for {model} fits {num_gpus} x {gpu}")
    best = res.feasible[0]
    params = estimate_training(TrainingInput(
        model=model, cluster=cluster, plan=best.plan)).params
    peak = get_gpu(gpu).peak("bf16") * 1e12
    return best.tokens_per_s / num_gpus * 6 * params / peak, params


def job_mtbf_s(num_gpus: int, gpu_mtbf_h: float, preempt_gpu_mtbf_h: float | None = None) -> float:
    """Mean time between interruptions of a job on num_gpus, s: hardware failures (one per
    gpu_mtbf_h GPU-hours) plus, on spot capacity, preemptions (one per preempt_gpu_mtbf_h)."""
    if num_gpus <= 0 or gpu_mtbf_h <= 0:
        raise ValueError("GPUs and MTBF must be positive")
    rate = 1 / gpu_mtbf_h + (1 / preempt_gpu_mtbf_h if preempt_gpu_mtbf_h else 0.0)
    return 3600.0 / (num_gpus * rate)


def job_goodput(num_gpus: int, gpu_mtbf_h: float, checkpoint_s: float, restart_s: float,
                preempt_gpu_mtbf_h: float | None = None) -> float:
    """Useful share of wall time at the Daly-optimal checkpoint interval (Daly 2006)."""
    m = job_mtbf_s(num_gpus, gpu_mtbf_h, preempt_gpu_mtbf_h)
    return goodput(daly_interval(checkpoint_s, m), checkpoint_s, restart_s, m)


def gpus_to_finish(work_flop: float, flops_per_gpu: float, window_h: float, node: int,
                   gpu_mtbf_h: float, checkpoint_s: float, restart_s: float,
                   preempt_gpu_mtbf_h: float | None = None,
                   limit: int = 1_000_000) -> int | None:
    """Fewest GPUs (whole nodes) that finish work_flop within window_h with goodput counted;
    None when no count does (goodput falls faster than GPUs are added) or past `limit`."""
    if window_h <= 0:
        return None
    n = max(node, math.ceil(work_flop / (flops_per_gpu * window_h * 3600) / node) * node)
    best_rate = 0.0
    while n <= limit:
        g = job_goodput(n, gpu_mtbf_h, checkpoint_s, restart_s, preempt_gpu_mtbf_h)
        rate = n * flops_per_gpu * g
        if rate * window_h * 3600 >= work_flop:
            return n
        if rate < best_rate:  # past the peak of useful throughput: no count will do
            return None
        best_rate = rate
        n += node
    return None


def energy_mwh(num_gpus: int, hours: float, kw_per_gpu_all_in: float) -> float:
    """Utility energy of num_gpus drawing kw_per_gpu_all_in (facility.facility_kw_per_gpu)
    for hours, MWh."""
    return num_gpus * kw_per_gpu_all_in * hours / 1000.0
