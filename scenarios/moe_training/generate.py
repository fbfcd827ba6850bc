"""Variant data for the mixture-of-experts training design scenario (parameters only).

Each seed draws a MoE model (a coarse 8-expert top-2 shape, a fine-grained 128-expert top-8
shape, or a 256-expert top-8 DeepSeek-V3-class shape), a GPU (H100, H200 or B200, nodes of
8 on NVLink), the inter-node fabric (400 Gb/s per GPU, NDR InfiniBand or RoCE), the GPU
count (256, 1,024 or 4,096), sequence length, global batch, and the routing imbalance a
pilot run measured. Expected answers come from the hardware models at grading time
(checks/), never from here.
"""

from __future__ import annotations

import random
from typing import Any

# Shapes from the published configurations (Hugging Face config.json); the DeepSeek-V3
# class is simplified to what the training model represents (every layer MoE, 64 equal
# layers, multi-head attention instead of MLA, no shared expert).
ARCHS: dict[str, dict[str, Any]] = {
    "mixtral-8x22b": dict(num_layers=56, hidden_size=6144, num_attention_heads=48,
                          num_kv_heads=8, head_dim=128, ffn_hidden_size=16384,
                          vocab_size=32768, num_experts=8, experts_per_token=2,
                          params_b=140.6, active_params_b=39.2,
                          shape="Mixtral 8x22B shape: 8 experts, top-2"),
    "qwen3-235b-a22b": dict(num_layers=94, hidden_size=4096, num_attention_heads=64,
                            num_kv_heads=4, head_dim=128, ffn_hidden_size=1536,
                            vocab_size=151936, num_experts=128, experts_per_token=8,
                            params_b=235.1, active_params_b=22.2,
                            shape="Qwen3 235B-A22B shape: 128 fine-grained experts, top-8"),
    "dsv3-class-750b": dict(num_layers=64, hidden_size=7168, num_attention_heads=128,
                            num_kv_heads=128, head_dim=128, ffn_hidden_size=2048,
                            vocab_size=129280, num_experts=256, experts_per_token=8,
                            params_b=753.6, active_params_b=54.6,
                            shape="DeepSeek-V3 class, simplified: 256 experts, top-8, "
                                  "64 identical MoE layers, multi-head attention, "
                                  "no shared expert"),
}
GPUS: dict[str, dict[str, Any]] = {
    "H100-SXM-80GB": dict(name="NVIDIA H100 SXM5 80 GB", memory_gb=80, hbm_tbs=3.35,
                          bf16_tflops=989, nvlink_gbs=900, scale_up="NVLink 4 / NVSwitch"),
    "H200-SXM-141GB": dict(name="NVIDIA H200 SXM 141 GB", memory_gb=141, hbm_tbs=4.8,
                           bf16_tflops=989, nvlink_gbs=900, scale_up="NVLink 4 / NVSwitch"),
    "B200-SXM-180GB": dict(name="NVIDIA B200 180 GB", memory_gb=180, hbm_tbs=8.0,
                           bf16_tflops=2250, nvlink_gbs=1800, scale_up="NVLink 5 / NVSwitch"),
}
# hardware-model link name -> what the prompt calls it
FABRICS = {"IB-NDR": "400 Gb/s NDR InfiniBand (ConnectX-7)",
           "RoCE-400G": "400 Gb/s RoCEv2 Ethernet (ConnectX-7)"}
# model -> GPU counts it is drawn on (the 750B class needs 1,024 GPUs' memory)
SIZES = {"mixtral-8x22b": [256, 1024], "qwen3-235b-a22b": [256, 1024, 4096],
         "dsv3-class-750b": [1024, 4096]}
BATCH_MTOKENS = {256: [4, 8], 1024: [8, 16], 4096: [16, 32]}
# busiest EP rank's tokens over the mean; k * X stays whole (the model's top-k scaled)
IMBALANCE = {2: [1.5, 2.0], 8: [1.25, 1.5, 2.0]}


def draw(seed: int) -> dict[str, Any]:
    rng = random.Random(f"moe-training/{seed}/situation")
    model = rng.choice(sorted(ARCHS))
    gpu = rng.choice(sorted(GPUS))
    n = rng.choice(SIZES[model])
    fabric = rng.choice(sorted(FABRICS))
    seq = rng.choice([4096, 8192])
    batch = rng.choice(BATCH_MTOKENS[n])
    imbalance = rng.choice(IMBALANCE[ARCHS[model]["experts_per_token"]])
    return dict(model_name=model, gpu=gpu, num_gpus=n, fabric=fabric, seq_len=seq,
                global_batch_mtokens=batch, imbalance=imbalance)


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    s = draw(seed)
    spec = {**GPUS[s["gpu"]], "fabric": FABRICS[s["fabric"]]}
    tokens = s["global_batch_mtokens"] * 2**20
    return {
        "params": {
            **s,
            "arch": dict(ARCHS[s["model_name"]]),
            "gpu_spec": spec,
            "num_nodes": s["num_gpus"] // 8,
            "global_batch_seqs": tokens // s["seq_len"],
        },
        "artifacts": {},
    }
