"""Expected values for this variant (hidden): checkpoint interval, reference plan, textbook plan.

Checkpoint interval: the optimum for the job's failure rate and checkpoint cost. The
checkpoint holds bf16 weights, fp32 master weights and both Adam moments (14 bytes per
parameter); the job MTBF is the per-GPU MTBF divided by the number of GPUs. With the
hardware models installed the value is graders.hw.estimate_checkpoint's Daly interval;
without them it is Young's sqrt(2 * C * M), which differs from Daly's by a few percent at
these ratios (C/M < 1e-4), far inside the rubric's tolerance.

Reference plan: the hardware models' plan search for the variant (the plan check compares
a candidate's throughput with the same search). Textbook plan: TP8 PP4 DP-rest, ZeRO-1,
selective recompute, sequence parallel, micro-batch 1, BF16, no CP/EP/interleaving, the
layout many candidates recite whatever the cluster; `textbook()` says whether it can be laid
out, whether it fits and how it compares with the reference.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

from scenarios import training_plans
from scenarios.hooks import sibling
from scenarios.training_plans import plan_answers

BYTES_PER_PARAM = 2 + 4 + 4 + 4  # bf16 weights, fp32 master weights, Adam m and v
BLOCKING = {"precision_unsupported", "uneven_pipeline", "interleave_microbatches",
            "cp_seq_divisibility", "out_of_memory"}


def _model_input() -> ModuleType:
    return sibling(__file__, "model_input.py")


def textbook_answers(params: dict[str, Any]) -> dict[str, Any]:
    """The textbook plan as form answers (DP is whatever is left of the GPUs)."""
    return {"tp": 8, "pp": 4, "dp": max(1, params["num_gpus"] // 32), "cp": 1,
            "virtual_stages": 1, "micro_batch_size": 1, "zero_stage": "1",
            "recompute": "selective", "sequence_parallel": "yes", "precision": "bf16"}


def search(params: dict[str, Any]) -> Any:
    """graders.hw.search_training for the variant (BF16, top 5), cached per variant."""
    mi = _model_input()
    return training_plans.search(mi.model_dict(params), mi.cluster_dict(params),
                                 params["global_batch_seqs"], params["seq_len"])


def reference(params: dict[str, Any]) -> dict[str, Any] | None:
    """The search's best plan for the variant with its predictions; None if nothing fits."""
    res = search(params)
    if not res.feasible:
        return None
    best = res.feasible[0]
    return {"answers": plan_answers(best.plan), "tokens_per_s": best.tokens_per_s,
            "step_time_s": best.step_time_s, "memory_gib": best.memory_gib, "mfu": best.mfu,
            "feasible_count": res.feasible_count}


def textbook(params: dict[str, Any]) -> dict[str, Any]:
    """The textbook plan on this variant: status (layout / oom / ok), ratio to the best."""
    from graders.hw import estimate_training

    mi = _model_input()
    ref = reference(params)
    try:
        result = estimate_training(mi.training_input(params, textbook_answers(params)))
    except ValueError as exc:  # pydantic ValidationError included
        first = str(exc).splitlines()
        return {"status": "layout", "ratio": 0.0,
                "reason": first[-1] if first else "cannot be laid out"}
    blocking = [p.code for p in result.problems if p.code in BLOCKING]
    best = max(ref["tokens_per_s"] if ref else 0.0, result.tokens_per_s)
    ratio = result.tokens_per_s / best if best else 0.0
    if "out_of_memory" in blocking:
        status = "oom"
    elif blocking:
        status = "layout"
    else:
        status = "ok"
    return {"status": status, "ratio": ratio if status == "ok" else 0.0,
            "reason": ", ".join(blocking), "memory_gib": result.memory_gib.total,
            "step_time_s": result.step_time_s, "tokens_per_s": result.tokens_per_s}


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
