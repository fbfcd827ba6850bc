"""Serving speed: time to first token, inter-token latency and throughput of one replica.

A decode step and a prefill are sums of kernels, each priced from measurements rather than
fitted to published serving results (docs/hw.md, "Serving efficiency"):

- every GEMM takes the longer of reading its weights at the GPU's measured read-stream HBM
  bandwidth (catalog `hbm_read_efficiency`) and computing at the sustained GEMM rate
  (catalog `gemm_efficiency`) times the share its output shape keeps: skinny decode GEMMs
  (under 128 rows) only pad their rows to a 64-row tile, larger ones pay gemm.py's tile and
  wave quantization;
- attention reads the KV cache at the same bandwidth (decode) or runs at the fused
  kernel's efficiency (prefill, catalog `attention_efficiency`);
- activations, norms, rotary embedding and the KV-cache write move their bytes at that
  bandwidth;
- every kernel pays the GPU's measured back-to-back launch cost inside a CUDA graph
  (catalog `kernel_overhead_us`), for the kernels a serving engine runs per layer;
- tensor parallelism adds two all-reduces per layer (collectives.py, faster of ring and
  tree).

Static batching (all `batch_size` prompts prefilled together, then decoded together) is
what TensorRT-LLM's gptSessionBenchmark and vLLM's benchmark_latency measure; the
steady-state figures approximate continuous batching with `batch_size` requests in flight.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graders.hw.catalog import GPU, GpuName, ModelRef, ModelSpec, get_gpu, get_link, get_model
from graders.hw.collectives import collective_time, effective_busbw
from graders.hw.gemm import gemm_efficiency, k_efficiency
from graders.hw.inputs import MAX_TOKENS, HwInput
from graders.hw.problem import Problem
from graders.hw.serving import DTYPE_BYTES, KvDtype, ServingInput, WeightDtype, estimate_serving

# Kernels one decoder layer launches per forward in vLLM's Llama implementation
# (model_executor/models/llama.py): fused add + RMSNorm twice, QKV GEMM, rotary embedding,
# KV-cache write, attention, O GEMM, gate-up GEMM, SiLU-and-multiply, down GEMM. Tensor
# parallelism adds two all-reduces, priced by the collective model.
KERNELS_PER_LAYER = 10
KERNELS_PER_STEP = 4  # embedding, final norm, LM head, sampling
# Below this many rows a GEMM is "skinny" (decode batches): libraries run split-K / GEMV
# kernels whose weight stream spreads over every SM, so only the rows' padding to a 64-row
# tile (Hopper's wgmma is 64 rows tall) costs compute; from it on, the tile and wave
# quantization of gemm.py applies. Both pay gemm.py's short-reduction share (the rule is
# checked against OpenXLA's measured H100 matmul table: gemm_kernel_checks in
# bench/hw_validation.py).
SKINNY_ROWS = 128
SKINNY_TILE_ROWS = 64


class ServingPerfInput(HwInput):
    """One replica serving `batch_size` requests of `prompt_len` + `output_len` tokens."""

    model_config = ConfigDict(extra="forbid")

    model: ModelRef = Field(description="Model preset name or an architecture.")
    gpu: GpuName = Field(description="GPU catalog name or alias.")
    tp: int = Field(default=1, ge=1, description="Tensor-parallel degree (GPUs per replica).")
    weight_dtype: WeightDtype = Field(
        default="bf16", description="Linear layers' storage type; fp8/int8 also compute in "
        "8 bits where the GPU has FP8 tensor cores, int4 computes in 16 bits.")
    kv_dtype: KvDtype = Field(default="bf16", description="KV cache element type.")
    batch_size: int = Field(default=1, ge=1, le=MAX_TOKENS,
                            description="Requests decoded together (concurrency).")
    prompt_len: int = Field(ge=1, le=MAX_TOKENS, description="Prompt tokens per request.")
    output_len: int = Field(ge=1, le=MAX_TOKENS, description="Generated tokens per request.")
    gpu_memory_utilization: float = Field(
        default=0.9, gt=0, le=1, description="Share of GPU memory the engine may use (fit check).")
    memory_gib: float | None = Field(
        default=None, gt=0, description="GPU memory in GiB; null = catalog value.")

    @model_validator(mode="after")
    def _check(self) -> ServingPerfInput:
        self.serving_input()  # same TP and KV-head rules as the memory model
        if self.prompt_len + self.output_len > MAX_TOKENS:
            raise ValueError(f"prompt_len + output_len must be at most {MAX_TOKENS}")
        return self

    def spec(self) -> ModelSpec:
        return get_model(self.model) if isinstance(self.model, str) else self.model

    def serving_input(self) -> ServingInput:
        """The memory model's input for the same replica (KV pool, fit)."""
        return ServingInput(model=self.model, gpu=self.gpu, tp=self.tp,
                            weight_dtype=self.weight_dtype, kv_dtype=self.kv_dtype,
                            gpu_memory_utilization=self.gpu_memory_utilization,
                            max_model_len=self.prompt_len + self.output_len,
                            memory_gib=self.memory_gib)


class ServingPerfResult(BaseModel):
    """Latency and throughput of one replica, and where a step's time goes."""

    prefill_s: float = Field(description="One forward over all batch_size prompts, s.")
    ttft_s: float = Field(description="Time to first token when the batch's prompts are "
                          "prefilled together (= prefill_s; batch_size 1: one request alone).")
    itl_s: float = Field(description="Mean inter-token latency: mean decode step over the "
                         "output, s.")
    itl_first_s: float = Field(description="Decode step at the first generated token, s.")
    itl_last_s: float = Field(description="Decode step at the last generated token, s.")
    request_latency_s: float = Field(description="prefill_s + (output_len - 1) x itl_s.")
    decode_tokens_per_s: float = Field(description="batch_size / itl_s, whole replica.")
    throughput_tokens_per_s: float = Field(
        description="Static batching: batch_size x output_len / request_latency_s, whole "
        "replica (TensorRT-LLM gptSessionBenchmark's output throughput).")
    throughput_tokens_per_s_per_gpu: float = Field(description="throughput / tp.")
    steady_itl_s: float = Field(
        description="Continuous batching with batch_size requests in flight: a decode step "
        "plus the share of a new prompt's prefill compute each step carries "
        "(batch_size / output_len prompts per step, chunked into the steps).")
    steady_tokens_per_s: float = Field(description="batch_size / steady_itl_s.")
    roofline_itl_s: float = Field(
        description="Pure roofline of the mean decode step (datasheet bandwidth and peak, "
        "no kernel or communication cost): the lower bound.")
    decode_efficiency: float = Field(description="roofline_itl_s / itl_s.")
    decode_breakdown_s: dict[str, float] = Field(
        description="Mean decode step by part: weights (GEMMs), kv_cache (attention), "
        "activations, kernels (launch cost), tp_allreduce.")
    prefill_breakdown_s: dict[str, float] = Field(description="prefill_s by the same parts.")
    kv_capacity_tokens: int = Field(description="Tokens the KV pool holds (memory model).")
    fits: bool = Field(description="The pool holds batch_size x (prompt_len + output_len).")
    problems: list[Problem] = Field(description="Why it does not fit, or risks.")


def _shape_efficiency(rows: int, cols: int, reduce: int, units: int) -> float:
    """Share of the sustained GEMM rate a rows x cols output over a `reduce`-long K loop
    keeps (see SKINNY_ROWS; gemm.py for the reduction's share)."""
    if rows < SKINNY_ROWS:
        pad = rows / (math.ceil(rows / SKINNY_TILE_ROWS) * SKINNY_TILE_ROWS)
        return pad * k_efficiency(reduce)
    return gemm_efficiency(rows, cols, reduce, units)


class _Replica:
    """Per-GPU shapes, byte counts and rates of one model on one GPU type at one TP."""

    def __init__(self, m: ModelSpec, gpu: GPU, tp: int, weight_dtype: str, kv_dtype: str):
        self.m, self.gpu, self.tp = m, gpu, tp
        self.wb = DTYPE_BYTES[weight_dtype]
        self.kvb = DTYPE_BYTES[kv_dtype]
        self.fp8 = weight_dtype in ("fp8", "int8") and "fp8" in gpu.peak_tflops
        prec = "fp8" if self.fp8 else "bf16"
        self.peak, self.peak16 = gpu.peak(prec) * 1e12, gpu.peak("bf16") * 1e12
        self.rate = self.peak * gpu.gemm_efficiency[prec]
        self.rate16 = self.peak16 * gpu.gemm_efficiency["bf16"]
        self.bw_peak = gpu.memory_bw_gbps * 1e9
        self.bw = self.bw_peak * gpu.hbm_read_efficiency
        self.units = gpu.compute_units
        h, d = m.hidden_size, m.d_head
        self.q_heads = m.num_attention_heads // tp
        self.kv_heads = max(1, m.kv_heads // tp)
        f_local = m.ffn // tp
        up = (2 if m.gated_mlp else 1) * f_local
        # (N, K) of each linear layer on this GPU (one expert for MoE, see linear()).
        self.attn_gemms = [((self.q_heads + 2 * self.kv_heads) * d, h), (h, self.q_heads * d)]
        self.mlp_gemms = [(up, h), (h, f_local)]
        self.up = up
        self.f_local = f_local
        self.vocab_local = math.ceil(m.vocab_size / tp)
        link = get_link(gpu.scale_up_link)
        self.link = link
        self.tp_bw = effective_busbw(tp, min(tp, gpu.gpus_per_node), link,
                                     get_link(gpu.scale_out_link)) if tp > 1 else 0.0

    def gemm(self, rows: int, n: int, k: int, weight_bytes: float,
             fp8: bool) -> tuple[float, float]:
        """(time, roofline) of one GEMM: the longer of reading its weights and computing
        at its shape's share of the sustained rate."""
        flops = 2.0 * rows * n * k
        read = n * k * weight_bytes
        rate, peak = (self.rate, self.peak) if fp8 else (self.rate16, self.peak16)
        t = max(read / self.bw, flops / (rate * _shape_efficiency(rows, n, k, self.units)))
        return t, max(read / self.bw_peak, flops / peak)

    def linear(self, tokens: int) -> tuple[float, float]:
        """Every layer's linear GEMMs for `tokens` rows (the LM head is separate)."""
        total = roof = 0.0
        for n, k in self.attn_gemms:
            t, r = self.gemm(tokens, n, k, self.wb, self.fp8)
            total, roof = total + t, roof + r
        m = self.m
        if m.num_experts > 1:
            # Each expert reads its weights once if any token reaches it (expected distinct
            # experts under uniform top-k routing) and computes its share of the tokens.
            e, top = m.num_experts, m.experts_per_token
            distinct = e * (1.0 - (1.0 - top / e) ** tokens)
            rows = max(1, math.ceil(tokens * top / e))
            rate = self.rate if self.fp8 else self.rate16
            for n, k in self.mlp_gemms:
                read = distinct * n * k * self.wb
                flops = 2.0 * tokens * top * n * k
                total += max(read / self.bw, flops / (rate * _shape_efficiency(rows, n, k, self.units)))
                roof += max(read / self.bw_peak, flops / self.peak)
            t, r = self.gemm(tokens, e, m.hidden_size, 2.0, False)  # router
            total, roof = total + t, roof + r
        else:
            for n, k in self.mlp_gemms:
                t, r = self.gemm(tokens, n, k, self.wb, self.fp8)
                total, roof = total + t, roof + r
        return m.num_layers * total, m.num_layers * roof

    def lm_head(self, rows: int) -> tuple[float, float]:
        """The output layer (16-bit, as the memory model stores it) for `rows` tokens."""
        return self.gemm(rows, self.vocab_local, self.m.hidden_size, 2.0, False)

    def activation_bytes(self, tokens: int) -> float:
        """HBM bytes of activations per forward over `tokens` rows: each GEMM's input read
        and output write, two fused add + norm kernels (read x and residual, write both),
        rotary on q and k, the KV-cache write, SiLU-and-multiply, 16-bit throughout."""
        m, d = self.m, self.m.d_head
        h = m.hidden_size
        per_token = 0.0
        gemms = self.attn_gemms + self.mlp_gemms
        per_token += sum(2.0 * (n + k) for n, k in gemms) * (m.experts_per_token
                                                            if m.num_experts > 1 else 1)
        per_token += 2 * 4 * 2.0 * h  # two fused add + norm kernels
        per_token += 2 * 2.0 * (self.q_heads + self.kv_heads) * d  # rotary read + write
        per_token += 2 * self.kv_heads * d * self.kvb  # K and V written to the cache
        if m.gated_mlp:
            per_token += 2.0 * (self.up + self.f_local)  # SiLU-and-multiply
        return tokens * m.num_layers * per_token

    def kernels(self) -> float:
        """Launch cost of one forward: every kernel's back-to-back time in a CUDA graph."""
        n = self.m.num_layers * KERNELS_PER_LAYER + KERNELS_PER_STEP
        return n * self.gpu.kernel_overhead_us * 1e-6

    def tp_allreduce(self, tokens: int) -> float:
        """Two all-reduces per layer of the tokens' hidden states (16-bit)."""
        if self.tp == 1:
            return 0.0
        one = collective_time("all_reduce", tokens * self.m.hidden_size * 2.0, self.tp,
                              self.tp_bw, self.link.latency_us, "auto")
        return 2 * self.m.num_layers * one

    def kv_bytes(self, batch: int, context: int) -> float:
        """K and V of every layer for `batch` sequences of `context` tokens, this GPU."""
        return batch * context * self.m.num_layers * 2 * self.kv_heads * self.m.d_head * self.kvb

    def attention_rate(self, seq: int) -> float:
        """Fused attention FLOP/s at a sequence length (catalog efficiency curve)."""
        eff, s_half = self.gpu.attention_efficiency["flash"]
        return self.gpu.peak("bf16") * 1e12 * eff * seq / (seq + s_half)

    def decode(self, batch: int, context: int) -> tuple[dict[str, float], float]:
        """One decode step for `batch` sequences at `context` tokens: parts, roofline."""
        m = self.m
        lin, lin_roof = self.linear(batch)
        head, head_roof = self.lm_head(batch)
        kv = self.kv_bytes(batch, context)
        attn_flops = batch * m.num_layers * 4.0 * context * self.q_heads * m.d_head
        t_kv = max(kv / self.bw, attn_flops / self.attention_rate(max(context, 1)))
        kv_roof = max(kv / (self.gpu.memory_bw_gbps * 1e9),
                      attn_flops / (self.gpu.peak("bf16") * 1e12))
        parts = {
            "weights": lin + head,
            "kv_cache": t_kv,
            "activations": self.activation_bytes(batch) / self.bw,
            "kernels": self.kernels(),
            "tp_allreduce": self.tp_allreduce(batch),
        }
        return parts, lin_roof + head_roof + kv_roof

    def prefill(self, batch: int, prompt: int) -> dict[str, float]:
        """One forward over `batch` prompts of `prompt` tokens (logits of the last only)."""
        m = self.m
        tokens = batch * prompt
        lin, _ = self.linear(tokens)
        head, _ = self.lm_head(batch)
        attn_flops = batch * m.num_layers * 2.0 * prompt * prompt * self.q_heads * m.d_head
        return {
            "weights": lin + head,
            "kv_cache": attn_flops / self.attention_rate(prompt),
            "activations": self.activation_bytes(tokens) / self.bw,
            "kernels": self.kernels(),
            "tp_allreduce": self.tp_allreduce(tokens),
        }

    def prefill_compute(self, prompt: int) -> float:
        """Compute of one prompt folded into decode steps (chunked prefill): GEMM FLOPs at
        the sustained rate and attention at the fused kernel's; the weights are read by
        the decode step anyway."""
        m = self.m
        experts = m.experts_per_token if m.num_experts > 1 else 1
        flops = 2.0 * prompt * m.num_layers * (
            sum(n * k for n, k in self.attn_gemms)
            + experts * sum(n * k for n, k in self.mlp_gemms))
        attn = m.num_layers * 2.0 * prompt * prompt * self.q_heads * m.d_head
        rate = self.rate if self.fp8 else self.rate16
        return (flops / rate + attn / self.attention_rate(prompt)
                + self.activation_bytes(prompt) / self.bw)


def estimate_serving_perf(inp: ServingPerfInput) -> ServingPerfResult:
    """TTFT, inter-token latency and throughput of one replica (static batching), with the
    continuous-batching steady state and the memory model's fit check."""
    m = inp.spec()
    gpu = get_gpu(inp.gpu)
    rep = _Replica(m, gpu, inp.tp, inp.weight_dtype, inp.kv_dtype)
    b, p, o = inp.batch_size, inp.prompt_len, inp.output_len

    pre = rep.prefill(b, p)
    prefill_s = sum(pre.values())
    # A decode step is linear in the context (only the KV read grows), so the mean over
    # the output is the mean of the first and the last step.
    first, roof_first = rep.decode(b, p + 1)
    last, roof_last = rep.decode(b, p + max(o - 1, 1))
    mean = {k: (first[k] + last[k]) / 2 for k in first}
    itl = sum(mean.values())
    roof = (roof_first + roof_last) / 2
    latency = prefill_s + (o - 1) * itl
    steady = itl + b / o * rep.prefill_compute(p)

    mem = estimate_serving(inp.serving_input())
    need = b * (p + o)
    problems = list(mem.problems)
    fits = mem.fits and mem.kv_capacity_tokens >= need
    if mem.fits and not fits:
        problems.append(Problem(code="kv_pool_too_small_for_batch",
                                message=f"the KV pool holds {mem.kv_capacity_tokens} tokens; "
                                f"{b} requests of {p + o} need {need}."))
    if mean["kernels"] + mean["tp_allreduce"] > 0.5 * itl:
        problems.append(Problem(code="launch_bound_decode",
                                message="kernel launches and all-reduces are more than half "
                                "of each decode step: raise the batch or lower tp."))
    return ServingPerfResult(
        prefill_s=prefill_s,
        ttft_s=prefill_s,
        itl_s=itl,
        itl_first_s=sum(first.values()),
        itl_last_s=sum(last.values()),
        request_latency_s=latency,
        decode_tokens_per_s=b / itl,
        throughput_tokens_per_s=b * o / latency,
        throughput_tokens_per_s_per_gpu=b * o / latency / inp.tp,
        steady_itl_s=steady,
        steady_tokens_per_s=b / steady,
        roofline_itl_s=roof,
        decode_efficiency=roof / itl,
        decode_breakdown_s=mean,
        prefill_breakdown_s=pre,
        kv_capacity_tokens=mem.kv_capacity_tokens,
        fits=fits,
        problems=problems,
    )
