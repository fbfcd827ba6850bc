"""Per-variant self-check (hidden): a reference solver that reads only the candidate's view
finds a design the rubric accepts, and how often the textbook designs pass.

The solver parses the rendered prompt (model shape, GPU table with prices, traffic, SLO,
utilisation cap), identifies the model by its shape in the public hardware catalog, runs
the serving model's search for the cheapest design and fills the form from it. Its
structured criteria must earn full points from their plan checks (without the rubric's
scaling of the own numbers by the write-up, which the solver does not write). summary() reports, over the seeds checked, how
often the "textbook" design (H100, BF16 weights and KV, TP 8 for 70B / TP 1 for 8B, batch
256) meets the SLO and how often the cheapest design uses each GPU.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from scenarios.hooks import SelfCheck

_HOOK = SelfCheck(__file__)
STRUCTURED = ("design", "sizing", "ttft", "cost_coherence")
_SEEN: Counter[str] = Counter()


def _num(pattern: str, text: str) -> float:
    m = re.search(pattern, text)
    if m is None:
        raise ValueError(f"the prompt has no match for {pattern!r}")
    return float(m.group(1).replace(",", ""))


def read_view(prompt: str) -> dict[str, Any]:
    """The variant's figures as a candidate reads them from the prompt."""
    from graders.hw.catalog import MODELS, get_model

    arch = {
        "num_layers": int(_num(r"(\d+) layers", prompt)),
        "hidden_size": int(_num(r"hidden size\s+(\d+)", prompt)),
        "num_attention_heads": int(_num(r"(\d+) attention heads", prompt)),
        "num_kv_heads": int(_num(r"(\d+)\s+KV heads", prompt)),
        "ffn_hidden_size": int(_num(r"FFN (\d+)", prompt)),
        "vocab_size": int(_num(r"vocabulary (\d+)", prompt)),
    }
    names = [n for n in MODELS if (m := get_model(n)) is not None
             and all(getattr(m, k) == v for k, v in arch.items())]
    if not names:
        raise ValueError(f"no catalog model has the prompt's shape {arch}")
    labels = {"A100 80GB SXM": "A100-SXM4-80GB", "H100 80GB SXM": "H100-SXM-80GB",
              "H200 141GB SXM": "H200-SXM-141GB"}
    prices = {}
    for short, name in labels.items():
        row = re.search(rf"^\| {re.escape(short)} \|.*\| \$([\d.]+) \|$", prompt, re.M)
        if row is None:
            raise ValueError(f"no price row for {short}")
        prices[name] = float(row.group(1))
    return {
        "model_name": sorted(names)[0],
        "prompt_len": int(_num(r"\*\*(\d+) prompt tokens\*\*", prompt)),
        "output_len": int(_num(r"\*\*(\d+) output tokens\*\*", prompt)),
        "rate_rps": int(_num(r"\*\*(\d+) requests/s\*\*", prompt)),
        "ttft_ms": int(_num(r"TTFT\) at most \*\*(\d+) ms\*\*", prompt)),
        "itl_ms": int(_num(r"ITL, time between[^*]*\*\*(\d+) ms\*\*", prompt)),
        "max_util": _num(r"above\s+\*\*(\d+)%\*\*", prompt) / 100,
        "prices": prices,
    }


def solve(prompt: str) -> dict[str, Any] | None:
    """Form answers for the cheapest design the serving model finds (no write-up)."""
    seen = read_view(prompt)
    best = _HOOK.module("slo_model.py").cheapest(seen)
    if best is None:
        return None
    return {"gpu": best["gpu"], "tp": best["tp"], "weight_dtype": best["weight_dtype"],
            "kv_dtype": best["kv_dtype"], "concurrency": best["concurrency"],
            "kv_cache_gib": round(best["kv_gib"], 1), "ttft_ms": round(best["ttft_ms"]),
            "replicas": best["replicas_needed"], "total_gpus": best["gpus"],
            "cost_per_mtok": round(best["cost_per_mtok"], 4)}


def textbook(params: dict[str, Any]) -> bool:
    """Does the textbook design meet the SLO on this variant?"""
    m = _HOOK.module("slo_model.py")
    tp = 8 if params["model_name"] == "llama3-70b" else 1
    return bool(m.evaluate(params, "H100-SXM-80GB", tp, "bf16", "bf16", 256, None)["meets"])


def unscaled(rubric: Any) -> Any:
    """The rubric without its `requires` (each criterion's check on its own)."""
    return rubric.model_copy(update={"criteria": [
        c.model_copy(update={"requires": []}) for c in rubric.criteria]})


def check(variant: Any) -> list[str]:
    from graders.engine import grade_scenario
    from scenarios.render import build_candidate_view

    scenario = _HOOK.scenario()
    view = build_candidate_view(scenario, variant.seed)
    try:
        answer = solve(view.prompt_markdown)
    except ValueError as exc:
        return [f"the solver cannot read the view: {exc}"]
    if answer is None:
        return ["no design meets the SLO on this variant"]
    seen = read_view(view.prompt_markdown)
    for k, v in seen.items():
        if variant.params.get(k) != v:
            return [f"the view says {k}={v!r}, the variant has {variant.params.get(k)!r}"]
    # The own-number criteria are scaled by the write-up that derives them (rubric
    # `requires`); the solver writes none, so its figures are judged by the plan checks alone.
    report = grade_scenario(unscaled(scenario.rubric), answer, variant,
                            load_check=scenario.load_check)
    short = [f"{c.criterion_id} {c.points:g}/{c.max_points:g} ({c.detail})"
             for c in report.criteria
             if c.criterion_id in STRUCTURED and c.points < c.max_points - 1e-6]
    _SEEN["seeds"] += 1
    _SEEN["cheapest_" + answer["gpu"]] += 1
    _SEEN["textbook_meets"] += textbook(dict(variant.params))
    return [f"the solver's design loses points: {'; '.join(short)}"] if short else []


def summary() -> list[str]:
    n = _SEEN["seeds"]
    if not n:
        return []
    gpus = ", ".join(f"{k.removeprefix('cheapest_')} {v}" for k, v in sorted(_SEEN.items())
                     if k.startswith("cheapest_"))
    return [f"reference solver: full structured points on {n} seeds; cheapest design's GPU: "
            f"{gpus}; the textbook design (H100 BF16, TP8/TP1, 256 in flight) meets the SLO "
            f"on {_SEEN['textbook_meets']}/{n}"]
