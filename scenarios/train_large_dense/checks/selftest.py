"""Per-variant self-check (hidden): the variant is well-posed and, once the hardware models
are installed, at least one plan fits and the model agrees with itself."""

from __future__ import annotations

from typing import Any


def check(variant: Any) -> list[str]:
    p = variant.params
    problems = []
    tokens = p["global_batch_mtokens"] * 2**20
    if tokens % p["seq_len"]:
        problems.append("global batch is not a whole number of sequences")
    if p["num_gpus"] % 8:
        problems.append("GPU count is not a whole number of nodes")
    if p["arch"]["num_attention_heads"] % p["arch"]["num_kv_heads"]:
        problems.append("attention heads not a multiple of KV heads")
    try:
        from graders.hw import TrainingInput, search_training
    except ImportError:
        return problems  # hardware models not merged yet: structural checks only

    base = {"model": {k: p["arch"][k] for k in (
        "num_layers", "hidden_size", "num_attention_heads", "num_kv_heads", "ffn_hidden_size",
        "vocab_size", "gated_mlp", "tied_embeddings")},
        "cluster": {"gpu": p["gpu"], "num_gpus": p["num_gpus"], "gpus_per_node": 8}}
    try:
        best = search_training(TrainingInput.model_validate({**base, "plan": {
            "tp": 8, "pp": 1, "dp": p["num_gpus"] // 8, "cp": 1, "virtual_stages": 1,
            "micro_batch_size": 1, "global_batch_size": p["global_batch_seqs"],
            "seq_len": p["seq_len"], "zero_stage": 1, "recompute": "selective",
            "sequence_parallel": True, "precision": "bf16"}}))
    except Exception as exc:  # API drift must show up in selftest, not be hidden
        return [*problems, f"search_training failed: {type(exc).__name__}: {exc}"]
    if not best or not getattr(best[0] if isinstance(best, list) else best, "fits", True):
        problems.append("no plan fits this variant according to search_training")
    return problems
