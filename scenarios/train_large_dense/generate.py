"""Variant data for the large-dense-training design scenario (no artifacts, only parameters).

Each seed draws a *situation* (family) first, then the model, GPU, cluster, sequence length
and batch that situation calls for. Every family changes what the best plan is, so the
textbook layout (TP8 PP4 DP-rest, ZeRO-1, selective recompute) is out of memory, cannot be
laid out, or is clearly slower on most seeds (checks/selftest.py measures how often).

Model shapes and GPU figures are public data-sheet / config.json values; expected answers
are computed by the hardware models at grading time (checks/), never here.
"""

from __future__ import annotations

import random
from typing import Any

# Shapes from the models' published configurations (Hugging Face config.json or paper).
ARCHS: dict[str, dict[str, Any]] = {
    "dense-34b": dict(num_layers=48, hidden_size=8192, num_attention_heads=64, num_kv_heads=8,
                      ffn_hidden_size=22016, vocab_size=32000, gated_mlp=True,
                      tied_embeddings=False, params_b=33.7, shape="Code Llama 34B shape"),
    "llama3-70b": dict(num_layers=80, hidden_size=8192, num_attention_heads=64, num_kv_heads=8,
                       ffn_hidden_size=28672, vocab_size=128256, gated_mlp=True,
                       tied_embeddings=False, params_b=70.6, shape="Llama 3 70B shape"),
    # deep: 95 layers (DeepSeek LLM 67B)
    "deep-67b": dict(num_layers=95, hidden_size=8192, num_attention_heads=64, num_kv_heads=8,
                     ffn_hidden_size=22016, vocab_size=102400, gated_mlp=True,
                     tied_embeddings=False, params_b=67.4, shape="DeepSeek LLM 67B shape, deep"),
    "dense-110b": dict(num_layers=80, hidden_size=8192, num_attention_heads=64, num_kv_heads=8,
                       ffn_hidden_size=49152, vocab_size=152064, gated_mlp=True,
                       tied_embeddings=False, params_b=111.2, shape="Qwen1.5 110B shape"),
    # wide and shallow: Falcon 180B (232 heads, multi-query groups of 29)
    "wide-180b": dict(num_layers=80, hidden_size=14848, num_attention_heads=232, num_kv_heads=8,
                      ffn_hidden_size=59392, vocab_size=65024, gated_mlp=False,
                      tied_embeddings=False, params_b=179.5, shape="Falcon 180B shape, wide"),
    # GPT-3 175B shape with rotary positions; full multi-head attention (no GQA)
    "dense-175b": dict(num_layers=96, hidden_size=12288, num_attention_heads=96, num_kv_heads=96,
                       ffn_hidden_size=49152, vocab_size=50257, gated_mlp=False,
                       tied_embeddings=True, params_b=174.6, shape="GPT-3 175B shape, MHA"),
    "dense-405b": dict(num_layers=126, hidden_size=16384, num_attention_heads=128,
                       num_kv_heads=8, ffn_hidden_size=53248, vocab_size=128256,
                       gated_mlp=True, tied_embeddings=False, params_b=405.9,
                       shape="Llama 3.1 405B shape"),
    # PaLM 540B shape: 118 layers, 48 heads, multi-query attention (one KV head)
    "palm-540b": dict(num_layers=118, hidden_size=18432, num_attention_heads=48, head_dim=256,
                      num_kv_heads=1, ffn_hidden_size=73728, vocab_size=256000,
                      gated_mlp=True, tied_embeddings=True, params_b=540.4,
                      shape="PaLM 540B shape, multi-query attention"),
    # mixture of experts: Mixtral 8x22B (8 experts, top-2)
    "moe-8x22b": dict(num_layers=56, hidden_size=6144, num_attention_heads=48, num_kv_heads=8,
                      ffn_hidden_size=16384, vocab_size=32768, gated_mlp=True,
                      tied_embeddings=False, params_b=140.6, num_experts=8,
                      experts_per_token=2, active_params_b=39.2,
                      shape="Mixtral 8x22B shape, 8 experts top-2"),
    # fine-grained mixture of experts: Qwen3 235B-A22B (128 experts, top-8, 94 layers)
    "moe-235b": dict(num_layers=94, hidden_size=4096, num_attention_heads=64, head_dim=128,
                     num_kv_heads=4, ffn_hidden_size=1536, vocab_size=151936, gated_mlp=True,
                     tied_embeddings=False, params_b=235.1, num_experts=128,
                     experts_per_token=8, active_params_b=22.2,
                     shape="Qwen3 235B-A22B shape, 128 fine-grained experts top-8"),
}
GPUS: dict[str, dict[str, Any]] = {
    "A100-SXM4-40GB": dict(name="NVIDIA A100 SXM4 40 GB", memory_gb=40, hbm_tbs=1.56,
                           bf16_tflops=312, fp8_tflops=None, nvlink_gbs=600,
                           nic="200 Gb/s HDR InfiniBand", nic_gbps=200),
    "A100-SXM4-80GB": dict(name="NVIDIA A100 SXM4 80 GB", memory_gb=80, hbm_tbs=2.0,
                           bf16_tflops=312, fp8_tflops=None, nvlink_gbs=600,
                           nic="200 Gb/s HDR InfiniBand", nic_gbps=200),
    "H100-SXM-80GB": dict(name="NVIDIA H100 SXM5 80 GB", memory_gb=80, hbm_tbs=3.35,
                          bf16_tflops=989, fp8_tflops=1979, nvlink_gbs=900,
                          nic="400 Gb/s NDR InfiniBand", nic_gbps=400),
    "H200-SXM-141GB": dict(name="NVIDIA H200 SXM 141 GB", memory_gb=141, hbm_tbs=4.8,
                           bf16_tflops=989, fp8_tflops=1979, nvlink_gbs=900,
                           nic="400 Gb/s NDR InfiniBand", nic_gbps=400),
    "B200-SXM-180GB": dict(name="NVIDIA B200 180 GB", memory_gb=180, hbm_tbs=8.0,
                           bf16_tflops=2250, fp8_tflops=4500, nvlink_gbs=1800,
                           nic="400 Gb/s NDR InfiniBand", nic_gbps=400),
    "MI300X": dict(name="AMD Instinct MI300X 192 GB", memory_gb=192, hbm_tbs=5.3,
                   bf16_tflops=1307, fp8_tflops=2615, nvlink_gbs=896,
                   nic="400 Gb/s RoCE Ethernet", nic_gbps=400,
                   scale_up="AMD Infinity Fabric (full mesh of 8 GPUs)"),
}

# situation -> models, GPUs, GPU counts, sequence lengths, global batch in Mi tokens
FAMILIES: dict[str, dict[str, list[Any]]] = {
    # 40 GB parts: the state of a big model per GPU does not fit a 32-way model split
    "small_memory": dict(models=["dense-110b", "dense-175b", "wide-180b"],
                         gpus=["A100-SXM4-40GB"], n=[256, 512, 1024],
                         seq=[4096, 8192], batch=[4, 8]),
    # 141-192 GB parts: a mid-size model needs little or no model parallelism
    "big_memory": dict(models=["dense-34b", "llama3-70b", "deep-67b"],
                       gpus=["H200-SXM-141GB", "B200-SXM-180GB", "MI300X"],
                       n=[64, 128, 256, 512], seq=[4096, 8192], batch=[2, 4, 8]),
    # 32k-128k tokens per sequence: activations need context parallelism
    "long_context": dict(models=["dense-34b", "llama3-70b", "dense-110b"],
                         gpus=["H100-SXM-80GB", "H200-SXM-141GB", "B200-SXM-180GB"],
                         n=[256, 512, 1024, 2048], seq=[32768, 65536, 131072],
                         batch=[8, 16]),
    # (a 34B model at 32k still fits a textbook split; its long-context phase is 64k+)
    # thousands of GPUs with a global batch capped by the optimizer recipe
    "batch_limited": dict(models=["llama3-70b", "dense-175b", "dense-405b"],
                          gpus=["H100-SXM-80GB", "B200-SXM-180GB"],
                          n=[4096, 8192, 16384], seq=[4096, 8192], batch=[2, 4, 8]),
    # layer counts and widths that do not suit a 4-stage, 8-way split
    "odd_shape": dict(models=["deep-67b", "dense-405b", "palm-540b"],
                      gpus=["H100-SXM-80GB", "H200-SXM-141GB", "B200-SXM-180GB"],
                      n=[512, 1024, 2048], seq=[4096, 8192], batch=[4, 8, 16]),
    # mixture of experts: expert parallelism instead of a dense layout. The hardware model's
    # MoE step times are optimistic (docs/hw.md: about +29% median against Megatron-Core's
    # published runs), so these variants rank plans more reliably than they time them.
    "moe": dict(models=["moe-8x22b", "moe-235b"], gpus=["H100-SXM-80GB", "H200-SXM-141GB"],
                n=[256, 512, 1024], seq=[4096, 8192], batch=[4, 8]),
    # a small allocation
    "small_cluster": dict(models=["dense-34b", "llama3-70b"],
                          gpus=["H200-SXM-141GB", "B200-SXM-180GB", "MI300X"],
                          n=[64, 128], seq=[4096, 8192], batch=[1, 2]),
}
FAMILY_WEIGHTS = {"small_memory": 1.0, "big_memory": 1.0, "long_context": 1.0,
                  "batch_limited": 1.0, "odd_shape": 1.0, "moe": 0.7, "small_cluster": 0.8}
FEW_NICS_SHARE = 0.3  # share of seeds on cloud nodes whose 8 GPUs share 2 or 4 NICs
# Allocations are not always a power of two nodes (48, 96 or 40 nodes): then DP cannot take
# the odd factor (the batch is a power of two sequences) and it must go into the pipeline.
ODD_SIZE_SHARE = 0.5
ODD_SIZE_FAMILIES = ("big_memory", "small_cluster")


def draw(seed: int) -> dict[str, Any]:
    """The situation of one seed: family, model, GPU, cluster, sequence and batch."""
    rng = random.Random(f"train-large-dense/{seed}/situation")
    names = sorted(FAMILIES)
    family = rng.choices(names, weights=[FAMILY_WEIGHTS[f] for f in names])[0]
    f = FAMILIES[family]
    model = rng.choice(f["models"])
    gpu = rng.choice(f["gpus"])
    n = rng.choice(f["n"])
    seq = rng.choice(f["seq"])
    if model == "dense-34b" and family == "long_context":
        seq = max(seq, 65536)
    batch = rng.choice(f["batch"])
    if family in ODD_SIZE_FAMILIES and rng.random() < ODD_SIZE_SHARE:
        layers = ARCHS[model]["num_layers"]
        odd = 3 if layers % 3 == 0 else 5 if layers % 5 == 0 else 1
        n = n * odd // 4 if n * odd // 4 >= 64 else n * odd // 2
    nics = 8
    if gpu != "MI300X" and rng.random() < FEW_NICS_SHARE:
        nics = rng.choice([2, 4])
    return dict(family=family, model_name=model, gpu=gpu, num_gpus=n, seq_len=seq,
                global_batch_mtokens=batch, nics_per_node=nics)


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    s = draw(seed)
    arch = dict(ARCHS[s["model_name"]])
    spec = dict(GPUS[s["gpu"]])
    nics = s["nics_per_node"]
    spec["nics_per_node"] = nics
    spec["node_network"] = (f"{nics} x {spec['nic']} per node"
                            + (" (one per GPU, rail-optimized)" if nics == 8
                               else f" shared by the 8 GPUs ({8 // nics} GPUs per NIC)"))
    spec["node_scaleout_gbs"] = nics * spec["nic_gbps"] // 8
    spec.setdefault("scale_up", "NVLink/NVSwitch")
    tokens = s["global_batch_mtokens"] * 2**20
    return {
        "params": {
            **{k: s[k] for k in ("family", "model_name", "gpu", "num_gpus", "seq_len",
                                 "global_batch_mtokens", "nics_per_node")},
            "arch": arch,
            "num_nodes": s["num_gpus"] // 8,
            "global_batch_seqs": tokens // s["seq_len"],
            "gpu_spec": spec,
        },
        "artifacts": {},
    }
