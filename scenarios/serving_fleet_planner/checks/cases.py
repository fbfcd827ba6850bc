"""Hidden test cases for the fleet planner: cases(params, n) -> list of instances.

Deterministic in the variant's parameters (hidden case_seed). Every generated fleet has room
for all models that fit on their own, so the only infeasible models are those too large
for any allowed TP on one node. A fixed share of the cases are edge cases.
"""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path
from typing import Any

# name: (params in billions, layers, kv heads, head dim, attention heads)
CATALOG: dict[str, tuple[float, int, int, int, int]] = {
    "phi3-mini-3.8b": (3.8, 32, 32, 96, 32),
    "mistral-7b": (7.2, 32, 8, 128, 32),
    "llama3-8b": (8.0, 32, 8, 128, 32),
    "llama2-13b": (13.0, 40, 40, 128, 40),
    "gemma2-27b": (27.2, 46, 16, 128, 32),
    "llama3-70b": (70.6, 80, 8, 128, 64),
    "qwen2-72b": (72.7, 80, 8, 128, 64),
    "llama3-405b": (405.0, 126, 8, 128, 128),
}
GPUS = {"A100-SXM4-80GB": 80, "H100-SXM-80GB": 80, "H200-SXM-141GB": 141}
DTYPES = {"bf16": 2.0, "fp8": 1.0, "int4-awq": 0.5}


def _judge() -> Any:
    spec = importlib.util.spec_from_file_location("_fleet_judge_c",
                                                  Path(__file__).with_name("judge.py"))
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _model(rng: random.Random, name: str, idx: int, *, dtype: str | None = None) -> dict[str, Any]:
    params_b, layers, kv_heads, head_dim, heads = CATALOG[name]
    dtype = dtype or rng.choice(list(DTYPES))
    kv_dtype_bytes = rng.choice([2, 2, 1])
    return {
        "name": f"{name}-{dtype}-{idx}",
        "params_b": params_b,
        "bytes_per_param": DTYPES[dtype],
        "kv_bytes_per_token": 2 * layers * kv_heads * head_dim * kv_dtype_bytes,
        "concurrency": (conc := rng.choice([4, 8, 16, 32, 64, 128])),
        "context_tokens": rng.choice([c for c in (2048, 4096, 8192, 16384, 32768)
                                      if c * conc <= 512 * 1024]),
        "allowed_tp": [t for t in (1, 2, 4, 8) if heads % t == 0],
    }


def _instance(rng: random.Random, gpu: str, kind: str) -> dict[str, Any]:
    case: dict[str, Any] = {
        "fleet": {"gpu": gpu, "memory_gib": GPUS[gpu], "count": 8, "gpus_per_node": 8},
        "reserve_gib": rng.choice([3.0, 4.0, 5.0]),
        "overhead_gib": rng.choice([1.0, 1.5, 2.0]),
        "objective": "min_gpus",
        "models": [],
    }
    names = list(CATALOG)
    if kind == "tiny_many":  # several small models that should share GPUs
        pool = ["phi3-mini-3.8b", "mistral-7b", "llama3-8b"]
        models = [_model(rng, rng.choice(pool), i, dtype="int4-awq")
                  for i in range(rng.randint(4, 6))]
        for m in models:
            m["concurrency"], m["context_tokens"] = rng.choice([4, 8]), rng.choice([2048, 4096])
    elif kind == "too_big":  # one model that cannot fit at any TP
        models = [_model(rng, "llama3-405b", 0, dtype="bf16")]
        models += [_model(rng, rng.choice(names[:6]), i) for i in range(1, rng.randint(2, 4))]
    elif kind == "kv_heavy":  # KV cache, not weights, decides the TP
        models = [_model(rng, rng.choice(["llama2-13b", "gemma2-27b"]), 0, dtype="fp8")]
        models[0]["concurrency"], models[0]["context_tokens"] = 32, 8192
        models += [_model(rng, rng.choice(names[:5]), i) for i in range(1, rng.randint(2, 4))]
    else:
        models = [_model(rng, rng.choice(names), i) for i in range(rng.randint(3, 6))]
    case["models"] = models
    return case


def _fit_fleet(rng: random.Random, case: dict[str, Any]) -> dict[str, Any]:
    """Grow the fleet node by node until the reference can place every placeable model."""
    ref = _reference()
    for nodes in range(1, 9):
        case["fleet"]["count"] = 8 * nodes
        try:
            ref.plan(case)
            return case
        except RuntimeError:
            continue
    case["models"] = case["models"][:2]
    return _fit_fleet(rng, case)


def _reference() -> Any:
    spec = importlib.util.spec_from_file_location("_fleet_ref_c",
                                                  Path(__file__).with_name("reference.py"))
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


KINDS = ["mixed", "mixed", "mixed", "tiny_many", "too_big", "kv_heavy"]


def cases(params: dict[str, Any], n: int) -> list[dict[str, Any]]:
    rng = random.Random(f"fleet-cases:{params['case_seed']}")
    out = []
    for i in range(n):
        gpu = rng.choice(list(GPUS))
        kind = KINDS[i % len(KINDS)]
        case = _instance(rng, gpu, kind)
        # extra slack: a node more than strictly needed sometimes, so GPU count matters
        case = _fit_fleet(rng, case)
        if rng.random() < 0.5:
            case["fleet"]["count"] += 8
        case["id"] = f"case-{i:03d}-{kind}"
        out.append(case)
    return out


def example_cases(gpu: str, seed: int) -> list[dict[str, Any]]:
    """Visible examples for the candidate (a separate seed space from the hidden cases)."""
    rng = random.Random(f"fleet-examples:{seed}")
    out = []
    for i, kind in enumerate(["mixed", "tiny_many", "too_big"]):
        case = _fit_fleet(rng, _instance(rng, gpu, kind))
        case["id"] = f"example-{i + 1}-{kind}"
        out.append(case)
    return out
