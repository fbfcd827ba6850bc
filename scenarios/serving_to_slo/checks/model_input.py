"""The plan check's input for this scenario (hidden): the candidate's serving design through
the serving model (checks/slo_model.py).

assess(params, plan) -> the plan check's verdict for a design given as
{gpu, tp, weight_dtype, kv_dtype, concurrency, replicas} (form values as given):

- feasible: the GPU/TP holds the model, the KV cache of `concurrency` requests fits, the
  model's ITL at that load is within slo_model's ITL_EDGE of its target and the TTFT within
  TTFT_SLACK, and the replicas carry the peak within CAPACITY_EDGE;
- quality: cost per million output tokens against the cheapest design the model finds for
  the variant: full credit at >= FULL_AT of it (ratio cheapest / yours), none at NONE_AT,
  times slo_model's margin credit when the ITL or the replicas are past their slack but
  inside the edge (a planner using a plain share of the roofline, issue #16).
  The band is wide on purpose: the model approximates a continuous-batching engine with
  static-batching kernels, so designs within ~25% of the cheapest are not told apart;
- metrics for the candidate's own numbers: the model's max concurrency, KV cache, TTFT and
  replicas for *their* GPU/TP/dtypes (at their concurrency), and GPUs and cost from *their*
  replica count (coherence with their own configuration).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from scenarios.answers import whole_number
from scenarios.hooks import sibling

FULL_AT = 0.75
NONE_AT = 0.4


_MODEL: ModuleType | None = None


def _model() -> ModuleType:
    """slo_model, loaded once per load of this module (the plan criteria of one grading
    share it, and with it the cached search for the cheapest design)."""
    global _MODEL
    if _MODEL is None:
        _MODEL = sibling(__file__, "slo_model.py")
    return _MODEL



def assess(params: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    m = _model()
    gpu = str(plan["gpu"])
    tp = whole_number(plan["tp"], "tp", 1)
    wd = str(plan.get("weight_dtype") or "bf16")
    kd = str(plan.get("kv_dtype") or "bf16")
    b = whole_number(plan["concurrency"], "concurrency", 1)
    replicas = (whole_number(plan["replicas"], "replicas", 1)
                if plan.get("replicas") is not None else None)
    if wd not in m.DTYPES or kd not in m.DTYPES:
        raise ValueError(f"dtypes must be one of {list(m.DTYPES)}")
    err = m.layout_error(params, gpu, tp)
    if err:
        raise ValueError(err)
    if b > m.MAX_B:
        raise ValueError(f"concurrency {b} is beyond the {m.MAX_B} the model evaluates")
    ev = m.evaluate(params, gpu, tp, wd, kd, b, replicas)
    best = m.cheapest(params)
    quality, text = 0.0, "no design meets the SLO on this variant"
    if best is not None:
        ratio = best["cost_per_mtok"] / ev["cost_per_mtok"] if ev["cost_per_mtok"] else 0.0
        quality = max(0.0, min(1.0, (ratio - NONE_AT) / (FULL_AT - NONE_AT)))
        quality *= ev["margin_credit"]
        text = (f"${ev['cost_per_mtok']:.3f} per M output tokens ({ev['gpus']} GPUs), "
                f"{min(ratio, 9.99):.0%} of the cheapest design the model finds "
                f"(${best['cost_per_mtok']:.3f}: {best['gpu']} TP{best['tp']} "
                f"{best['weight_dtype']} weights, {best['kv_dtype']} KV, "
                f"{best['concurrency']} in flight, {best['gpus']} GPUs); full credit from "
                f"{FULL_AT:.0%}")
        if ev["margin_notes"]:
            text += f"; x{ev['margin_credit']:.2f}: " + "; ".join(ev["margin_notes"])
    return {
        "feasible": ev["meets"],
        "reason": "; ".join(ev["reasons"]) or "meets the ITL and TTFT targets and the peak",
        "quality": quality,
        "quality_text": text,
        "metrics": {
            "max_concurrency": ev["max_concurrency"] or None,
            "kv_cache_gib": ev["kv_gib"],
            "ttft_ms": ev["ttft_ms"],
            "itl_ms": ev["itl_ms"],
            "replicas": ev["replicas_needed"],
            "total_gpus": float(ev["gpus"]),
            "cost_per_mtok": ev["cost_per_mtok"],
        },
        "values": {"itl_ms": round(ev["itl_ms"], 2), "ttft_ms": round(ev["ttft_ms"], 1),
                   "tokens_per_s": round(ev["tokens_per_s"], 1),
                   "kv_capacity_tokens": ev["kv_capacity_tokens"]},
    }
