"""Expected values for 'key' expectations of rubric.yaml (hidden).

Checkpoint interval: the optimum for the job's failure rate and checkpoint cost. The
checkpoint holds bf16 weights, fp32 master weights and both Adam moments (14 bytes per
parameter); the job MTBF is the per-GPU MTBF divided by the number of GPUs. With the
hardware models installed the value is graders.hw.estimate_checkpoint's Daly interval;
without them it is Young's sqrt(2 * C * M), which differs from Daly's by a few percent at
these ratios (C/M < 1e-4), far inside the rubric's tolerance.
"""

from __future__ import annotations

import math
from typing import Any

BYTES_PER_PARAM = 2 + 4 + 4 + 4  # bf16 weights, fp32 master weights, Adam m and v


def answer_key(params: dict[str, Any]) -> dict[str, Any]:
    ckpt_bytes = params["arch"]["params_b"] * 1e9 * BYTES_PER_PARAM
    write_s = ckpt_bytes / (params["ckpt_write_gbs"] * 1e9)
    job_mtbf_s = params["mtbf_gpu_hours"] / params["num_gpus"] * 3600
    try:
        from graders.hw import CheckpointInput, estimate_checkpoint
    except ImportError:
        interval_s, source = math.sqrt(2 * write_s * job_mtbf_s), "young-closed-form"
    else:
        res = estimate_checkpoint(CheckpointInput(
            num_gpus=params["num_gpus"], gpu_mtbf_hours=params["mtbf_gpu_hours"],
            checkpoint_bytes=ckpt_bytes, write_gbps=params["ckpt_write_gbs"]))
        interval_s, source = res.daly_interval_s, "graders.hw.estimate_checkpoint"
    return {
        "checkpoint_bytes": ckpt_bytes,
        "checkpoint_write_s": round(write_s, 1),
        "job_mtbf_h": round(job_mtbf_s / 3600, 2),
        "checkpoint_interval_min": round(interval_s / 60, 1),
        "source": source,
    }
