"""Training estimate: FLOPs, memory, communication, step time and MFU for one plan."""

from __future__ import annotations

import math

from pydantic import BaseModel, Field

from graders.hw.catalog import ModelSpec, get_link
from graders.hw.collectives import (
    collective_time,
    deduplicated_dispatch,
    group_link,
    nccl_ring_time,
)
from graders.hw.gemm import expert_gemm_slowdown, gemms_efficiency
from graders.hw.plan import ClusterSpec, PlanSpec, TrainingInput
from graders.hw.problem import Problem
from graders.hw.transformer import (
    GIB,
    activation_bytes_per_token_layer,
    bubble_fraction,
    checkpoint_bytes,
    count_params,
    interleave_memory_factor,
    model_flops_per_token,
    recompute_flops_per_token,
    state_bytes_per_param,
    token_flops,
    zero_sharded_bytes,
)

__all__ = [
    "ClusterSpec",
    "CommStat",
    "MemoryGiB",
    "PlanSpec",
    "Problem",
    "TrainingInput",
    "TrainingResult",
    "estimate_training",
]

# Efficiency terms (docs/hw.md explains each). GEMM efficiency lives in the GPU catalog.
STANDARD_ATTENTION_EFFICIENCY = 0.5  # unfused attention's batched score GEMMs vs BF16 peak
MEMORY_EFFICIENCY = 0.8  # achievable fraction of HBM bandwidth for elementwise kernels
RESERVED_GIB = 2.0  # CUDA context, NCCL buffers, allocator fragmentation
# What production runs keep free beyond RESERVED_GIB: the caching allocator's fragmentation
# and peaks between its samples. vLLM's default gpu_memory_utilization of 0.9 leaves the same
# share; docs/hw.md gives the measurements it rests on. A plan that fits only inside it is
# runnable ("fits") but not one a search recommends ("fits_with_headroom").
PRODUCTION_HEADROOM_FRACTION = 0.10
EXPERT_TILE_ROWS = 128  # GEMM tile height: expert GEMMs with M rows run at M / (M + 128)
OVERLAP_INTERFERENCE = 0.5  # share of overlapped traffic still paid (SM/HBM contention)
# Host time per MoE layer and micro-batch (forward + backward) that stalls the GPU: the
# dispatcher copies the per-expert token counts to the host to size its buffers, so the GPU
# queue drains at every MoE layer and waits while the host launches the router,
# permutation, grouped-GEMM and combine kernels. Measured as the time Megatron-Core's
# CUDA graphs and its CPU-side optimisations removed per MoE layer on DeepSeek-V3
# (bench/data/moe_published.csv rows 274 -> 275 and 276 -> 277, GB200, 8 layers per stage:
# 2.1 + 2.2 ms; docs/hw.md, bench/hw_validation.py moe_host_derivation).
MOE_HOST_S_PER_LAYER = 4.3e-3
# Kernels one layer's forward launches (the count of serving_perf.KERNELS_PER_LAYER, vLLM's
# Llama layer: norms, QKV, rotary, attention, O, MLP GEMMs, activation); docs/hw.md.
KERNELS_PER_LAYER_PASS = 10
# HBM bytes per logit (token x vocab entry on this rank) spent by the loss, counted from the
# kernels each implementation runs (docs/hw.md): Megatron's vocab-parallel cross entropy on
# fp32 logits (cast, max, subtract, exp, sum, divide; backward scale and cast back) and a
# fused kernel that reads the bf16 logits and writes their gradient in place.
LOSS_BYTES_PER_LOGIT = {False: 52.0, True: 6.0}


def overlapped(comm: float, window: float) -> float:
    """Exposed time of `comm` run concurrently with `window` of compute."""
    hidden = min(comm, window)
    return comm - hidden + OVERLAP_INTERFERENCE * hidden


class CommStat(BaseModel):
    """Traffic of one kind of communication per step, per GPU."""

    bytes: float = Field(description="Bytes each GPU sends per step.")
    time_s: float = Field(description="Time the transfers take per step, s.")
    exposed_s: float = Field(description="Part of time_s not hidden behind compute, s.")


class MemoryGiB(BaseModel):
    """Memory of the most loaded GPU, GiB."""

    weights: float = Field(description="16-bit weights (the ZeRO-3 shard under ZeRO-3).")
    gradients: float = Field(description="Gradient buffer.")
    optimizer: float = Field(description="fp32 master weights and Adam moments.")
    activations: float = Field(description="Stored activations of in-flight micro-batches.")
    zero3_buffers: float = Field(
        0.0, description="ZeRO-3 only: gathered parameters in flight and the unsharded "
        "gradient of one unit awaiting its reduce-scatter, GiB.")
    total: float = Field(description="weights + gradients + optimizer + activations + "
                         "zero3_buffers.")
    reserved: float = Field(description="CUDA context, NCCL and fragmentation allowance.")
    capacity: float = Field(description="Per-GPU memory the plan must fit in.")
    headroom: float = Field(0.0, description="capacity - total - reserved, GiB.")
    production_headroom: float = Field(
        0.0, description="Headroom production runs keep (fragmentation, peaks), GiB.")


class TrainingResult(BaseModel):
    """Everything the training model predicts for one plan."""

    params: int = Field(description="Total parameters.")
    active_params: int = Field(description="Parameters used per token (MoE: top-k experts).")
    model_flops_per_step: float = Field(description="Model FLOPs per step (no recompute).")
    hardware_flops_per_step: float = Field(description="FLOPs executed incl. recompute.")
    flops_convention: str = Field(description="How model FLOPs count attention.")
    memory_gib: MemoryGiB = Field(description="Memory of the most loaded GPU.")
    fits: bool = Field(description="total + reserved <= capacity.")
    fits_with_headroom: bool = Field(
        False, description="Also leaves memory_gib.production_headroom free.")
    microbatches: int = Field(description="Micro-batches per pipeline per step (m).")
    pipeline_bubble_fraction: float = Field(description="Bubble time / ideal time, (p-1)/(v*m).")
    step_time_s: float = Field(description="Predicted time of one optimizer step, s.")
    tokens_per_s: float = Field(description="Trained tokens per second, whole job.")
    model_tflops_per_gpu: float = Field(description="Achieved model TFLOP/s per GPU.")
    hardware_tflops_per_gpu: float = Field(description="Achieved hardware TFLOP/s per GPU.")
    mfu: float = Field(description="model TFLOP/s / peak (BF16 dense unless overridden).")
    hfu: float = Field(description="hardware TFLOP/s / peak.")
    mfu_vs_precision_peak: float = Field(
        description="model TFLOP/s / dense peak of the plan's precision (FP8 runs can "
        "exceed 1.0 against the BF16 peak, never against this one)."
    )
    peak_tflops: float = Field(description="Peak used for MFU/HFU.")
    checkpoint_gb: float = Field(description="Full checkpoint size, GB (14 B/param).")
    communication: dict[str, CommStat] = Field(description="Per kind: tp, cp, ep, pp, dp.")
    time_breakdown_s: dict[str, float] = Field(description="Where the step time goes.")
    problems: list[Problem] = Field(description="Errors and warnings about the plan.")


# DeepSpeed ZeRO-3 defaults (DeepSpeed configuration documentation): parameters kept
# gathered at most, and the gradient reduction bucket, in elements.
DEEPSPEED_MAX_LIVE_PARAMETERS = 1_000_000_000
DEEPSPEED_REDUCE_BUCKET = 500_000_000


def zero3_buffer_bytes(m: ModelSpec, p: PlanSpec, local_params: float, layers: int,
                       grad_bytes: float) -> float:
    """Bytes ZeRO-3 holds beyond the sharded model state on one GPU.

    Units of one layer (PyTorch FSDP wrapping each block, Megatron-FSDP): the current and
    the prefetched layer's gathered 16-bit parameters (FSDP's rate limiter lets two
    all-gathers be in flight), the root unit's, and one unit's unsharded gradient before
    its reduce-scatter.
    DeepSpeed buckets (`zero3_bucket_params`): up to stage3_max_live_parameters gathered
    parameters, never less than the largest module it gathers at once plus the prefetch
    bucket, and one reduce bucket of gradients.
    """
    if p.zero_stage != 3:
        return 0.0
    if p.zero3_bucket_params is None:
        # The root unit (embedding, final norm, output layer on a single stage) stays
        # gathered from its forward to its backward (fully_shard's root heuristic).
        pc = count_params(m)
        root = (pc.embedding + (pc.output_layer + pc.final_norm if p.pp == 1 else 0)) / p.tp
        layer = max(0.0, local_params - root) / max(1, layers)
        return (root + 2 * layer) * 2.0 + max(layer, root) * grad_bytes
    h, t = m.hidden_size, p.tp
    largest = max(h * m.ffn, h * (m.num_attention_heads + 2 * m.kv_heads) * m.d_head,
                  h * m.vocab_size) / t
    live = max(min(DEEPSPEED_MAX_LIVE_PARAMETERS, local_params), largest + p.zero3_bucket_params)
    return live * 2.0 + min(DEEPSPEED_REDUCE_BUCKET, local_params) * grad_bytes


def estimate_training(inp: TrainingInput) -> TrainingResult:
    """Predict memory, communication and throughput of a training plan."""
    m, c, p = inp.spec(), inp.cluster, inp.plan
    gpu = c.resolved_gpu()
    node = c.node_size()
    up = get_link(c.scale_up_link or gpu.scale_up_link)
    out = c.scale_out()
    problems: list[Problem] = []

    precision = p.precision
    if precision not in gpu.peak_tflops:
        problems.append(Problem(code="precision_unsupported",
                                message=f"{gpu.name} has no {precision} tensor cores; "
                                "estimated as bf16."))
        precision = "bf16"
    fp8 = precision == "fp8"
    peak_bf16 = gpu.peak("bf16") * 1e12
    gemm_rate = gpu.peak(precision) * gpu.gemm_efficiency[precision] * 1e12
    mem_rate = gpu.memory_bw_gbps * 1e9 * MEMORY_EFFICIENCY

    attn_impl = p.attention_impl or ("flash" if "fp8" in gpu.peak_tflops else "standard")
    if attn_impl == "standard":
        attn_rate = peak_bf16 * STANDARD_ATTENTION_EFFICIENCY
    else:
        # Fused kernels reach their efficiency only on long sequences (catalog.py).
        eff, s_half = gpu.attention_efficiency[attn_impl]
        s_local = p.seq_len / p.cp  # queries per rank: the kernel's sequence length
        attn_rate = peak_bf16 * eff * s_local / (s_local + s_half)
    pc = count_params(m)
    h, s, b, t = m.hidden_size, p.seq_len, p.micro_batch_size, p.tp
    mb_count = p.global_batch_size // (b * p.dp)
    tokens_step = p.global_batch_size * s
    fpt = model_flops_per_token(m, s, p.attention_flops)
    rfpt = recompute_flops_per_token(m, s, p.recompute, p.attention_flops)
    model_flops = fpt * tokens_step
    hw_flops = (fpt + rfpt) * tokens_step

    # ---- layout problems -------------------------------------------------------------
    layers_stage = math.ceil(m.num_layers / p.pp)
    if m.num_layers % (p.pp * p.virtual_stages):
        problems.append(Problem(code="uneven_pipeline",
                                message=f"{m.num_layers} layers do not split evenly into "
                                f"{p.pp}x{p.virtual_stages} chunks; the slowest stage sets "
                                "the pace."))
    if t > node:
        problems.append(Problem(code="tp_crosses_node",
                                message=f"tp={t} exceeds {node} GPUs per node, so tensor-parallel "
                                "collectives run over the network."))
    if t * p.cp > node and p.cp > 1:
        problems.append(Problem(code="cp_crosses_node",
                                message="tp*cp exceeds the node; context-parallel exchange "
                                "uses NICs."))
    if p.virtual_stages > 1 and mb_count % p.pp:
        problems.append(Problem(code="interleave_microbatches",
                                message=f"interleaved schedule needs micro-batches ({mb_count}) "
                                f"to be a multiple of pp ({p.pp})."))
    if p.cp > 1 and s % (2 * p.cp):
        problems.append(Problem(code="cp_seq_divisibility",
                                message=f"seq_len {s} must be a multiple of 2*cp = {2 * p.cp}."))
    if m.kv_heads < t:
        problems.append(Problem(code="kv_heads_replicated",
                                message=f"{m.kv_heads} KV heads < tp={t}: K/V projections are "
                                "replicated across tensor-parallel ranks."))
    if p.sequence_parallel and t == 1:
        problems.append(Problem(code="sp_without_tp",
                                message="sequence_parallel has no effect with tp=1."))

    # ---- memory of the most loaded GPU (first stage) -----------------------------------
    fp32_grads = p.fp32_grads if p.fp32_grads is not None else p.precision != "fp16"
    state = state_bytes_per_param(p.precision, fp32_grads)
    if p.pp == 1:
        stage_params = m.num_layers * pc.per_layer + pc.embedding + pc.output_layer + pc.final_norm
    else:
        edge = max(pc.embedding, pc.output_layer or pc.embedding)
        stage_params = layers_stage * pc.per_layer + edge
    # Experts are split over etp*ep ranks; their optimizer state over the stage's remaining
    # ranks, the expert data-parallel group tp*cp*dp / (etp*ep).
    etp = p.etp or t
    layers_here = m.num_layers if p.pp == 1 else layers_stage
    expert_params = layers_here * m.num_experts * pc.expert_mlp if m.num_experts > 1 else 0
    dense_local = (stage_params - expert_params) / t
    expert_local = expert_params / (etp * p.ep)
    local_params = dense_local + expert_local
    shard = p.dp * p.cp
    wd, gd, od = zero_sharded_bytes(dense_local, state, p.zero_stage, shard)
    we, ge, oe = zero_sharded_bytes(expert_local, state, p.zero_stage,
                                    t * shard // (etp * p.ep))
    w, g, o = wd + we, gd + ge, od + oe
    # ZeRO-3 buffers, outside the model state the ZeRO paper's memory table counts: the
    # gathered 16-bit parameters in flight and the unsharded gradient awaiting its
    # reduce-scatter (zero3_buffer_bytes).
    buffers = zero3_buffer_bytes(m, p, local_params, layers_here, state.gradients)
    tok_mb = b * s / p.cp
    act_layer = activation_bytes_per_token_layer(
        m, s, t, p.sequence_parallel, p.recompute, attn_impl, fp8
    )
    in_flight = min(p.pp, mb_count) if p.pp > 1 else 1
    act = act_layer * tok_mb * layers_stage * in_flight
    act *= interleave_memory_factor(p.pp, p.virtual_stages)
    if p.recompute == "full":
        # One layer's full activations are live while it is recomputed.
        act += activation_bytes_per_token_layer(
            m, s, t, p.sequence_parallel, "none", attn_impl, fp8
        ) * tok_mb
    if p.pp == 1:
        act += tok_mb * m.vocab_size / t * 4.0  # fp32 logits for the loss
    capacity = c.memory_gib or gpu.memory_gib
    total = w + g + o + act + buffers
    mem = MemoryGiB(weights=w / GIB, gradients=g / GIB, optimizer=o / GIB,
                    activations=act / GIB, zero3_buffers=buffers / GIB,
                    total=total / GIB, reserved=RESERVED_GIB,
                    capacity=capacity, headroom=capacity - total / GIB - RESERVED_GIB,
                    production_headroom=PRODUCTION_HEADROOM_FRACTION * capacity)
    fits = mem.total + RESERVED_GIB <= capacity
    if not fits:
        problems.append(Problem(code="out_of_memory",
                                message=f"needs {mem.total:.1f} GiB + {RESERVED_GIB:.0f} reserved "
                                f"on the most loaded GPU; {capacity:.0f} GiB available."))

    # ---- time of one micro-batch on the slowest stage ------------------------------------
    tf = token_flops(m, s, "full")
    gemm_fwd = tok_mb * layers_stage * tf.layer_gemm / t
    logits_fwd = tok_mb * tf.logits / t
    attn_fwd = tok_mb * layers_stage * tf.layer_attention / t
    if attn_impl != "standard":
        attn_fwd *= 0.5  # causal blocks above the diagonal are skipped
        attn_passes = 3.5  # the backward kernel recomputes the scores: ~2.5x forward
    else:
        attn_passes = 3.0
    if p.recompute != "none":
        attn_passes += 1.0  # selective and full both rerun the attention forward
    gemm_passes = 4.0 if p.recompute == "full" else 3.0
    # The output layer is outside the recomputed blocks (3 passes, never 4), and FP8 recipes
    # keep it in BF16 (Megatron-Core's output layer is not a Transformer Engine module).
    logits_rate = peak_bf16 * gpu.gemm_efficiency["bf16"] if fp8 else gemm_rate
    # Each GEMM keeps the share of the best-shape rate its output shape allows (tile and
    # wave quantization, graders/hw/gemm.py). Rows are the micro-batch's tokens on this rank.
    m_rows = int(tok_mb)
    q_out = m.num_attention_heads * m.d_head
    shapes = [(m_rows, (q_out + 2 * m.kv_heads * m.d_head) // t, h), (m_rows, h, q_out // t)]
    if m.num_experts <= 1:  # expert GEMMs have their own row-tile term below
        shapes += [(m_rows, m.ffn * (2 if m.gated_mlp else 1) // t, h), (m_rows, h, m.ffn // t)]
    wave_layer = gemms_efficiency(shapes, gpu.compute_units)
    wave_logits = gemms_efficiency([(m_rows, m.vocab_size // t, h)], gpu.compute_units)
    t_gemm = (gemm_passes * gemm_fwd / (gemm_rate * wave_layer)
              + 3.0 * logits_fwd / (logits_rate * wave_logits))
    sp_div = t if p.sequence_parallel else 1
    if m.num_experts > 1:
        # Expert GEMMs see only the tokens routed to them (from all ep ranks, gathered over
        # the etp ranks): with few rows a 128-row tile is mostly empty, so efficiency falls
        # as M / (M + 128).
        rows = tok_mb / sp_div * min(etp, sp_div) * m.experts_per_token * p.ep / m.num_experts
        expert_fwd = tok_mb * layers_stage * 2.0 * m.experts_per_token * (
            (3 if m.gated_mlp else 2) * h * m.ffn) / t
        slowdown = expert_gemm_slowdown(rows, h, m.ffn // etp, m.gated_mlp, EXPERT_TILE_ROWS,
                                        2 if p.recompute == "full" else 1)
        t_gemm += gemm_passes * expert_fwd / gemm_rate * (slowdown - 1.0)
        if rows < 4 * EXPERT_TILE_ROWS:
            problems.append(Problem(code="small_expert_gemms",
                                    message=f"each expert sees ~{rows:.0f} tokens per "
                                    "micro-batch; grouped GEMMs run well below peak "
                                    "(raise micro-batch or ep)."))
    t_attn = attn_passes * attn_fwd / attn_rate

    f_local = m.ffn * (1.5 if m.gated_mlp else 1.0) * m.experts_per_token
    elem_fwd = 22.0 * h / sp_div + 4.0 * f_local / t
    if attn_impl == "standard":
        elem_fwd += 9.0 * m.num_attention_heads * s / t  # scale-mask-softmax, dropout
    elem_passes = 4.0 if p.recompute == "full" else 3.0
    elem_bytes = elem_passes * elem_fwd
    mlp_io = m.experts_per_token * h  # MLP input/output width per token: k copies under MoE
    if fp8:
        # Each GEMM operand (activation forward, output gradient backward) is cast to fp8
        # with a transposed copy: read 2 B, write 1 + 1 B. Weight casts are cached.
        q_local = q_out / t
        f_in = m.ffn * m.experts_per_token / t
        fwd_operands = h + mlp_io + q_local + f_in
        bwd_operands = q_local + 2.0 * m.kv_heads * m.d_head / t + h + mlp_io + f_local
        elem_bytes += 4.0 * (fwd_operands + bwd_operands)
    if m.num_experts > 1:
        # Token dispatch (Megatron-Core all-to-all dispatcher): each of the k routed copies
        # of a token is read and written (2 + 2 B) by the permutation into all-to-all order,
        # the sort by local expert and its inverse (only when a rank holds several experts)
        # and the unpermutation that sums the copies back. The backward runs the inverse
        # gathers over the gradients: one more pass, two under full recompute.
        reorders = 4 if m.num_experts // p.ep > 1 else 2
        dispatch_passes = 3.0 if p.recompute == "full" else 2.0
        elem_bytes += dispatch_passes * reorders * 4.0 * mlp_io / sp_div
    loss_bytes = LOSS_BYTES_PER_LOGIT[p.fused_cross_entropy] * m.vocab_size / t
    t_mem = (elem_bytes * layers_stage + loss_bytes) * tok_mb / mem_rate

    comm: dict[str, CommStat] = {}
    # Tensor parallel: 2 all-reduces (or RS+AG pairs) forward, 2 backward, per layer: one
    # pair around attention, one around the MLP. A MoE MLP gathers and scatters its k routed
    # copies over the etp ranks instead (none when etp = 1).
    tp_time = 0.0
    tp_bytes = 0.0
    passes = 2 + (1 if p.recompute == "full" else 0)  # forward, backward, recompute
    # (ranks, bytes of one pair's all-reduce, pairs per layer and pass)
    groups: list[tuple[int, float, int]] = []
    if t > 1:
        groups.append((t, tok_mb * h * 2.0, 2 if m.num_experts == 1 else 1))
    if m.num_experts > 1 and etp > 1:
        groups.append((etp, tok_mb * mlp_io * 2.0, 1))
    for ranks, size, pairs in groups:
        bw, lat = group_link(ranks, min(ranks, node), up, out)
        n_pairs = passes * pairs * layers_stage
        tp_time += n_pairs * collective_time("all_reduce", size, ranks, bw, lat)
        tp_bytes += n_pairs * size * 2 * (ranks - 1) / ranks * mb_count
    tp_exposed = overlapped(tp_time, t_gemm) if p.tp_comm_overlap else tp_time
    comm["tp"] = CommStat(bytes=tp_bytes, time_s=tp_time * mb_count,
                          exposed_s=tp_exposed * mb_count)

    # Context parallel: ring exchange of K/V (forward) and K/V + dK/dV (backward).
    cp_time = 0.0
    cp_bytes = 0.0
    if p.cp > 1:
        kv_local = max(1, m.kv_heads // t) * m.d_head
        chunk = tok_mb * 2 * kv_local * 2.0
        cp_bytes = 3 * (p.cp - 1) * chunk * layers_stage
        in_node = t * p.cp <= node
        cp_bw = up.achievable_busbw_gbps if in_node else out.achievable_busbw_gbps
        cp_time = cp_bytes / (cp_bw * 1e9)
        cp_bytes *= mb_count
    cp_exposed = overlapped(cp_time, t_attn)
    comm["cp"] = CommStat(bytes=cp_bytes, time_s=cp_time * mb_count,
                          exposed_s=cp_exposed * mb_count)

    # Expert parallel: dispatch and combine all-to-all, forward and backward, per MoE layer.
    ep_time = 0.0
    ep_bytes = 0.0
    if p.ep > 1:
        routed = tok_mb * mlp_io * 2.0 / sp_div
        # Megatron-Core orders expert ranks etp, ep, edp: an ep group strides over etp ranks.
        ep_per_node = min(max(1, node // etp), p.ep)
        n_a2a = (4 + (2 if p.recompute == "full" else 0)) * layers_stage
        if p.moe_dispatcher == "deduplicated":
            one, sent = deduplicated_dispatch(tok_mb / sp_div, h * 2.0, m.experts_per_token,
                                              m.num_experts, p.ep, ep_per_node, up, out)
        else:
            bw, lat = group_link(p.ep, ep_per_node, up, out, "all_to_all")
            one = collective_time("all_to_all", routed, p.ep, bw, lat)
            sent = routed * (p.ep - 1) / p.ep
        ep_time = n_a2a * one
        ep_bytes = n_a2a * sent * mb_count
    ep_exposed = overlapped(ep_time, t_gemm + t_attn) if p.overlap_ep_comm else ep_time
    comm["ep"] = CommStat(bytes=ep_bytes, time_s=ep_time * mb_count,
                          exposed_s=ep_exposed * mb_count)

    # Every kernel pays a fixed launch-and-drain cost even when the host runs ahead
    # (catalog kernel_overhead_us, measured back to back in a CUDA graph): a layer's
    # forward launches KERNELS_PER_LAYER_PASS kernels, the backward two per forward kernel
    # (input and weight gradients), full recompute one more forward.
    kernel_passes = 3 + (1 if p.recompute == "full" else 0)
    t_launch = (layers_stage * KERNELS_PER_LAYER_PASS * kernel_passes
                * gpu.kernel_overhead_us * 1e-6)
    # MoE host stall (MOE_HOST_S_PER_LAYER; full recompute reruns the forward's share). The
    # host launches while the dispatch all-to-all it started runs, so only what exceeds the
    # exposed all-to-all time stalls the GPU.
    t_host = 0.0
    if m.num_experts > 1:
        host = layers_stage * MOE_HOST_S_PER_LAYER * kernel_passes / 3.0
        t_host = max(0.0, host - ep_exposed)
    t_mb = (t_gemm + t_attn + t_mem + tp_exposed + cp_exposed + ep_exposed + t_launch
            + t_host)

    # Pipeline: activations sent to the next stage forward, gradients back, per chunk.
    p2p = 0.0
    p2p_bytes = 0.0
    if p.pp > 1:
        msg = tok_mb * h * 2.0 / t  # scatter/gather over TP ranks (Megatron 2021 §4.1)
        cross = t * p.cp * p.dp >= node or t * p.cp >= node
        bw = out.achievable_busbw_gbps if cross else up.achievable_busbw_gbps
        lat = (out if cross else up).latency_us
        p2p = 2 * p.virtual_stages * collective_time("send_recv", msg, 2, bw, lat)
        p2p_bytes = 2 * p.virtual_stages * msg * mb_count
    p2p_exposed = max(0.0, p2p - t_mb) if p.overlap_p2p_comm else p2p
    comm["pp"] = CommStat(bytes=p2p_bytes, time_s=p2p * mb_count,
                          exposed_s=p2p_exposed * mb_count)

    bubble = bubble_fraction(p.pp, mb_count, p.virtual_stages)
    t_slot = t_mb + p2p_exposed
    t_pipeline = (mb_count + (p.pp - 1) / p.virtual_stages) * t_slot

    # Data parallel (over dp*cp ranks): gradient reduce (+ parameter gather when sharded).
    dp_ranks = p.dp * p.cp
    dp_time = 0.0
    dp_bytes = 0.0
    dp_exposed = 0.0
    if dp_ranks > 1:
        group_per_node = max(1, node // (t * p.cp)) if t * p.cp < node else 1
        group_per_node = min(group_per_node, dp_ranks)
        bw, lat = group_link(dp_ranks, group_per_node, up, out)
        grad_b = local_params * state.gradients
        if p.zero_stage == 0:
            dp_time = collective_time("all_reduce", grad_b, dp_ranks, bw, lat, "auto")
            dp_bytes = 2 * grad_b * (dp_ranks - 1) / dp_ranks
        elif p.zero_stage in (1, 2):
            t_rs = collective_time("reduce_scatter", grad_b, dp_ranks, bw, lat)
            t_ag = collective_time("all_gather", local_params * 2.0, dp_ranks, bw, lat)
            dp_time = t_rs + t_ag
            dp_bytes = (grad_b + local_params * 2.0) * (dp_ranks - 1) / dp_ranks
        if p.zero_stage == 3:
            # Per micro-batch: gather params forward and backward, reduce-scatter grads, one
            # collective per unit (a layer under FSDP, a bucket under DeepSpeed): each pays
            # the ring's (n - 1) hop latencies, which dominates over hundreds of ranks.
            if p.zero3_bucket_params:
                units = max(1, math.ceil(local_params / p.zero3_bucket_params))
            else:
                units = layers_here + (1 if p.pp == 1 else 0)  # + embedding and output layer
            # Thousands of collectives over hundreds of ranks: priced as NCCL's tuner does
            # (fastest protocol: LL's 0.9 us hops for small chunks, collectives.py).
            spans = dp_ranks > group_per_node
            gather = nccl_ring_time("all_gather", local_params * 2.0 / units, dp_ranks, bw,
                                    spans)
            scatter = nccl_ring_time("reduce_scatter", grad_b / units, dp_ranks, bw, spans)
            per_mb = units * (2 * gather + scatter)
            dp_time = per_mb * mb_count
            dp_bytes = (2 * local_params * 2.0 + grad_b) * (dp_ranks - 1) / dp_ranks * mb_count
            # The first unit's gather runs before any compute and the last unit's
            # reduce-scatter after the last backward (FSDP and DeepSpeed prefetch the next
            # unit behind the current one's compute): exposed. The rest overlaps.
            edges = gather + scatter if units > 1 else per_mb
            dp_exposed = (edges + overlapped(per_mb - edges, t_mb)) * mb_count
        elif p.overlap_grad_reduce and p.zero_stage == 0:
            dp_exposed = max(0.0, dp_time - 2.0 / 3.0 * t_mb)  # behind the last backward
        elif p.overlap_grad_reduce:
            # Reduce-scatter behind the last backward, all-gather behind the first forward.
            dp_exposed = max(0.0, t_rs - 2.0 / 3.0 * t_mb) + max(0.0, t_ag - t_mb / 3.0)
        else:
            dp_exposed = dp_time
    comm["dp"] = CommStat(bytes=dp_bytes, time_s=dp_time, exposed_s=dp_exposed)

    # Optimizer: Adam reads and writes every state byte of the local shard once.
    state_local = w + g + o
    t_opt = 2.0 * state_local / mem_rate

    step = t_pipeline + dp_exposed + t_opt
    n = c.num_gpus
    peak = (c.peak_tflops * 1e12) if c.peak_tflops else peak_bf16
    model_tf = model_flops / step / n / 1e12
    hw_tf = hw_flops / step / n / 1e12
    if bubble > 0.25:
        problems.append(Problem(code="large_bubble",
                                message=f"pipeline bubble is {bubble:.0%} of compute; raise "
                                "micro-batches per pipeline or virtual stages."))
    breakdown = {
        "gemm": t_gemm * mb_count,
        "attention": t_attn * mb_count,
        "memory_bound": t_mem * mb_count,
        "kernel_launch": t_launch * mb_count,
        "moe_host": t_host * mb_count,
        "tp_exposed": tp_exposed * mb_count,
        "cp_exposed": cp_exposed * mb_count,
        "ep_all_to_all": ep_exposed * mb_count,
        "pp_p2p": p2p_exposed * mb_count,
        "bubble": (p.pp - 1) / p.virtual_stages * t_slot,
        "dp_exposed": dp_exposed,
        "optimizer": t_opt,
    }
    return TrainingResult(
        params=pc.total,
        active_params=pc.active,
        model_flops_per_step=model_flops,
        hardware_flops_per_step=hw_flops,
        flops_convention=f"Megatron-Core per-token count, {p.attention_flops} attention, "
        "logits included, x3 for forward+backward",
        memory_gib=mem,
        fits=fits,
        fits_with_headroom=fits and mem.headroom >= mem.production_headroom,
        microbatches=mb_count,
        pipeline_bubble_fraction=bubble,
        step_time_s=step,
        tokens_per_s=tokens_step / step,
        model_tflops_per_gpu=model_tf,
        hardware_tflops_per_gpu=hw_tf,
        mfu=model_tf * 1e12 / peak,
        hfu=hw_tf * 1e12 / peak,
        mfu_vs_precision_peak=model_tf / gpu.peak(precision),
        peak_tflops=peak / 1e12,
        checkpoint_gb=checkpoint_bytes(pc.total) / 1e9,
        communication=comm,
        time_breakdown_s=breakdown,
        problems=problems,
    )
