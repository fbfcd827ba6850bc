"""Expected values for this variant (hidden): the reference layout and the shortcuts.

Reference: the hardware models' plan search for the variant (the plan check compares a
candidate's tokens/s with the same search; MoE jobs get its wide, low-confidence band).
Shortcuts measured by checks/selftest.py and the tests:
- textbook: "EP = number of experts, TP 8" whatever the fit (PP 4, expert TP 1, DP the
  rest, ZeRO-1, selective recompute, micro-batch 1);
- ep_all: EP over the whole cluster (EP = GPUs, capped by the form's limit).
Variant-level figures a write-up can state: bytes one token carries in one dispatch
(k copies of the hidden state in BF16) and the ratio of NVLink to NIC bandwidth per GPU.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from scenarios.hooks import sibling
from scenarios.training_plans import plan_answers, ratio_to_best, search


def _mi() -> ModuleType:
    return sibling(__file__, "model_input.py")


def best(params: dict[str, Any]) -> Any:
    mi = _mi()
    return search(mi.model_dict(params), mi.cluster_dict(params),
                  params["global_batch_seqs"], params["seq_len"])


def reference(params: dict[str, Any]) -> dict[str, Any] | None:
    """The search's best layout (form answers incl. its own numbers); None if none fits."""
    res = best(params)
    if not res.feasible:
        return None
    top = res.feasible[0]
    plan = plan_answers(top.plan)
    answers = {k: plan[k] for k in ("tp", "pp", "cp", "dp", "virtual_stages", "micro_batch_size",
                                    "zero_stage", "recompute")}
    answers["ep"] = top.plan.ep
    answers["etp"] = top.plan.etp or top.plan.tp
    return {"answers": answers, "tokens_per_s": top.tokens_per_s,
            "step_time_s": top.step_time_s, "memory_gib": top.memory_gib, "mfu": top.mfu,
            "band_tolerance": res.band_tolerance, "confidence_note": res.confidence_note}


def own_numbers(params: dict[str, Any], answers: dict[str, Any]) -> dict[str, float] | None:
    """The model's numbers for a layout, as the form's estimate fields (None: cannot run)."""
    from graders.hw import estimate_training

    mi = _mi()
    try:
        result = estimate_training(mi.training_input(params, answers))
    except ValueError:  # pydantic ValidationError included: the layout does not lay out
        return None
    extra = mi.estimates(params, answers, result)
    if extra.get("a2a_mib") is None:
        return None
    return {"est_memory_gib": round(result.memory_gib.total, 1),
            "est_step_time_s": round(result.step_time_s, 2),
            "est_mfu_pct": round(extra["mfu_pct"], 1),
            "est_a2a_mib": round(extra["a2a_mib"], 1),
            "est_a2a_ms": round(extra["a2a_ms"], 2),
            "est_imbalance_cost_s": round(extra["imbalance_cost_s"], 2)}


def textbook_answers(params: dict[str, Any]) -> dict[str, Any]:
    return {"tp": 8, "pp": 4, "cp": 1, "ep": params["arch"]["num_experts"], "etp": 1,
            "dp": max(1, params["num_gpus"] // 32), "virtual_stages": 1,
            "micro_batch_size": 1, "zero_stage": "1", "recompute": "selective"}


def ep_all_answers(params: dict[str, Any]) -> dict[str, Any]:
    n = params["num_gpus"]
    return {"tp": 1, "pp": 1, "cp": 1, "ep": n, "etp": 1, "dp": n, "virtual_stages": 1,
            "micro_batch_size": 1, "zero_stage": "1", "recompute": "selective"}


def shortcut(params: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """A shortcut layout against the search's best: status, ratio, reason."""
    ref = reference(params)
    mi = _mi()
    return ratio_to_best(lambda a: mi.training_input(params, a), answers,
                         ref["tokens_per_s"] if ref else 0.0)


def answer_key(params: dict[str, Any]) -> dict[str, Any]:
    arch = params["arch"]
    return {
        "token_dispatch_bytes": arch["experts_per_token"] * arch["hidden_size"] * 2,
        "nvlink_to_nic_ratio": params["gpu_spec"]["nvlink_gbs"] / 2 / 50.0,
    }
