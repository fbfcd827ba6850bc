"""Variant data for the large-dense-training design scenario (no artifacts, only parameters).

Model shapes and GPU figures are public data-sheet values; expected answers are computed by
the hardware models at grading time (checks/), never here.
"""

from __future__ import annotations

from typing import Any

ARCHS: dict[str, dict[str, Any]] = {
    "dense-34b": dict(num_layers=48, hidden_size=8192, num_attention_heads=64, num_kv_heads=8,
                      ffn_hidden_size=22016, vocab_size=32000, gated_mlp=True,
                      tied_embeddings=False, params_b=33.7),
    "llama3-70b": dict(num_layers=80, hidden_size=8192, num_attention_heads=64, num_kv_heads=8,
                       ffn_hidden_size=28672, vocab_size=128256, gated_mlp=True,
                       tied_embeddings=False, params_b=70.6),
    "dense-110b": dict(num_layers=80, hidden_size=8192, num_attention_heads=64, num_kv_heads=8,
                       ffn_hidden_size=49152, vocab_size=152064, gated_mlp=True,
                       tied_embeddings=False, params_b=111.2),
    # GPT-3 175B shape, with rotary positions (the run uses sequences beyond GPT-3's 2048)
    "dense-175b": dict(num_layers=96, hidden_size=12288, num_attention_heads=96, num_kv_heads=96,
                       ffn_hidden_size=49152, vocab_size=50257, gated_mlp=False,
                       tied_embeddings=True, params_b=174.6),
}
GPUS: dict[str, dict[str, Any]] = {
    "A100-SXM4-80GB": dict(name="NVIDIA A100 SXM4 80 GB", memory_gb=80, hbm_tbs=2.0,
                          bf16_tflops=312, fp8_tflops=None, nvlink_gbs=600,
                          node_network="8 x 200 Gb/s HDR InfiniBand"),
    "H100-SXM-80GB": dict(name="NVIDIA H100 SXM5 80 GB", memory_gb=80, hbm_tbs=3.35,
                          bf16_tflops=989, fp8_tflops=1979, nvlink_gbs=900,
                          node_network="8 x 400 Gb/s NDR InfiniBand"),
    "H200-SXM-141GB": dict(name="NVIDIA H200 SXM 141 GB", memory_gb=141, hbm_tbs=4.8,
                           bf16_tflops=989, fp8_tflops=1979, nvlink_gbs=900,
                           node_network="8 x 400 Gb/s NDR InfiniBand"),
}


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    tokens = params["global_batch_mtokens"] * 2**20
    return {
        "params": {
            "arch": dict(ARCHS[params["model_name"]]),
            "num_nodes": params["num_gpus"] // 8,
            "global_batch_seqs": tokens // params["seq_len"],
            "gpu_spec": dict(GPUS[params["gpu"]]),
        },
        "artifacts": {},
    }
