"""Closed-form counts for a decoder-only transformer: parameters, FLOPs, memory.

Every function here is a formula with a published source (see docs/hw.md); no
efficiency terms live in this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from graders.hw.catalog import ModelSpec

GIB = 2**30

Recompute = Literal["none", "selective", "full"]
AttentionImpl = Literal["flash", "flash2", "standard"]
AttentionFlops = Literal["full", "causal"]


@dataclass(frozen=True)
class ParamCount:
    """Parameter counts of a model, split the way sharding needs them."""

    total: int
    active: int  # per token (MoE: only top-k experts)
    per_layer: int
    per_layer_active: int
    embedding: int  # input token table (+ learned positions)
    output_layer: int  # separate LM head, 0 when tied
    final_norm: int
    largest_layer: int  # the biggest single module, for ZeRO-3 prefetch buffers
    matmul_per_layer_active: int  # weights that take part in a GEMM per token
    expert_mlp: int  # one expert's MLP


@lru_cache(maxsize=256)
def count_params(m: ModelSpec) -> ParamCount:
    """Parameter count (Megatron 2021 eq.(2) generalised to GQA, gated MLP, MoE)."""
    h, dh, a, kv, f = m.hidden_size, m.d_head, m.num_attention_heads, m.kv_heads, m.ffn
    q_out, kv_out = a * dh, kv * dh
    attn = h * q_out + 2 * h * kv_out + q_out * h
    if m.bias:
        attn += q_out + 2 * kv_out + h
    mlp = (3 if m.gated_mlp else 2) * h * f
    if m.bias:
        mlp += (2 * f if m.gated_mlp else f) + h
    norm = 2 * h if m.norm == "layernorm" else h
    router = h * m.num_experts if m.num_experts > 1 else 0
    per_layer = attn + m.num_experts * mlp + router + 2 * norm
    per_layer_active = attn + m.experts_per_token * mlp + router + 2 * norm
    embedding = m.vocab_size * h + (m.max_position_embeddings or 0) * h
    output = 0 if m.tied_embeddings else m.vocab_size * h
    matmul_attn = h * q_out + 2 * h * kv_out + q_out * h
    matmul_mlp = (3 if m.gated_mlp else 2) * h * f
    matmul_active = matmul_attn + m.experts_per_token * matmul_mlp + router
    total = m.num_layers * per_layer + embedding + output + norm
    active = m.num_layers * per_layer_active + embedding + output + norm
    return ParamCount(
        total=total,
        active=active,
        per_layer=per_layer,
        per_layer_active=per_layer_active,
        embedding=embedding,
        output_layer=output,
        final_norm=norm,
        largest_layer=max(m.vocab_size * h, matmul_mlp, matmul_attn),
        matmul_per_layer_active=matmul_active,
        expert_mlp=mlp,
    )


@dataclass(frozen=True)
class TokenFlops:
    """Forward FLOPs per token, by part (multiply by 3 for forward + backward)."""

    layer_gemm: float  # per layer: QKV, O, MLP (active experts), router
    layer_attention: float  # per layer: QK^T and AV (score FLOPs)
    logits: float  # LM head


def token_flops(m: ModelSpec, seq_len: int, attention: AttentionFlops = "full") -> TokenFlops:
    """Forward FLOPs per token (Megatron-Core `num_floating_point_operations` convention).

    attention="full" counts the whole s x s score matrix (Korthikanti App. A, PaLM,
    NeMo 24.07); "causal" counts half of it (Megatron-Bridge 25.09+).
    """
    c = 1.0 if attention == "full" else 0.5
    return TokenFlops(
        layer_gemm=2.0 * count_params(m).matmul_per_layer_active,
        layer_attention=4.0 * seq_len * m.num_attention_heads * m.d_head * c,
        logits=2.0 * m.hidden_size * m.vocab_size,
    )


def model_flops_per_token(m: ModelSpec, seq_len: int, attention: AttentionFlops = "full") -> float:
    """Model FLOPs per trained token, forward + backward, no recompute (MFU numerator)."""
    tf = token_flops(m, seq_len, attention)
    return 3.0 * (m.num_layers * (tf.layer_gemm + tf.layer_attention) + tf.logits)


def recompute_flops_per_token(
    m: ModelSpec, seq_len: int, recompute: Recompute, attention: AttentionFlops = "full"
) -> float:
    """Extra forward FLOPs per token spent on activation recomputation (HFU - MFU)."""
    tf = token_flops(m, seq_len, attention)
    if recompute == "full":
        # One more forward of every layer; the logit layer is not recomputed.
        return m.num_layers * (tf.layer_gemm + tf.layer_attention)
    if recompute == "selective":
        # Only the attention core (QK^T, softmax, dropout, AV) is recomputed. Charged as
        # Korthikanti et al. do: the attention-score term once more (forward + backward),
        # which reproduces their published HFU = MFU x (1 + s/6h) (52.8 from 51.4, 57.0
        # from 56.3). The step-time model charges the physical extra forward instead.
        return 3.0 * m.num_layers * tf.layer_attention
    return 0.0


def megatron_96_flops(
    batch: int, seq_len: int, layers: int, hidden: int, vocab: int
) -> float:
    """Narayanan et al. 2021 eq.(3): FLOPs per iteration incl. full recompute."""
    return (
        96.0 * batch * seq_len * layers * hidden**2
        * (1 + seq_len / (6 * hidden) + vocab / (16 * layers * hidden))
    )


def korthikanti_72_flops(
    batch: int, seq_len: int, layers: int, hidden: int, vocab: int
) -> float:
    """Korthikanti et al. 2022 App. A: model FLOPs per iteration (no recompute)."""
    return (
        72.0 * batch * seq_len * layers * hidden**2
        * (1 + seq_len / (6 * hidden) + vocab / (12 * layers * hidden))
    )


def activation_bytes_per_token_layer(
    m: ModelSpec,
    seq_len: int,
    tp: int,
    sequence_parallel: bool,
    recompute: Recompute,
    attention_impl: AttentionImpl,
    fp8: bool = False,
) -> float:
    """Activation bytes stored per token per layer per GPU (Korthikanti 2022 Table 2).

    16-bit activations, 1-byte dropout masks. Generalised: the attention part scales
    with the query/KV widths (GQA) and the MLP part with ffn (gated MLP stores gate and
    up projections). Fused ("flash", "flash2") attention stores no s x s scores (like
    selective recompute). Models trained without dropout store no masks. Under FP8,
    Transformer Engine saves each GEMM's input as its 1-byte FP8 cast (QKV, projection,
    FC1 and FC2 inputs). For MHA, 4h GeLU, 16-bit, with dropout, this is exactly
    s*b*h*(10 + 24/t + 5*a*s/(h*t)) / (s*b).
    """
    h = m.hidden_size
    sp_div = tp if sequence_parallel else 1
    if recompute == "full":
        return 2.0 * h / sp_div
    gemm_in = 1.0 if fp8 else 2.0  # bytes per saved GEMM input element
    # Replicated region: 2 norm inputs (4h), QKV and MLP inputs, 2 dropout masks (2h).
    replicated = 4.0 * h + 2.0 * gemm_in * h + (2.0 * h if m.dropout else 0.0)
    q, kvw = m.num_attention_heads * m.d_head, m.kv_heads * m.d_head
    attn = 2.0 * q + 4.0 * kvw + gemm_in * q  # Q, K, V, projection input
    f = m.ffn
    mlp = ((4.0 if m.gated_mlp else 2.0) * f + gemm_in * f) * m.experts_per_token
    scores = 0.0
    if recompute == "none" and attention_impl == "standard":
        # softmax output (2 B) + dropout mask (1 B) + dropout output (2 B) per score
        scores = (5.0 if m.dropout else 2.0) * m.num_attention_heads * seq_len
    return replicated / sp_div + (attn + mlp + scores) / tp


def interleave_memory_factor(pp: int, virtual_stages: int) -> float:
    """First-stage activation multiplier of the interleaved 1F1B schedule."""
    if pp == 1 or virtual_stages == 1:
        return 1.0
    return 1.0 + (pp - 1) / (pp * virtual_stages)


def bubble_fraction(pp: int, microbatches: int, virtual_stages: int = 1) -> float:
    """Pipeline bubble time relative to ideal compute: (p-1)/(v*m) (Megatron 2021 §2.2)."""
    return (pp - 1) / (virtual_stages * microbatches)


@dataclass(frozen=True)
class StateBytes:
    """Bytes per parameter of model state, before sharding."""

    weights: float
    gradients: float
    optimizer: float


def state_bytes_per_param(precision: str, fp32_grads: bool) -> StateBytes:
    """Mixed-precision Adam: 16-bit weights, 2 or 4 B grads, fp32 master + m + v = 12 B.

    fp16 with 16-bit grads is ZeRO's 16 B/param; bf16 with fp32 grads is Megatron's 18.
    """
    del precision  # fp8 training keeps bf16 weights and fp32 master copies as well
    return StateBytes(weights=2.0, gradients=4.0 if fp32_grads else 2.0, optimizer=12.0)


def zero_sharded_bytes(
    params: float, state: StateBytes, zero_stage: int, shard: int
) -> tuple[float, float, float]:
    """(weights, grads, optimizer) bytes on one GPU under ZeRO stage 0-3 over `shard` ranks."""
    w = params * state.weights
    g = params * state.gradients
    o = params * state.optimizer
    if zero_stage >= 1:
        o /= shard
    if zero_stage >= 2:
        g /= shard
    if zero_stage >= 3:
        w /= shard
    return w, g, o


def deepspeed_zero3_gpu_bytes(
    params: float, largest_layer: float, num_gpus: int, offload: str = "none"
) -> float:
    """DeepSpeed `estimate_zero3_model_states_mem_needs` per-GPU bytes.

    offload: "none" -> 4*largest + 18*P/n; "optimizer" -> 4*largest + 2*P/n;
    "all" (params and optimizer) -> 4*largest.
    """
    per_param = {"none": 18.0, "optimizer": 2.0, "all": 0.0}[offload]
    return 4.0 * largest_layer + per_param * params / num_gpus


def accelerate_adam_training_bytes(params: float, dtype_bytes: float) -> float:
    """HF accelerate's heuristic: Adam training ~ 4x model size (under-counts mixed precision)."""
    return 4.0 * params * dtype_bytes


CHECKPOINT_BYTES_PER_PARAM = 14.0  # 16-bit weights 2 + fp32 master 4 + Adam m, v 8


def checkpoint_bytes(params: float) -> float:
    """Full training checkpoint size: ~14 B/param (Megatron 1T -> 13.8 TB)."""
    return CHECKPOINT_BYTES_PER_PARAM * params


def mfu_from_throughput(
    m: ModelSpec,
    seq_len: int,
    tokens_per_s: float,
    num_gpus: int,
    peak_tflops: float,
    attention: AttentionFlops = "full",
) -> float:
    """MFU of a measured run: tokens/s x model FLOPs per token / (GPUs x peak) (PaLM §4.1)."""
    return tokens_per_s * model_flops_per_token(m, seq_len, attention) / (
        num_gpus * peak_tflops * 1e12
    )


def megatron_training_days(
    params: float, tokens: float, num_gpus: int, tflops_per_gpu: float, recompute: bool = True
) -> float:
    """Narayanan et al. 2021 eq.(4): T = 8TP/(nX) with recompute (6TP/(nX) without), days."""
    factor = 8.0 if recompute else 6.0
    return factor * tokens * params / (num_gpus * tflops_per_gpu * 1e12) / 86400.0


def days_for_tokens(tokens: float, tokens_per_s_per_gpu: float, num_gpus: int) -> float:
    """Wall-clock days to train `tokens` at a per-GPU token rate."""
    return tokens / (tokens_per_s_per_gpu * num_gpus) / 86400.0
