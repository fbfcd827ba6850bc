"""Expected values for this variant that do not depend on the candidate's design (hidden),
for the write-up's claims.

Design-dependent numbers (ITL, TTFT, concurrency, replicas, cost) are judged by the plan
criteria through checks/model_input.py against the candidate's own configuration; the
cheapest design is slo_model.cheapest(params).
"""

from __future__ import annotations

from typing import Any


def kv_bytes_per_token(params: dict[str, Any], dtype_bytes: int = 2) -> int:
    m = params["model"]
    return int(2 * m["num_layers"] * m["num_kv_heads"] * m["head_dim"] * dtype_bytes)


def answer_key(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "output_tokens_per_s": params["rate_rps"] * params["output_len"],
        "prefill_tokens_per_s": params["rate_rps"] * params["prompt_len"],
        "kv_kib_per_token_bf16": kv_bytes_per_token(params) / 1024,
        "kv_mib_per_request_bf16": kv_bytes_per_token(params)
        * (params["prompt_len"] + params["output_len"]) / 2**20,
        "weights_gb_bf16": round(params["model"]["params_b"] * 2, 1),
    }
