"""Builds the hardware-model input for a candidate's plan on this variant (hidden).

graders.hw is imported lazily so the bank loads without the hardware models.
"""

from __future__ import annotations

from typing import Any

ARCH_KEYS = ("num_layers", "hidden_size", "num_attention_heads", "num_kv_heads", "head_dim",
             "ffn_hidden_size", "vocab_size", "gated_mlp", "tied_embeddings", "num_experts",
             "experts_per_token")


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def plan_dict(params: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """Candidate answers -> the hw-model plan dict (form strings converted).

    ep blank means 1 (a dense model has no experts); etp blank means etp = tp (Megatron's
    default). ep/etp on a dense model are dropped only when they are the neutral values.
    """
    plan = {
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
    moe = params["arch"].get("num_experts", 1) > 1
    ep = answers.get("ep")
    etp = answers.get("etp")
    if not _blank(ep) and (moe or ep != 1):
        plan["ep"] = ep
    if not _blank(etp) and (moe or etp != answers["tp"]):
        plan["etp"] = etp
    return plan


def model_dict(params: dict[str, Any]) -> dict[str, Any]:
    arch = params["arch"]
    # Modern pretraining recipes train without dropout (stated in the prompt).
    return {**{k: arch[k] for k in ARCH_KEYS if k in arch}, "dropout": False}


def cluster_dict(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"gpu": params["gpu"], "num_gpus": params["num_gpus"],
                           "gpus_per_node": 8}
    nics = params.get("nics_per_node", 8)
    if nics != 8:
        out["nics_per_node"] = nics
    return out


def training_input(params: dict[str, Any], answers: dict[str, Any]) -> Any:
    """The graders.hw.TrainingInput for this variant and plan."""
    from graders.hw import TrainingInput

    return TrainingInput.model_validate({
        "model": model_dict(params), "cluster": cluster_dict(params),
        "plan": plan_dict(params, answers),
    })


# Problems that make a plan unrunnable (the plan check's list): such a plan has no peak
# memory or step time to estimate.
UNRUNNABLE = {"precision_unsupported", "uneven_pipeline", "interleave_microbatches",
              "cp_seq_divisibility", "out_of_memory"}


def estimates(params: dict[str, Any], plan: dict[str, Any], result: Any) -> dict[str, Any]:
    """No model value for the estimates of a plan that cannot run (out of memory or not laid
    out evenly), so they earn nothing instead of being scored against a run that cannot
    happen."""
    if result.fits and not any(p.code in UNRUNNABLE for p in result.problems):
        return {}
    return {"memory_gib": None, "step_time_s": None}
