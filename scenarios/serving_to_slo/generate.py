"""Variant data for the serving-to-SLO design scenario (parameters only, no artifacts).

Each seed draws a model (Llama 3 8B or 70B shape, public config.json values), a traffic mix
(chat, long-prompt RAG, long generations), the peak request rate, the TTFT and ITL targets,
the utilisation cap and hourly prices for three GPU types. GPU figures are the data sheets'
(dense peaks). Expected answers are computed at grading time by the serving model
(checks/slo_model.py over graders.hw.serving_perf), never here.
"""

from __future__ import annotations

import random
from typing import Any

MODELS: dict[str, dict[str, Any]] = {
    "llama3-8b": dict(label="Llama 3.1 8B Instruct", params_b=8.03, num_layers=32,
                      hidden_size=4096, num_attention_heads=32, num_kv_heads=8, head_dim=128,
                      ffn_hidden_size=14336, vocab_size=128256),
    "llama3-70b": dict(label="Llama 3.1 70B Instruct", params_b=70.6, num_layers=80,
                       hidden_size=8192, num_attention_heads=64, num_kv_heads=8, head_dim=128,
                       ffn_hidden_size=28672, vocab_size=128256),
}
# Data-sheet figures (dense, no sparsity) shown to the candidate: the prompt's GPU table
# holds them as text (the same every seed, so GPU names never make a sentence specific to
# the variant); only the prices are drawn.
GPUS: dict[str, dict[str, Any]] = {
    "A100-SXM4-80GB": dict(short="A100 80GB SXM", memory_gb=80, hbm_tbs=2.04, bf16_tflops=312,
                           fp8_tflops=None, nvlink_gbs=600),
    "H100-SXM-80GB": dict(short="H100 80GB SXM", memory_gb=80, hbm_tbs=3.35, bf16_tflops=989,
                          fp8_tflops=1979, nvlink_gbs=900),
    "H200-SXM-141GB": dict(short="H200 141GB SXM", memory_gb=141, hbm_tbs=4.8, bf16_tflops=989,
                           fp8_tflops=1979, nvlink_gbs=900),
}
PRICE_RANGES = {"A100-SXM4-80GB": (1.10, 2.00), "H100-SXM-80GB": (1.90, 3.20),
                "H200-SXM-141GB": (2.60, 4.20)}
MIXES: dict[str, dict[str, Any]] = {
    "chat": dict(label="multi-turn chat", prompt=(1000, 2500, 250), output=(200, 450, 50)),
    "rag": dict(label="retrieval-augmented answers over long documents",
                prompt=(4000, 8000, 1000), output=(150, 300, 50)),
    "long_gen": dict(label="long-form generation (drafting, code)", prompt=(300, 800, 100),
                     output=(600, 1200, 200)),
}
# (ITL ms, TTFT ms, peak requests/s) ranges per model and mix.
TARGETS: dict[tuple[str, str], dict[str, tuple[int, int, int]]] = {
    ("llama3-8b", "chat"): dict(itl=(15, 35, 5), ttft=(150, 400, 50), rate=(150, 400, 10)),
    ("llama3-8b", "rag"): dict(itl=(20, 40, 5), ttft=(200, 500, 50), rate=(60, 200, 10)),
    ("llama3-8b", "long_gen"): dict(itl=(12, 30, 2), ttft=(150, 400, 50), rate=(60, 160, 10)),
    ("llama3-70b", "chat"): dict(itl=(30, 60, 5), ttft=(300, 800, 50), rate=(20, 80, 5)),
    ("llama3-70b", "rag"): dict(itl=(35, 70, 5), ttft=(500, 1200, 100), rate=(10, 40, 2)),
    ("llama3-70b", "long_gen"): dict(itl=(25, 50, 5), ttft=(300, 800, 50), rate=(8, 30, 2)),
}


def _step(rng: random.Random, lo: float, hi: float, step: float) -> Any:
    n = int(round((hi - lo) / step))
    v = lo + step * rng.randint(0, n)
    return round(v, 2) if isinstance(step, float) else int(v)


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    rng = random.Random(f"serving-to-slo:{seed}")
    model, mix = params["model_name"], params["mix"]
    t = TARGETS[(model, mix)]
    m = MIXES[mix]
    prices = {g: _step(rng, lo, hi, 0.05) for g, (lo, hi) in PRICE_RANGES.items()}
    return {
        "params": {
            "model": dict(MODELS[model]),
            "mix_label": m["label"],
            "prompt_len": _step(rng, *m["prompt"]),
            "output_len": _step(rng, *m["output"]),
            "itl_ms": _step(rng, *t["itl"]),
            "ttft_ms": _step(rng, *t["ttft"]),
            "rate_rps": _step(rng, *t["rate"]),
            "max_util": rng.choice([0.7, 0.75, 0.8]),
            "prices": prices,
        },
        "artifacts": {},
    }
