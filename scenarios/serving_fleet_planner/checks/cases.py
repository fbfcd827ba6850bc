"""Hidden test cases for the fleet planner: cases(params, n) -> list of instances.

Deterministic in the variant's parameters (hidden case_seed). Every generated fleet has room
for all models that fit on their own, so the only infeasible models are those too large
for any allowed TP on one node. A fixed share of the cases are edge cases, and half of them
punish a shortcut, each checked when the case is made (checks/naive.py):

- activation: models with activation and workspace memory; the reference's own plan with
  those terms left out overflows a GPU.
- small_nodes: four GPUs per node and a model that fits only with TP 8, so it is
  infeasible; a planner that lets a tensor-parallel group cross nodes places it.
- hetero: nodes of different GPUs; first fit in input order scores below the reference
  (small models take the big GPUs a big model needs, or it needs more GPUs).
"""

from __future__ import annotations

import json
import random
from typing import Any

from scenarios.hooks import sibling

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
# GPUs of the shortcut cases only (the older kinds draw from GPUS as before).
MORE_GPUS = {"A100-SXM4-40GB": 40, "L40S-48GB": 48, "H100-SXM-80GB": 80,
             "H200-SXM-141GB": 141}
TRIES = 40  # attempts at a shortcut case before the last one is kept as it is
DTYPES = {"bf16": 2.0, "fp8": 1.0, "int4-awq": 0.5}


def _judge() -> Any:
    return sibling(__file__, "judge.py")


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
    fleet = case["fleet"]
    pattern = [dict(n) for n in fleet.get("nodes", [])]
    for nodes in range(1, 9):
        if pattern:
            fleet["nodes"] = [dict(n) for _ in range(nodes) for n in pattern]
            fleet["count"] = sum(n["gpus"] for n in fleet["nodes"])
        else:
            fleet["count"] = max(8, fleet["gpus_per_node"] * nodes)
        try:
            ref.plan(case)
            return case
        except RuntimeError:
            continue
    if pattern:
        fleet["nodes"] = pattern
    case["models"] = case["models"][:2]
    return _fit_fleet(rng, case)


def _hidden(rng: random.Random, params_b: float, heads: int, head_dim: int
            ) -> dict[str, Any]:
    """Activation and workspace memory of one forward step (chunked prefill of
    max_batch_tokens tokens): a few hidden-size vectors per token, plus library workspace."""
    hidden = heads * head_dim
    return {"max_batch_tokens": rng.choice([8192, 16384, 32768]),
            "activation_bytes_per_token": hidden * 2 * rng.choice([8, 12, 16]),
            "workspace_gib": rng.choice([1.0, 1.5, 2.0, 3.0])}


def _with_activation(model: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    base = next(k for k in CATALOG if model["name"].startswith(k + "-"))
    params_b, _layers, _kv, head_dim, heads = CATALOG[base]
    model.update(_hidden(rng, params_b, heads, head_dim))
    return model


def _strip_activation(case: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(case))
    for m in out["models"]:
        for key in ("max_batch_tokens", "activation_bytes_per_token", "workspace_gib"):
            m.pop(key, None)
    return out


def _punishes(case: dict[str, Any], kind: str) -> bool:
    """Whether the case catches the shortcut its kind is for (see the module docstring)."""
    judge, ref = _judge(), _reference()
    truth = ref.reference(case)
    if kind == "activation":
        try:
            naive = ref.plan(_strip_activation(case))
        except RuntimeError:
            return True
        return not judge.judge(case, naive, truth)["valid"]
    if kind == "small_nodes":
        wide = dict(case, fleet=dict(case["fleet"], gpus_per_node=8))
        return any(m["name"] in truth["infeasible"] and 8 in judge.fits_alone(m, wide)
                   for m in case["models"]) and \
            not judge.judge(case, _naive().crossing(case), truth)["valid"]
    if kind == "hetero":
        verdict = judge.judge(case, _naive().first_fit(case), truth)
        return float(verdict["score"]) < 1.0
    return True


def _shortcut_instance(rng: random.Random, kind: str) -> dict[str, Any]:
    case: dict[str, Any] = {}
    for _ in range(TRIES):
        case = _shortcut_try(rng, kind)
        case = _fit_fleet(rng, case)
        if rng.random() < 0.3:
            _extra_node(case)
        if _punishes(case, kind):
            break
    return case


def _extra_node(case: dict[str, Any]) -> None:
    fleet = case["fleet"]
    if "nodes" in fleet:
        fleet["nodes"].append(dict(fleet["nodes"][-1]))
        fleet["count"] = sum(n["gpus"] for n in fleet["nodes"])
    else:
        fleet["count"] += fleet["gpus_per_node"]


def _shortcut_try(rng: random.Random, kind: str) -> dict[str, Any]:
    names = list(CATALOG)
    case: dict[str, Any] = {
        "reserve_gib": rng.choice([3.0, 4.0, 5.0]),
        "overhead_gib": rng.choice([1.0, 1.5, 2.0]),
        "objective": "min_gpus",
    }
    if kind == "activation":
        gpu = rng.choice(list(GPUS))
        case["fleet"] = {"gpu": gpu, "memory_gib": GPUS[gpu], "count": 8, "gpus_per_node": 8}
        models = [_with_activation(_model(rng, rng.choice(names[:7]), i), rng)
                  for i in range(rng.randint(3, 5))]
    elif kind == "small_nodes":
        gpu = rng.choice(["A100-SXM4-40GB", "L40S-48GB", "H100-SXM-80GB"])
        case["fleet"] = {"gpu": gpu, "memory_gib": MORE_GPUS[gpu], "count": 8,
                         "gpus_per_node": 4}
        big = {"A100-SXM4-40GB": "llama3-70b", "L40S-48GB": "llama3-70b",
               "H100-SXM-80GB": "llama3-405b"}[gpu]
        dtype = "bf16" if big == "llama3-70b" else rng.choice(["fp8", "int4-awq"])
        models = [_model(rng, big, 0, dtype=dtype)]
        models += [_model(rng, rng.choice(names[:5]), i) for i in range(1, rng.randint(3, 5))]
    else:  # hetero
        kinds = rng.sample(list(MORE_GPUS), 2)
        nodes = [{"gpu": g, "memory_gib": MORE_GPUS[g], "gpus": rng.choice([4, 8])}
                 for g in kinds]
        case["fleet"] = {"nodes": nodes, "count": sum(n["gpus"] for n in nodes)}
        models = [_model(rng, rng.choice(names[:5]), i) for i in range(rng.randint(2, 4))]
        models.insert(rng.randint(0, len(models)),
                      _model(rng, rng.choice(["llama3-70b", "qwen2-72b"]), len(models)))
        for m in models:
            if rng.random() < 0.5:
                _with_activation(m, rng)
    case["models"] = models
    return case


def _reference() -> Any:
    return sibling(__file__, "reference.py")


def _naive() -> Any:
    return sibling(__file__, "naive.py")


KINDS = ["mixed", "activation", "small_nodes", "hetero", "mixed", "tiny_many", "activation",
         "too_big", "small_nodes", "kv_heavy", "hetero", "mixed"]
SHORTCUT_KINDS = {"activation", "small_nodes", "hetero"}


def cases(params: dict[str, Any], n: int) -> list[dict[str, Any]]:
    rng = random.Random(f"fleet-cases:{params['case_seed']}")
    out = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        if kind in SHORTCUT_KINDS:
            case = _shortcut_instance(rng, kind)
        else:
            gpu = rng.choice(list(GPUS))
            case = _instance(rng, gpu, kind)
            # extra slack: a node more than strictly needed sometimes, so GPU count matters
            case = _fit_fleet(rng, case)
            if rng.random() < 0.5:
                case["fleet"]["count"] += 8
        case["id"] = f"case-{i:03d}-{kind}"
        out.append(case)
    return out


def summary(case: dict[str, Any]) -> str:
    """One line for the report: the fleet, the models and what makes the case hard."""
    fleet = case["fleet"]
    if "nodes" in fleet:
        where = " + ".join(f"{n['gpus']}x{n['gpu']}" for n in fleet["nodes"])
    else:
        where = (f"{fleet['count'] // fleet['gpus_per_node']} nodes x "
                 f"{fleet['gpus_per_node']} {fleet['gpu']}")
    models = ", ".join(
        f"{m['name']} ({m['params_b']:g}B, {m['concurrency']}x{m['context_tokens']} tokens"
        + (f", {m['max_batch_tokens']}-token batches" if m.get("max_batch_tokens") else "")
        + ")" for m in case["models"])
    return (f"{where}; reserve {case['reserve_gib']:g} GiB, "
            f"overhead {case['overhead_gib']:g} GiB; {len(case['models'])} models: {models}")


def example_cases(gpu: str, seed: int) -> list[dict[str, Any]]:
    """Visible examples for the candidate (a separate seed space from the hidden cases).
    The first three are as they always were; the last two show the fleet of different
    nodes and the activation/workspace fields (their own seed stream)."""
    rng = random.Random(f"fleet-examples:{seed}")
    out = []
    for i, kind in enumerate(["mixed", "tiny_many", "too_big"]):
        case = _fit_fleet(rng, _instance(rng, gpu, kind))
        case["id"] = f"example-{i + 1}-{kind}"
        out.append(case)
    more = random.Random(f"fleet-examples-2:{seed}")
    for i, kind in enumerate(["hetero", "activation"], start=len(out) + 1):
        case = _fit_fleet(more, _shortcut_try(more, kind))
        case["id"] = f"example-{i}-{kind}"
        out.append(case)
    return out
