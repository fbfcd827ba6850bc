"""Inputs of the training model: cluster, parallel plan, and the whole document."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from graders.hw.catalog import (
    GPU,
    GpuName,
    Link,
    LinkName,
    ModelRef,
    ModelSpec,
    get_gpu,
    get_link,
    get_model,
)
from graders.hw.inputs import MAX_GPUS, MAX_TOKENS, HwInput
from graders.hw.transformer import AttentionFlops, AttentionImpl, Recompute


class ClusterSpec(HwInput):
    """The GPUs a plan runs on."""

    model_config = ConfigDict(extra="forbid")

    gpu: GpuName = Field(description="GPU catalog name or alias (see `burnin hw catalog`).")
    num_gpus: int = Field(gt=0, le=MAX_GPUS, description="Total GPUs in the job.")
    gpus_per_node: int | None = Field(
        default=None, gt=0, description="GPUs per node (NVLink domain); null = catalog default."
    )
    peak_tflops: float | None = Field(
        default=None, gt=0, description="Override of the dense peak TFLOP/s used for MFU/HFU."
    )
    memory_gib: float | None = Field(
        default=None, gt=0, description="Override of the per-GPU memory capacity, GiB."
    )
    scale_up_link: LinkName | None = Field(
        default=None, description="Override of the intra-node link (catalog name)."
    )
    scale_out_link: LinkName | None = Field(
        default=None, description="Override of the per-GPU NIC (catalog name)."
    )
    nics_per_node: int | None = Field(
        default=None,
        gt=0,
        description="Scale-out NICs per node; null = one per GPU (rail-optimised DGX/HGX). "
        "Fewer NICs than GPUs share them: each GPU gets nics/gpus of one NIC's bandwidth.",
    )

    @model_validator(mode="after")
    def _known(self) -> ClusterSpec:
        get_gpu(self.gpu)
        for name in (self.scale_up_link, self.scale_out_link):
            if name is not None:
                get_link(name)
        return self

    def resolved_gpu(self) -> GPU:
        return get_gpu(self.gpu)

    def node_size(self) -> int:
        return self.gpus_per_node or self.resolved_gpu().gpus_per_node

    def scale_out(self) -> Link:
        """The per-GPU scale-out link, its bandwidth shared when NICs are fewer than GPUs."""
        link = get_link(self.scale_out_link or self.resolved_gpu().scale_out_link)
        if self.nics_per_node is None:
            return link
        share = self.nics_per_node / self.node_size()
        return link.model_copy(update={
            "line_rate_gbps": link.line_rate_gbps * share,
            "achievable_busbw_gbps": link.achievable_busbw_gbps * share,
        })


class PlanSpec(HwInput):
    """A parallelism plan and batch."""

    model_config = ConfigDict(extra="forbid")

    tp: int = Field(default=1, ge=1, description="Tensor-parallel degree.")
    pp: int = Field(default=1, ge=1, description="Pipeline-parallel stages.")
    dp: int = Field(default=1, ge=1, description="Data-parallel degree.")
    cp: int = Field(default=1, ge=1, description="Context-parallel degree (sequence split).")
    ep: int = Field(
        default=1, ge=1, description="Expert-parallel degree (MoE); ep*etp divides tp*cp*dp."
    )
    etp: int | None = Field(
        default=None,
        ge=1,
        description="Expert tensor-parallel degree (MoE); null = tp, Megatron's default. "
        "etp < tp folds expert parallelism over tensor-parallel ranks (ep*etp divides "
        "tp*cp*dp).",
    )
    virtual_stages: int = Field(
        default=1, ge=1, description="Model chunks per pipeline stage (interleaved 1F1B)."
    )
    micro_batch_size: int = Field(default=1, ge=1, description="Sequences per micro-batch (b).")
    global_batch_size: int = Field(ge=1, le=MAX_GPUS * 16, description="Sequences per optimizer step (B).")
    seq_len: int = Field(ge=1, le=MAX_TOKENS, description="Tokens per sequence (s).")
    zero_stage: int = Field(
        default=1, ge=0, le=3, description="ZeRO stage; 1 = Megatron distributed optimizer."
    )
    recompute: Recompute = Field(default="none", description="Activation recomputation.")
    zero3_bucket_params: int | None = Field(
        default=None, ge=1, le=10**13,
        description="ZeRO-3: parameters gathered (and gradients reduce-scattered) per "
        "collective. null = one transformer layer, as PyTorch FSDP wrapping each block and "
        "Megatron-FSDP do; DeepSpeed's stage3_prefetch_bucket_size default is 50,000,000.",
    )
    sequence_parallel: bool = Field(
        default=False, description="Megatron sequence parallelism (shards LN/dropout over TP)."
    )
    precision: Literal["bf16", "fp16", "fp8"] = Field(
        default="bf16", description="GEMM precision (fp8 keeps bf16 weights and fp32 master)."
    )
    attention_impl: AttentionImpl | None = Field(
        default=None,
        description="flash: fused kernel, no s*s scores stored, causal blocks skipped; "
        "standard: scores materialised (Megatron 2021-2022). null = standard on GPUs "
        "without FP8 (A100-era stacks), flash on Hopper and newer.",
    )
    attention_flops: AttentionFlops = Field(
        default="full",
        description="Convention for attention model FLOPs: full (Korthikanti/PaLM/NeMo 24.07) "
        "or causal (Megatron-Bridge 25.09+).",
    )
    fp32_grads: bool | None = Field(
        default=None, description="Gradient buffer in fp32; null = true except for fp16."
    )
    tp_comm_overlap: bool = Field(
        default=False, description="TP collectives overlapped with GEMMs (TE userbuffers)."
    )
    overlap_grad_reduce: bool = Field(
        default=True,
        description="DP gradient reduce-scatter overlapped with the last backward and the "
        "parameter all-gather with the first forward (Megatron-Core overlap flags).",
    )
    overlap_p2p_comm: bool = Field(
        default=False, description="Pipeline sends/receives overlapped with compute."
    )
    moe_dispatcher: Literal["all_to_all", "deduplicated"] = Field(
        default="all_to_all",
        description="all_to_all: NCCL all-to-all of every routed copy (Megatron's alltoall "
        "dispatcher); deduplicated: each token sent once per destination node or GPU and "
        "copied there (DeepEP, HybridEP).",
    )
    overlap_ep_comm: bool = Field(
        default=False,
        description="MoE all-to-alls overlapped with another micro-batch's compute (Megatron's "
        "combined 1F1B schedule, DeepSeek's DualPipe).",
    )
    fused_cross_entropy: bool = Field(
        default=False,
        description="Loss computed by one fused kernel (reads the logits, writes their "
        "gradient in place) instead of Megatron's default fp32 vocab-parallel cross entropy.",
    )


class TrainingInput(HwInput):
    """Model, cluster and plan of one training job."""

    model_config = ConfigDict(extra="forbid")

    model: ModelRef = Field(description="Model preset name or an architecture.")
    cluster: ClusterSpec = Field(description="The GPUs.")
    plan: PlanSpec = Field(description="Parallelism, batch and memory-saving choices.")

    @model_validator(mode="after")
    def _consistent(self) -> TrainingInput:
        m = self.spec()
        p, c = self.plan, self.cluster
        product = p.tp * p.pp * p.dp * p.cp
        if product != c.num_gpus:
            raise ValueError(
                f"tp*pp*dp*cp = {p.tp}*{p.pp}*{p.dp}*{p.cp} = {product} "
                f"must equal cluster.num_gpus = {c.num_gpus}"
            )
        if p.global_batch_size % (p.micro_batch_size * p.dp):
            raise ValueError(
                f"global_batch_size {p.global_batch_size} must be a multiple of "
                f"micro_batch_size*dp = {p.micro_batch_size * p.dp}"
            )
        if m.num_attention_heads % p.tp:
            raise ValueError(
                f"tp {p.tp} must divide num_attention_heads {m.num_attention_heads}"
            )
        etp = p.etp or p.tp
        if (p.ep > 1 or p.etp is not None) and m.num_experts == 1:
            raise ValueError("ep and etp apply to mixture-of-experts models (num_experts > 1)")
        if p.ep > 1 and m.num_experts % p.ep:
            raise ValueError(f"ep {p.ep} must divide num_experts {m.num_experts}")
        if (p.tp * p.cp * p.dp) % (p.ep * etp):
            raise ValueError(
                f"ep*etp = {p.ep}*{etp} must divide tp*cp*dp = {p.tp * p.cp * p.dp} "
                "(the ranks of one pipeline stage)"
            )
        if p.pp * p.virtual_stages > m.num_layers:
            raise ValueError(
                f"pp*virtual_stages = {p.pp * p.virtual_stages} exceeds num_layers {m.num_layers}"
            )
        return self

    def spec(self) -> ModelSpec:
        return get_model(self.model) if isinstance(self.model, str) else self.model
