"""Builds the hardware-model input for a candidate's plan on this variant (hidden).

graders.hw is imported lazily so the bank loads without the hardware models.
"""

from __future__ import annotations

from typing import Any

ARCH_KEYS = ("num_layers", "hidden_size", "num_attention_heads", "num_kv_heads",
             "ffn_hidden_size", "vocab_size", "gated_mlp", "tied_embeddings")


def plan_dict(params: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """Candidate answers -> the hw-model plan dict (form strings converted)."""
    return {
        "tp": answers["tp"], "pp": answers["pp"], "dp": answers["dp"], "cp": answers["cp"],
        "virtual_stages": answers["virtual_stages"],
        "micro_batch_size": answers["micro_batch_size"],
        "global_batch_size": params["global_batch_seqs"],
        "seq_len": params["seq_len"],
        "zero_stage": int(answers["zero_stage"]),
        "recompute": answers["recompute"],
        "sequence_parallel": answers["sequence_parallel"] == "yes",
        "precision": answers["precision"],
    }


def model_dict(params: dict[str, Any]) -> dict[str, Any]:
    return {k: params["arch"][k] for k in ARCH_KEYS}


def cluster_dict(params: dict[str, Any]) -> dict[str, Any]:
    return {"gpu": params["gpu"], "num_gpus": params["num_gpus"], "gpus_per_node": 8}


def training_input(params: dict[str, Any], answers: dict[str, Any]) -> Any:
    """The graders.hw.TrainingInput for this variant and plan."""
    from graders.hw import TrainingInput

    return TrainingInput.model_validate({
        "model": model_dict(params), "cluster": cluster_dict(params),
        "plan": plan_dict(params, answers),
    })
