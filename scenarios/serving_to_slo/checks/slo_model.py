"""The serving-to-SLO model for this scenario (hidden): one configuration's latency,
concurrency, replicas and cost, and the cheapest configuration that meets the SLO.

Every number comes from graders.hw: estimate_serving_perf (serving_perf.py: decode and
prefill as sums of measured kernels, the continuous-batching steady state with chunked
prefill) and its memory model (serving.py: weights, KV pool, fit). On top of it:

- ITL at a concurrency b: the steady-state step with b requests in flight (`steady_itl_s`:
  the decode step plus the share of new prompts' prefill each step carries).
- TTFT at that load: the prompt's prefill alone (`ttft_s` at batch 1) plus one steady step
  (its last chunk shares a step with the decodes). Queueing is not modelled.
- Max concurrency: the largest b whose ITL and TTFT meet the targets and whose KV cache
  (b x (prompt + output) tokens) fits the pool.
- Replicas: peak output tokens/s / (utilisation cap x steady tokens/s at that b), rounded up.
- Cost per million output tokens at the peak rate: GPUs x $/GPU-h / output tokens per hour.

The model's limits (static-batching kernels standing in for a continuous-batching engine,
no queueing, one mean prompt and output length instead of the distribution) are why the
rubric's bands are wide (rubric.yaml says where).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

GPUS = ("A100-SXM4-80GB", "H100-SXM-80GB", "H200-SXM-141GB")
TPS = (1, 2, 4, 8)
DTYPES = ("bf16", "fp8")
MAX_B = 4096
# The grader's tolerance on meeting the SLO: the model's ITL may exceed the target by this
# much and still count as meeting it (serving rows of bench/hw_validation.py: median 12%,
# first-token latencies worse, so TTFT gets the wider band).
ITL_SLACK = 0.15
TTFT_SLACK = 0.35
CAPACITY_SLACK = 0.2  # replicas may be this far below the model's count and still carry the peak
# Beyond those slacks a design is still accepted, with less credit, up to the *_EDGE margins:
# a planner who prices decode at a plain efficiency share of the roofline (60-75%, or the
# roofline itself as a stated assumption) lands there where the model's step is slower than
# that share (TP all-reduces and launches at TP 4-8, issue #16). The design's cost credit
# falls linearly from 1 at the slack to EDGE_CREDIT at the edge; past the edge it misses.
ITL_EDGE = 0.35
CAPACITY_EDGE = 0.35
EDGE_CREDIT = 0.5


def _perf(model: str, gpu: str, tp: int, wd: str, kd: str, b: int, p: int, o: int) -> Any:
    from graders.hw import ServingPerfInput, estimate_serving_perf

    return estimate_serving_perf(ServingPerfInput.model_validate(dict(
        model=model, gpu=gpu, tp=tp, weight_dtype=wd, kv_dtype=kd, batch_size=b,
        prompt_len=p, output_len=o)))


@lru_cache(maxsize=4096)
def point(model: str, gpu: str, tp: int, wd: str, kd: str, b: int, p: int,
          o: int) -> tuple[float, float, float, bool, int]:
    """(itl_s, ttft_s, steady tokens/s, KV fits, KV capacity tokens) at concurrency b."""
    r = _perf(model, gpu, tp, wd, kd, b, p, o)
    alone = _perf(model, gpu, tp, wd, kd, 1, p, o).ttft_s if b > 1 else r.ttft_s
    return (r.steady_itl_s, alone + r.steady_itl_s, r.steady_tokens_per_s, r.fits,
            r.kv_capacity_tokens)


def layout_error(params: dict[str, Any], gpu: str, tp: int) -> str | None:
    """Why this GPU / TP cannot hold the model at all (None when it can)."""
    from graders.hw import get_model

    if gpu not in GPUS:
        return f"{gpu} is not offered"
    if tp not in TPS:
        return f"tp {tp} is not one of {list(TPS)} (one 8-GPU node)"
    m = get_model(params["model_name"])
    if m.num_attention_heads % tp or (m.kv_heads >= tp and m.kv_heads % tp) \
            or (m.kv_heads < tp and tp % m.kv_heads):
        return f"tp {tp} does not divide the attention heads"
    return None


def _meets(params: dict[str, Any], pt: tuple[float, float, float, bool, int],
           slack: bool) -> bool:
    itl, ttft, _, fits, _ = pt
    a = 1 + ITL_SLACK if slack else 1.0
    c = 1 + TTFT_SLACK if slack else 1.0
    return fits and itl <= params["itl_ms"] / 1000 * a and ttft <= params["ttft_ms"] / 1000 * c


@lru_cache(maxsize=1024)
def _max_b(model: str, gpu: str, tp: int, wd: str, kd: str, p: int, o: int, itl_ms: int,
           ttft_ms: int) -> int:
    prm = {"itl_ms": itl_ms, "ttft_ms": ttft_ms}
    if not _meets(prm, point(model, gpu, tp, wd, kd, 1, p, o), False):
        return 0
    lo, hi = 1, MAX_B
    if _meets(prm, point(model, gpu, tp, wd, kd, hi, p, o), False):
        return hi
    while hi - lo > 1:  # ITL, TTFT and KV use all grow with b
        mid = (lo + hi) // 2
        if _meets(prm, point(model, gpu, tp, wd, kd, mid, p, o), False):
            lo = mid
        else:
            hi = mid
    return lo


def max_concurrency(params: dict[str, Any], gpu: str, tp: int, wd: str, kd: str) -> int:
    """Most requests in flight per replica meeting both targets with the KV cache fitting
    (0: not even one request does)."""
    return _max_b(params["model_name"], gpu, tp, wd, kd, params["prompt_len"],
                  params["output_len"], params["itl_ms"], params["ttft_ms"])


def kv_gib(params: dict[str, Any], kd: str, b: int) -> float:
    """KV cache of b requests of prompt + output tokens, whole replica, GiB."""
    from graders.hw import get_model
    from graders.hw.serving import kv_bytes_per_token

    per = kv_bytes_per_token(get_model(params["model_name"]), kd)
    return float(b * (params["prompt_len"] + params["output_len"]) * per / 2**30)


def replicas_needed(params: dict[str, Any], tokens_per_s: float) -> int:
    demand = params["rate_rps"] * params["output_len"]
    return max(1, int(math.ceil(float(demand) / (float(params["max_util"]) * tokens_per_s - 1e-9))))


def cost_per_mtok(params: dict[str, Any], gpu: str, gpus: int) -> float:
    tokens_per_h = params["rate_rps"] * params["output_len"] * 3600
    return float(gpus * params["prices"][gpu] / tokens_per_h * 1e6)


def evaluate(params: dict[str, Any], gpu: str, tp: int, wd: str, kd: str, b: int,
             replicas: int | None) -> dict[str, Any]:
    """One configuration: the model's figures and whether it meets the SLO and the peak."""
    p, o = params["prompt_len"], params["output_len"]
    itl, ttft, tok, fits, cap = point(params["model_name"], gpu, tp, wd, kd, b, p, o)
    need = replicas_needed(params, tok)
    bmax = max_concurrency(params, gpu, tp, wd, kd)
    reasons: list[str] = []
    notes: list[str] = []
    if not fits:
        reasons.append(f"the KV pool holds {cap} tokens per replica, {b} requests of "
                       f"{p + o} need {b * (p + o)} (or the weights do not fit)")
    itl_over = itl / (params["itl_ms"] / 1000) - 1
    credit = edge_credit(itl_over, ITL_SLACK, ITL_EDGE)
    if credit == 0.0:
        reasons.append(f"ITL {itl * 1000:.0f} ms at {b} in flight misses the "
                       f"{params['itl_ms']} ms target")
    elif credit < 1.0:
        notes.append(f"ITL {itl * 1000:.0f} ms at {b} in flight is {itl_over:.0%} over the "
                     f"{params['itl_ms']} ms target (accepted up to {ITL_EDGE:.0%} with less "
                     "credit)")
    if ttft > params["ttft_ms"] / 1000 * (1 + TTFT_SLACK):
        reasons.append(f"TTFT {ttft * 1000:.0f} ms misses the {params['ttft_ms']} ms target")
    if replicas is not None:
        short = 1 - replicas / need
        cap_credit = edge_credit(short, CAPACITY_SLACK, CAPACITY_EDGE)
        carried = (f"{replicas} replicas carry {replicas * tok * params['max_util']:.0f} "
                   f"output tokens/s at the utilisation cap; the peak needs "
                   f"{params['rate_rps'] * o:.0f} ({need} replicas)")
        if cap_credit == 0.0:
            reasons.append(carried)
        elif cap_credit < 1.0:
            notes.append(f"{carried}: {short:.0%} short (accepted up to {CAPACITY_EDGE:.0%} "
                         "with less credit)")
        credit = min(credit, cap_credit)
    n = replicas if replicas is not None else need
    return {
        "itl_ms": itl * 1000, "ttft_ms": ttft * 1000, "tokens_per_s": tok, "fits": fits,
        "kv_capacity_tokens": cap, "max_concurrency": bmax, "kv_gib": kv_gib(params, kd, b),
        "replicas_needed": need, "gpus": n * tp, "cost_per_mtok": cost_per_mtok(params, gpu, n * tp),
        "meets": not reasons, "reasons": reasons,
        "margin_credit": credit if not reasons else 0.0, "margin_notes": notes,
    }


def edge_credit(over: float, slack: float, edge: float) -> float:
    """1 up to `slack` over a target, falling linearly to EDGE_CREDIT at `edge`, 0 beyond."""
    if over <= slack:
        return 1.0
    if over > edge:
        return 0.0
    return 1.0 - (1.0 - EDGE_CREDIT) * (over - slack) / (edge - slack)


def configs(params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every GPU / TP / dtype at its max concurrency, with replicas and cost, cheapest first."""
    out = []
    for gpu in GPUS:
        for tp in TPS:
            if layout_error(params, gpu, tp):
                continue
            for wd in DTYPES:
                for kd in DTYPES:
                    b = max_concurrency(params, gpu, tp, wd, kd)
                    if b < 1:
                        continue
                    ev = evaluate(params, gpu, tp, wd, kd, b, None)
                    out.append({"gpu": gpu, "tp": tp, "weight_dtype": wd, "kv_dtype": kd,
                                "concurrency": b, **ev})
    return sorted(out, key=lambda c: (c["cost_per_mtok"], c["gpu"], c["tp"]))


def cheapest(params: dict[str, Any], weight_dtype: str | None = None) -> dict[str, Any] | None:
    rows = [c for c in configs(params) if weight_dtype in (None, c["weight_dtype"])]
    return rows[0] if rows else None
