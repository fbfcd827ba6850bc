"""Builds the hardware-model input for a candidate's MoE layout on this variant (hidden).

estimates() gives the numbers the plan checks compare that the training result does not
hold directly: MFU in percent, one dispatch all-to-all (bytes each GPU sends and time, from
the model's EP term), and the time added to the step when the busiest expert-parallel rank
receives `imbalance` times the mean tokens: the model is run again with every token routed to
k * imbalance experts, which makes every rank's expert GEMMs and all-to-all as large as the
busiest rank's (the synchronous all-to-all makes the others wait for it). Without expert
parallelism every rank holds every expert and routing skew does not change the step.
graders.hw is imported lazily so the bank loads without the hardware models.
"""

from __future__ import annotations

import math
from typing import Any

from scenarios.training_plans import runnable

ARCH_KEYS = ("num_layers", "hidden_size", "num_attention_heads", "num_kv_heads", "head_dim",
             "ffn_hidden_size", "vocab_size", "num_experts", "experts_per_token")
METRICS = ("memory_gib", "step_time_s", "mfu_pct", "a2a_mib", "a2a_ms", "imbalance_cost_s")


def model_dict(params: dict[str, Any], top_k: int | None = None) -> dict[str, Any]:
    arch = params["arch"]
    out = {k: arch[k] for k in ARCH_KEYS}
    if top_k is not None:
        out["experts_per_token"] = min(top_k, arch["num_experts"])
    return {**out, "gated_mlp": True, "tied_embeddings": False, "dropout": False}


def cluster_dict(params: dict[str, Any]) -> dict[str, Any]:
    return {"gpu": params["gpu"], "num_gpus": params["num_gpus"], "gpus_per_node": 8,
            "scale_out_link": params["fabric"]}


def plan_dict(params: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """Candidate answers -> the hw-model plan (sequence parallel with TP, BF16)."""
    tp = int(answers["tp"])
    return {
        "tp": tp, "pp": answers["pp"], "dp": answers["dp"], "cp": answers["cp"],
        "ep": answers["ep"], "etp": answers["etp"],
        "virtual_stages": answers["virtual_stages"],
        "micro_batch_size": answers["micro_batch_size"],
        "global_batch_size": params["global_batch_seqs"], "seq_len": params["seq_len"],
        "zero_stage": int(answers["zero_stage"]), "recompute": answers["recompute"],
        "sequence_parallel": tp > 1, "precision": "bf16",
    }


def training_input(params: dict[str, Any], answers: dict[str, Any],
                   top_k: int | None = None) -> Any:
    from graders.hw import TrainingInput

    return TrainingInput.model_validate({
        "model": model_dict(params, top_k), "cluster": cluster_dict(params),
        "plan": plan_dict(params, answers)})


def dispatch(params: dict[str, Any], answers: dict[str, Any], result: Any) -> tuple[float, float]:
    """(MiB each GPU sends, ms) of one dispatch all-to-all, from the model's EP term: it
    counts 4 all-to-alls per MoE layer and micro-batch (dispatch and combine, forward and
    backward; 6 under full recompute) over the stage's layers and the micro-batches."""
    ep = result.communication.get("ep")
    if ep is None or int(answers["ep"]) <= 1:
        return 0.0, 0.0
    layers = math.ceil(params["arch"]["num_layers"] / int(answers["pp"]))
    per_mb = (6 if answers["recompute"] == "full" else 4) * layers
    count = per_mb * result.microbatches
    return ep.bytes / count / 2**20, ep.time_s / count * 1e3


def imbalance_cost(params: dict[str, Any], answers: dict[str, Any], result: Any) -> float:
    """Seconds the measured imbalance adds to the step (0 without expert parallelism)."""
    from graders.hw import estimate_training

    if int(answers["ep"]) <= 1:
        return 0.0
    k = params["arch"]["experts_per_token"]
    skewed = estimate_training(training_input(params, answers,
                                              round(k * params["imbalance"])))
    return float(skewed.step_time_s - result.step_time_s)


def estimates(params: dict[str, Any], plan: dict[str, Any], result: Any) -> dict[str, Any]:
    """The model's values of the form's numbers for this layout; none for a layout that
    cannot run (out of memory or not laid out evenly), so its numbers earn nothing."""
    if not runnable(result):
        return dict.fromkeys(METRICS)
    mib, ms = dispatch(params, plan, result)
    return {"mfu_pct": result.mfu * 100.0, "a2a_mib": mib, "a2a_ms": ms,
            "imbalance_cost_s": imbalance_cost(params, plan, result)}
