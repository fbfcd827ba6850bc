"""Expected values for 'key' expectations of rubric.yaml (hidden).

Checkpoint interval: Young/Daly optimum sqrt(2 * C * M) with C the time to write one
checkpoint (weights + fp32 master + Adam moments) at the store's bandwidth and M the job's
mean time between failures (per-GPU MTBF / number of GPUs).
"""

from __future__ import annotations

import math
from typing import Any

BYTES_PER_PARAM = 2 + 4 + 4 + 4  # bf16 weights, fp32 master weights, Adam m and v


def answer_key(params: dict[str, Any]) -> dict[str, Any]:
    ckpt_bytes = params["arch"]["params_b"] * 1e9 * BYTES_PER_PARAM
    write_s = ckpt_bytes / (params["ckpt_write_gbs"] * 1e9)
    job_mtbf_s = params["mtbf_gpu_hours"] / params["num_gpus"] * 3600
    interval_s = math.sqrt(2 * write_s * job_mtbf_s)
    return {
        "checkpoint_bytes": ckpt_bytes,
        "checkpoint_write_s": round(write_s, 1),
        "job_mtbf_h": round(job_mtbf_s / 3600, 2),
        "checkpoint_interval_min": round(interval_s / 60, 1),
    }
