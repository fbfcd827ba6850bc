"""Serving estimate: weights, KV cache, pool capacity (vLLM's rule), roofline latencies."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graders.hw.catalog import GpuName, ModelRef, ModelSpec, get_gpu, get_link, get_model
from graders.hw.collectives import collective_time, effective_busbw
from graders.hw.inputs import MAX_TOKENS, HwInput
from graders.hw.problem import Problem
from graders.hw.transformer import GIB, count_params

WeightDtype = Literal["fp32", "bf16", "fp16", "fp8", "int8", "int4"]
KvDtype = Literal["fp32", "bf16", "fp16", "fp8"]

DTYPE_BYTES: dict[str, float] = {
    "fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5,
}
DEFAULT_NON_TORCH_GIB = 0.5  # NCCL/cuBLAS workspaces outside PyTorch's allocator (vLLM logs)


class ServingInput(HwInput):
    """One model served on `tp` GPUs with a paged KV cache."""

    model_config = ConfigDict(extra="forbid")

    model: ModelRef = Field(description="Model preset name or an architecture.")
    gpu: GpuName = Field(description="GPU catalog name or alias.")
    tp: int = Field(default=1, ge=1, description="Tensor-parallel degree (GPUs per replica).")
    weight_dtype: WeightDtype = Field(
        default="bf16",
        description="Storage type of the linear layers; embeddings and LM head stay 16-bit.",
    )
    kv_dtype: KvDtype = Field(default="bf16", description="KV cache element type.")
    gpu_memory_utilization: float = Field(
        default=0.9, gt=0, le=1, description="Fraction of GPU memory the engine may use."
    )
    max_model_len: int = Field(ge=1, le=MAX_TOKENS, description="Longest request (prompt + output), tokens.")
    block_size: int = Field(default=16, ge=1, description="Tokens per KV block.")
    memory_gib: float | None = Field(
        default=None, gt=0, description="Total GPU memory in GiB; null = catalog value."
    )
    weights_gib: float | None = Field(
        default=None, ge=0, description="Measured weights per GPU, GiB (overrides the count)."
    )
    activation_peak_gib: float | None = Field(
        default=None, ge=0, description="Measured peak activation from profiling, GiB."
    )
    non_torch_gib: float | None = Field(
        default=None, ge=0, description="Measured non-torch memory, GiB (default 0.5)."
    )
    max_num_batched_tokens: int | None = Field(
        default=None, ge=1, le=MAX_TOKENS, description="Tokens per profiling forward; null = max(len, 8192)."
    )
    batch_size: int = Field(default=1, ge=1, le=MAX_TOKENS, description="Concurrent requests for latencies.")
    prompt_len: int | None = Field(
        default=None, ge=1, le=MAX_TOKENS, description="Prompt tokens for prefill; null = max_model_len // 2."
    )

    @model_validator(mode="after")
    def _check(self) -> ServingInput:
        m = self.spec()
        get_gpu(self.gpu)
        if m.num_attention_heads % self.tp:
            raise ValueError(f"tp {self.tp} must divide num_attention_heads "
                             f"{m.num_attention_heads}")
        kv = m.kv_heads
        if kv >= self.tp and kv % self.tp:
            raise ValueError(f"tp {self.tp} must divide num_kv_heads {kv} (or exceed it)")
        if kv < self.tp and self.tp % kv:
            raise ValueError(f"num_kv_heads {kv} must divide tp {self.tp} for replication")
        return self

    def spec(self) -> ModelSpec:
        return get_model(self.model) if isinstance(self.model, str) else self.model


class ServingResult(BaseModel):
    """Memory and latency of one serving replica."""

    weights_gib_per_gpu: float = Field(description="Weights on each GPU, GiB.")
    kv_bytes_per_token: int = Field(description="K and V of one token over all layers, bytes.")
    kv_bytes_per_token_per_gpu: int = Field(description="Share of one GPU (TP, replication).")
    kv_heads_per_gpu: int = Field(description="KV heads held by each GPU.")
    activation_peak_gib: float = Field(description="Profiled (or estimated) peak activation.")
    non_torch_gib: float = Field(description="Memory outside the allocator, GiB.")
    kv_pool_gib_per_gpu: float = Field(description="Memory left for the KV cache, GiB.")
    num_blocks: int = Field(description="KV blocks per GPU.")
    kv_capacity_tokens: int = Field(description="Tokens the pool holds (blocks x block_size).")
    max_concurrency_at_max_len: float = Field(description="kv_capacity_tokens / max_model_len.")
    prefill_s: float = Field(description="Roofline time to prefill batch_size prompts, s.")
    prefill_bound: str = Field(description="compute or memory.")
    decode_s_per_token: float = Field(description="Roofline time of one decode step, s.")
    decode_bound: str = Field(description="compute or memory.")
    decode_tokens_per_s: float = Field(description="batch_size / decode_s_per_token.")
    tp_allreduce_s_per_token: float = Field(
        description="Two all-reduces per layer per decode step over the scale-up link, s."
    )
    decode_s_per_token_with_tp: float = Field(
        description="decode_s_per_token + tp_allreduce_s_per_token (not overlapped)."
    )
    fits: bool = Field(description="Weights fit and at least one max-length request fits.")
    problems: list[Problem] = Field(description="Why it does not fit, or risks.")


def kv_bytes_per_token(m: ModelSpec, kv_dtype: str) -> int:
    """2 (K and V) x layers x kv_heads x head_dim x bytes (vLLM paper §3)."""
    return int(2 * m.num_layers * m.kv_heads * m.d_head * DTYPE_BYTES[kv_dtype])


def kv_heads_per_gpu(m: ModelSpec, tp: int) -> int:
    """KV heads per GPU: sharded when kv >= tp, one replicated head otherwise."""
    return max(1, m.kv_heads // tp)


def max_concurrency(num_blocks: int, block_size: int, max_model_len: int) -> float:
    """vLLM's reported maximum concurrency: blocks x block_size / max_model_len."""
    return num_blocks * block_size / max_model_len


def weights_bytes_per_gpu(m: ModelSpec, tp: int, weight_dtype: str) -> float:
    """Linear layers at weight_dtype, embeddings/LM head/norms 16-bit, sharded over TP."""
    pc = count_params(m)
    wb = DTYPE_BYTES[weight_dtype]
    small_b = 2.0 if wb < 2 else wb
    h, L = m.hidden_size, m.num_layers
    q_o = 2 * h * m.num_attention_heads * m.d_head
    kv_mat = 2 * h * m.kv_heads * m.d_head
    mlp = (3 if m.gated_mlp else 2) * h * m.ffn * m.num_experts
    linear_gpu = L * ((q_o + mlp) / tp + kv_mat * kv_heads_per_gpu(m, tp) / m.kv_heads)
    embed_head = pc.embedding + pc.output_layer
    small = pc.total - L * (q_o + kv_mat + mlp) - embed_head  # norms, biases, router
    return linear_gpu * wb + embed_head / tp * small_b + small * small_b


def estimate_serving(inp: ServingInput) -> ServingResult:
    """Memory plan and roofline latencies of one replica (vLLM's memory rule)."""
    m = inp.spec()
    gpu = get_gpu(inp.gpu)
    tp = inp.tp
    capacity = (inp.memory_gib or gpu.memory_gib) * GIB
    problems: list[Problem] = []

    w = inp.weights_gib * GIB if inp.weights_gib is not None else \
        weights_bytes_per_gpu(m, tp, inp.weight_dtype)
    kvb = kv_bytes_per_token(m, inp.kv_dtype)
    heads = kv_heads_per_gpu(m, tp)
    kvb_gpu = int(2 * m.num_layers * heads * m.d_head * DTYPE_BYTES[inp.kv_dtype])

    if inp.activation_peak_gib is not None:
        act = inp.activation_peak_gib * GIB
    else:
        # Profiling forward over max_num_batched_tokens: the widest live tensors are the
        # MLP intermediate (gate+up) and the residual stream, 16-bit, sharded by TP.
        tokens = inp.max_num_batched_tokens or max(inp.max_model_len, 8192)
        f_local = m.ffn * (2 if m.gated_mlp else 1) / tp
        act = tokens * 2.0 * (4.0 * m.hidden_size + 2.0 * f_local)
    non_torch = (inp.non_torch_gib if inp.non_torch_gib is not None else DEFAULT_NON_TORCH_GIB)
    pool = inp.gpu_memory_utilization * capacity - w - act - non_torch * GIB
    blocks = max(0, math.floor(pool / (kvb_gpu * inp.block_size))) if pool > 0 else 0
    cap_tokens = blocks * inp.block_size
    fits = pool > 0 and cap_tokens >= inp.max_model_len
    if pool <= 0:
        problems.append(Problem(code="weights_do_not_fit", message="weights and activations "
                                "exceed gpu_memory_utilization x memory."))
    elif cap_tokens < inp.max_model_len:
        problems.append(Problem(code="kv_pool_too_small",
                                message=f"KV pool holds {cap_tokens} tokens, less than "
                                f"max_model_len {inp.max_model_len}."))
    if m.kv_heads < tp:
        problems.append(Problem(code="kv_heads_replicated",
                                message=f"{m.kv_heads} KV heads < tp={tp}: KV cache "
                                f"replicated {tp // m.kv_heads}x."))

    # Roofline: max(FLOPs / peak, bytes / HBM bandwidth) per GPU.
    compute_dtype = "fp8" if inp.weight_dtype in ("fp8", "int8") and "fp8" in gpu.peak_tflops \
        else "bf16"
    peak = gpu.peak(compute_dtype) * 1e12
    bw = gpu.memory_bw_gbps * 1e9
    pc = count_params(m)
    b = inp.batch_size
    prompt = inp.prompt_len or max(1, inp.max_model_len // 2)
    attn_w = m.num_attention_heads * m.d_head * m.num_layers
    lin_flops_tok = 2.0 * (m.num_layers * pc.matmul_per_layer_active) + 2.0 * m.hidden_size \
        * m.vocab_size
    pre_flops = b * prompt * lin_flops_tok + b * 2.0 * prompt * prompt * attn_w  # causal
    pre_bytes = w + b * prompt * kvb_gpu
    t_pc, t_pm = pre_flops / tp / peak, pre_bytes / bw
    ctx = prompt
    dec_flops = b * (lin_flops_tok + 4.0 * ctx * attn_w)
    dec_bytes = w + b * ctx * kvb_gpu
    t_dc, t_dm = dec_flops / tp / peak, dec_bytes / bw
    dec = max(t_dc, t_dm)
    # Tensor parallel: two all-reduces of batch x hidden activations per layer, inside the
    # node; small messages are latency-bound, so the faster of ring and tree is used.
    tp_ar = 0.0
    if tp > 1:
        link = get_link(gpu.scale_up_link)
        bw_tp = effective_busbw(tp, min(tp, gpu.gpus_per_node), link,
                                get_link(gpu.scale_out_link))
        tp_ar = 2 * m.num_layers * collective_time(
            "all_reduce", b * m.hidden_size * 2.0, tp, bw_tp, link.latency_us, "auto")
    return ServingResult(
        weights_gib_per_gpu=w / GIB,
        kv_bytes_per_token=kvb,
        kv_bytes_per_token_per_gpu=kvb_gpu,
        kv_heads_per_gpu=heads,
        activation_peak_gib=act / GIB,
        non_torch_gib=non_torch,
        kv_pool_gib_per_gpu=max(0.0, pool) / GIB,
        num_blocks=blocks,
        kv_capacity_tokens=cap_tokens,
        max_concurrency_at_max_len=max_concurrency(blocks, inp.block_size, inp.max_model_len),
        prefill_s=max(t_pc, t_pm),
        prefill_bound="compute" if t_pc >= t_pm else "memory",
        decode_s_per_token=dec,
        decode_bound="compute" if t_dc >= t_dm else "memory",
        decode_tokens_per_s=b / dec,
        tp_allreduce_s_per_token=tp_ar,
        decode_s_per_token_with_tp=dec + tp_ar,
        fits=fits,
        problems=problems,
    )
