"""Per-variant self-check (hidden): the variant is well-posed and, once the hardware models
are installed, the plan search finds at least one plan that fits."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any


def check(variant: Any) -> list[str]:
    p = variant.params
    problems = []
    if (p["global_batch_mtokens"] * 2**20) % p["seq_len"]:
        problems.append("global batch is not a whole number of sequences")
    if p["num_gpus"] % 8:
        problems.append("GPU count is not a whole number of nodes")
    if p["arch"]["num_attention_heads"] % p["arch"]["num_kv_heads"]:
        problems.append("attention heads not a multiple of KV heads")
    try:
        from graders.hw import ModelSpec, search_training
    except ImportError:
        return problems  # hardware models not merged yet: structural checks only
    spec = importlib.util.spec_from_file_location(
        "_tld_model_input", Path(__file__).with_name("model_input.py"))
    assert spec and spec.loader
    mi = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mi)
    try:
        res = search_training(ModelSpec.model_validate(mi.model_dict(p)), mi.cluster_dict(p),
                              p["global_batch_seqs"], p["seq_len"], top=1)
    except Exception as exc:  # API drift must show up here, not at grading time
        return [*problems, f"search_training failed: {type(exc).__name__}: {exc}"]
    if not res.feasible:
        problems.append("the plan search finds no plan that fits this variant")
    return problems
