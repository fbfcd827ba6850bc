"""GPU, interconnect and model catalogs, each entry with its source.

Conventions: TFLOP/s are *dense* (no structured sparsity) peaks; bandwidths are in
GB/s (1e9 B/s) per direction; memory is the device-visible capacity in GiB as the CUDA /
ROCm runtime reports it (e.g. "80 GB" H100 = 79.19 GiB in vLLM start-up logs).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from graders.hw.inputs import MAX_LAYERS, MAX_TOKENS, MAX_WIDTH, HwInput

Precision = Literal["bf16", "fp16", "fp8"]


class Link(BaseModel):
    """A scale-up or scale-out interconnect, per GPU, per direction."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Catalog name of the link.")
    kind: Literal["scale_up", "scale_out"] = Field(
        description="scale_up: inside the node (NVLink, Infinity Fabric, PCIe); scale_out: NICs."
    )
    line_rate_gbps: float = Field(gt=0, description="Line rate per GPU per direction, GB/s.")
    achievable_busbw_gbps: float = Field(
        gt=0, description="Achievable NCCL bus bandwidth per GPU (ring), GB/s."
    )
    latency_us: float = Field(ge=0, description="Per-hop latency used by the alpha-beta model, us.")
    nvls_allreduce_busbw_gbps: dict[int, float] = Field(
        default_factory=dict,
        description="All-reduce busbw inside one node with NVLink SHARP (NCCL's NVLS "
        "algorithm, in-switch reduction), by GPUs in the group; measured, empty = none.",
    )
    source: str = Field(description="Where the figures come from.")


class GPU(BaseModel):
    """An accelerator with its dense peaks, memory and default links."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Catalog name.")
    peak_tflops: dict[str, float] = Field(
        description="Dense peak TFLOP/s per precision (bf16, fp16, fp8, tf32, fp32)."
    )
    memory_gib: float = Field(gt=0, description="Device-visible HBM capacity, GiB.")
    memory_bw_gbps: float = Field(gt=0, description="HBM bandwidth, GB/s.")
    scale_up_link: str = Field(description="Default link inside a node (catalog name).")
    scale_out_link: str = Field(description="Default NIC per GPU (catalog name).")
    gpus_per_node: int = Field(gt=0, description="GPUs in the usual node (HGX/DGX/OAM board).")
    gemm_efficiency: dict[str, float] = Field(
        description="Sustainable fraction of dense peak for best-shape GEMMs, per precision."
    )
    compute_units: int = Field(0, ge=0, description="SMs (CUs on AMD) for tile and wave "
                               "quantization; 0 = unknown (not modelled).")
    attention_efficiency: dict[str, tuple[float, float]] = Field(
        description="Fused attention kernels: (forward + backward efficiency at long sequences "
        "as a fraction of the BF16 dense peak, sequence length in tokens at which half of it "
        "is reached). 'flash' = the generation's best fused kernel (cuDNN / FlashAttention-3 "
        "on Hopper, FlashAttention-2 on Ampere), 'flash2' = FlashAttention-2."
    )
    hbm_read_efficiency: float = Field(
        0.9, gt=0, le=1, description="Measured read-stream HBM bandwidth (BabelStream Dot, "
        "read-only) as a fraction of memory_bw_gbps: what a decode step's weight and KV reads "
        "reach (serving_perf.py).")
    kernel_overhead_us: float = Field(
        2.0, ge=0, description="Time of one tiny kernel launched back to back inside a CUDA "
        "graph, us: the fixed cost every kernel of a decode step pays (serving_perf.py).")
    source: str = Field(description="Where the figures come from.")

    def peak(self, precision: str) -> float:
        """Dense peak TFLOP/s for a precision, ValueError if the GPU lacks it."""
        if precision not in self.peak_tflops:
            raise ValueError(
                f"{self.name} has no {precision} peak; known: {sorted(self.peak_tflops)}"
            )
        return self.peak_tflops[precision]


class ModelSpec(HwInput):
    """Decoder-only transformer architecture (dense or mixture-of-experts)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    num_layers: int = Field(gt=0, le=MAX_LAYERS, description="Transformer layers (L).")
    hidden_size: int = Field(gt=0, le=MAX_WIDTH, description="Model width (h).")
    num_attention_heads: int = Field(gt=0, le=MAX_WIDTH, description="Query heads (a).")
    num_kv_heads: int | None = Field(
        default=None, gt=0, le=MAX_WIDTH, description="Key/value heads (GQA); null means equal to query heads."
    )
    head_dim: int | None = Field(
        default=None, gt=0, le=MAX_WIDTH, description="Per-head width; null means hidden_size / heads."
    )
    ffn_hidden_size: int | None = Field(
        default=None, gt=0, le=4 * MAX_WIDTH, description="MLP inner width; null means 4 * hidden_size."
    )
    vocab_size: int = Field(gt=0, le=16 * MAX_WIDTH, description="Vocabulary size (padded, as allocated).")
    gated_mlp: bool = Field(default=False, description="SwiGLU-style MLP with 3 matrices.")
    tied_embeddings: bool = Field(default=False, description="Output layer shares the embedding.")
    bias: bool = Field(default=False, description="Linear layers carry biases (GPT-2/3 style).")
    norm: Literal["layernorm", "rmsnorm"] = Field(
        default="rmsnorm", description="Normalisation kind: layernorm has a bias, rmsnorm not."
    )
    max_position_embeddings: int | None = Field(
        default=None,
        gt=0,
        le=MAX_TOKENS,
        description="Learned absolute position table size; null for rotary (no parameters).",
    )
    dropout: bool = Field(
        default=True,
        description="Trained with hidden dropout (1-byte masks stored, Korthikanti's count); "
        "Llama-family recipes train without.",
    )
    num_experts: int = Field(default=1, gt=0, le=MAX_WIDTH, description="MoE experts per layer (1 = dense).")
    experts_per_token: int = Field(default=1, gt=0, le=MAX_WIDTH, description="MoE top-k routed experts.")

    @model_validator(mode="after")
    def _check(self) -> ModelSpec:
        kv = self.kv_heads
        if self.num_attention_heads % kv:
            raise ValueError("num_attention_heads must be a multiple of num_kv_heads")
        if self.head_dim is None and self.hidden_size % self.num_attention_heads:
            raise ValueError("hidden_size must be a multiple of num_attention_heads")
        if self.experts_per_token > self.num_experts:
            raise ValueError("experts_per_token cannot exceed num_experts")
        return self

    @property
    def kv_heads(self) -> int:
        return self.num_kv_heads or self.num_attention_heads

    @property
    def d_head(self) -> int:
        return self.head_dim or self.hidden_size // self.num_attention_heads

    @property
    def ffn(self) -> int:
        return self.ffn_hidden_size or 4 * self.hidden_size


class ModelPreset(BaseModel):
    """A named architecture with its source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Preset name.")
    spec: ModelSpec = Field(description="The architecture.")
    source: str = Field(description="Where the configuration comes from.")


_NCCL = "NCCL maintainers, nvidia/nccl #1442 and nccl-tests #212"

LINKS: dict[str, Link] = {
    link.name: link
    for link in [
        Link(
            name="NVLink3",
            kind="scale_up",
            line_rate_gbps=300,
            achievable_busbw_gbps=230,
            latency_us=3.0,
            source="A100 datasheet: 600 GB/s total over 12 links = 300/dir, all-to-all "
            "through NVSwitch (DGX/HGX A100); ~230 GB/s all-reduce busbw on DGX A100 "
            "(nccl-tests reports; ~77% of line rate)",
        ),
        Link(
            name="NVLink4",
            kind="scale_up",
            line_rate_gbps=450,
            achievable_busbw_gbps=370,
            latency_us=3.0,
            nvls_allreduce_busbw_gbps={5: 420, 6: 440, 7: 460, 8: 480},
            source="H100 datasheet 900 GB/s bidirectional = 450/dir through third-generation "
            f"NVSwitch (HGX/DGX H100); 370 GB/s app-level, {_NCCL}; NVLS all-reduce busbw "
            "370 up to 4 GPUs, 420/440/460/480 for 5-8 (nvidia/nccl #1455, NCCL_ALGO=NVLS, "
            "2-4 GB; ~480 on 8 per the NCCL maintainers in nccl-tests #212)",
        ),
        Link(
            name="NVLink5",
            kind="scale_up",
            line_rate_gbps=900,
            achievable_busbw_gbps=740,
            latency_us=3.0,
            source="B200 datasheet 1.8 TB/s bidirectional = 900/dir; achievable scaled by the "
            "NVLink4 ratio 370/450 (derived, unverified)",
        ),
        Link(
            name="InfinityFabric-MI300X",
            kind="scale_up",
            line_rate_gbps=448,
            achievable_busbw_gbps=310,
            latency_us=4.0,
            source="AMD MI300X datasheet: 7 links x 64 GB/s/dir = 448/dir (896 aggregate); "
            "achievable ~0.7 of line for 8-GPU ring (derived, unverified)",
        ),
        Link(
            name="PCIe4",
            kind="scale_up",
            line_rate_gbps=32,
            achievable_busbw_gbps=24,
            latency_us=5.0,
            source="PCIe 4.0 x16 = 32 GB/s/dir; ~24 GB/s typical measured (derived)",
        ),
        Link(
            name="PCIe5",
            kind="scale_up",
            line_rate_gbps=64,
            achievable_busbw_gbps=50,
            latency_us=5.0,
            source="PCIe 5.0 x16 = 64 GB/s/dir; ~50 GB/s typical measured (derived)",
        ),
        Link(
            name="IB-EDR",
            kind="scale_out",
            line_rate_gbps=12.5,
            achievable_busbw_gbps=12,
            latency_us=5.0,
            source="EDR 100 Gb/s = 12.5 GB/s; achievable scaled by the HDR ratio 24/25 (derived)",
        ),
        Link(
            name="OmniPath-100",
            kind="scale_out",
            line_rate_gbps=12.5,
            achievable_busbw_gbps=12,
            latency_us=5.0,
            source="Intel Omni-Path 100 Gb/s = 12.5 GB/s (e.g. Jean Zay, BLOOM: 4 per 8-GPU "
            "node); achievable scaled by the HDR ratio 24/25 (derived, unverified)",
        ),
        Link(
            name="IB-HDR",
            kind="scale_out",
            line_rate_gbps=25,
            achievable_busbw_gbps=24,
            latency_us=5.0,
            source="HDR 200 Gb/s = 25 GB/s; DGX-A100 8x200 Gb/s -> 192 GB/s all-reduce busbw "
            "(24 per NIC), NCCL maintainers",
        ),
        Link(
            name="IB-NDR",
            kind="scale_out",
            line_rate_gbps=50,
            achievable_busbw_gbps=47,
            latency_us=5.0,
            source=f"NDR 400 Gb/s = 50 GB/s; 46-48 GB/s NCCL busbw per NIC, {_NCCL}",
        ),
        Link(
            name="RoCE-400G",
            kind="scale_out",
            line_rate_gbps=50,
            achievable_busbw_gbps=45,
            latency_us=7.0,
            source="400 Gb/s Ethernet (Llama 3 §3.3.1: RoCE and IB both 400 Gbps); achievable "
            "assumed slightly below NDR (derived, unverified)",
        ),
        Link(
            name="IB-XDR",
            kind="scale_out",
            line_rate_gbps=100,
            achievable_busbw_gbps=92,
            latency_us=5.0,
            source="XDR 800 Gb/s = 100 GB/s (ConnectX-8); achievable scaled by NDR ratio (derived)",
        ),
    ]
}

# GEMM efficiency = MSMF / dense peak. MSMF (maximum *sustainable* matmul FLOPS: the best
# shape once the chip is saturated at its power limit, the clock settled below boost) is the
# measured rate of a long training run's GEMMs; MAMF is the short boost burst. Both from
# mamf-finder.py, tabulated in stas00/ml-engineering compute/accelerator/README.md, "Maximum
# Achievable and Sustainable Matmul FLOPS comparison table" (read 2026-11-22):
#   BF16 MSMF: H200 755/989 = 76.3%, B200 1439/2250 = 64.0%, MI300X 659/1300 = 50.7%;
#   FP8 MSMF:  H200 1354/1979 = 68.4%, B200 2788/4500 = 62.0%, MI300X 1187/2600 = 45.7%.
# Where only MAMF is measured, MSMF = MAMF x the MSMF/MAMF ratio of the closest measured part:
#   A100 SXM BF16 MAMF 86.9% x 0.905 (A100 PCIe 258/285) = 78.7%;
#   H100 SXM BF16 MAMF 80.4% x 0.888 (H200 755/850) = 71.4%;
#   H100 SXM FP8 MAMF 70.9% x 0.888 (H200 1354/1525) = 62.9%.
# These replace an earlier single 0.9 "sustained clocks and shapes" derate on MAMF that was
# set with the published cases in view: the measured ratios (0.83-0.905) now stand for it.
# Corroboration, OpenXLA's measured matmul table (matmul_interpolator_data.h, one timed run
# per shape): H100 (sm_90) 4096^3 BF16 783 TFLOP/s = 79%, the MAMF level, and K = 2048 shapes
# within 3-7% of it; B200 (sm_100) 4096^3 BF16 1417 = 63%, FP8 2765-2785 = 61-62%, the MSMF.
MSMF_MAMF_A100 = 258 / 285
MSMF_MAMF_H200_BF16 = 755 / 850
MSMF_MAMF_H200_FP8 = 1354 / 1525


# Fused attention, forward + backward (backward = 2.5x the forward FLOPs), causal, head
# dim 128, at long sequences, as a fraction of the BF16 dense peak:
#   H100 SXM5 (Shah et al. 2024, FlashAttention-3, Fig. 5 causal forward and Fig. 6
#   backward, 16k): cuDNN 539 / 516 TFLOP/s -> 522 = 0.53 of 989 (0.54 as the asymptote of
#   the sequence curve below); FlashAttention-2 335 / 322 -> 326 = 0.33 (0.34).
#   A100 (Dao 2023, FlashAttention-2): forward up to 73%, backward up to 63% of peak, both
#   without the causal mask; causal runs keep ~0.9 of that at long sequences (FA2's 335 vs
#   370 TFLOP/s forward on H100 above) -> 0.66 / 0.57 -> 0.60. The best fused kernel on
#   Ampere is FlashAttention-2 itself.
#   Short sequences leave the kernels' tiles unfilled: efficiency x s / (s + s_half), s_half
#   from the same H100 sweeps (512 to 16k tokens): 400 tokens for cuDNN, 330 for
#   FlashAttention-2 (used for FlashAttention-2 on Ampere too).
# B200: the FlashAttention-4 paper (Zadouri et al. 2026) reports its BF16 forward at up to
# 1613 TFLOP/s, 1.3x cuDNN 9.13 -> cuDNN forward ~1240 = 0.55 of 2250, Hopper's cuDNN
# fraction; no backward figure was found, so B200 takes Hopper's cuDNN values (forward
# corroborated, backward assumed). MI300X: no measurement found; Hopper's values, assumed.
ATTN_HOPPER = {"flash": (0.54, 400.0), "flash2": (0.34, 330.0)}
ATTN_AMPERE = {"flash": (0.60, 330.0), "flash2": (0.60, 330.0)}
ATTN_ASSUMED = {"flash": (0.54, 400.0), "flash2": (0.54, 400.0)}

# Serving (serving_perf.py). HBM read efficiency = BabelStream Dot (two read streams, no
# write: what GEMV-like decode kernels do) / datasheet bandwidth, from Azure's
# AI-benchmarking-guide results (Azure_Results/ND_*_results.md, one harness for all parts):
#   A100 SXM4 80GB 1.75 / 2.039 = 0.858, H100 SXM 3.18 / 3.35 = 0.949, H200 4.48 / 4.8 =
#   0.933, MI300X 3.87 / 5.3 = 0.730. A100 40GB takes the 80GB part's ratio (assumed); H100
#   PCIe 1942 / 2000 = 0.971 (te42kyfo/gpu-benches gpu-stream "read" at full occupancy, the
#   only measurement found); B200 takes H200's (assumed).
# Kernel overhead = time per kernel of 10,000 tiny SCALE kernels (64 KiB) launched back to
# back in one CUDA graph (te42kyfo/gpu-benches gpu-small-kernels, *_graph.txt): A100 80GB
# 64 KiB at 49 GB/s = 1.34 us, H200 at 29 GB/s = 2.26 us (taken for H100, same GH100 die);
# B200 and MI300X take H200's (assumed).
HBM_READ = {"A100-80": 1.75 / 2.039, "H100": 3.18 / 3.35, "H200": 4.48 / 4.8,
            "MI300X": 3.87 / 5.3, "H100-PCIe": 1942 / 2000}
KERNEL_US_AMPERE = 65536 / 49e9 * 1e6
KERNEL_US_HOPPER = 65536 / 29e9 * 1e6


def _eff(bf16: float, fp8: float | None = None) -> dict[str, float]:
    """GEMM efficiency per precision from MSMF fractions of the dense peak."""
    out = {"bf16": bf16, "fp16": bf16}
    if fp8 is not None:
        out["fp8"] = fp8
    return out


GPUS: dict[str, GPU] = {
    g.name: g
    for g in [
        GPU(
            name="A100-SXM4-40GB",
            compute_units=108,
            peak_tflops={"bf16": 312, "fp16": 312, "tf32": 156, "fp32": 19.5},
            memory_gib=39.39,
            memory_bw_gbps=1555,
            scale_up_link="NVLink3",
            scale_out_link="IB-HDR",
            gpus_per_node=8,
            gemm_efficiency=_eff(0.869 * MSMF_MAMF_A100),
            attention_efficiency=ATTN_AMPERE,
            hbm_read_efficiency=HBM_READ["A100-80"],
            kernel_overhead_us=KERNEL_US_AMPERE,
            source="NVIDIA A100 datasheet; Megatron 2021 §5 (312 TF peak); DGX A100 8x HDR",
        ),
        GPU(
            name="A100-SXM4-80GB",
            compute_units=108,
            peak_tflops={"bf16": 312, "fp16": 312, "tf32": 156, "fp32": 19.5},
            memory_gib=79.15,
            memory_bw_gbps=2039,
            scale_up_link="NVLink3",
            scale_out_link="IB-HDR",
            gpus_per_node=8,
            gemm_efficiency=_eff(0.869 * MSMF_MAMF_A100),
            attention_efficiency=ATTN_AMPERE,
            hbm_read_efficiency=HBM_READ["A100-80"],
            kernel_overhead_us=KERNEL_US_AMPERE,
            source="NVIDIA A100 datasheet (80GB HBM2e, 2,039 GB/s); DGX A100 8x HDR",
        ),
        GPU(
            name="H100-SXM-80GB",
            compute_units=132,
            peak_tflops={"bf16": 989.4, "fp16": 989.4, "fp8": 1978.9, "tf32": 494.7, "fp32": 66.9},
            memory_gib=79.19,
            memory_bw_gbps=3350,
            scale_up_link="NVLink4",
            scale_out_link="IB-NDR",
            gpus_per_node=8,
            gemm_efficiency=_eff(0.804 * MSMF_MAMF_H200_BF16, 0.709 * MSMF_MAMF_H200_FP8),
            attention_efficiency=ATTN_HOPPER,
            hbm_read_efficiency=HBM_READ["H100"],
            kernel_overhead_us=KERNEL_US_HOPPER,
            source="NVIDIA H100 datasheet (dense = half of the sparse figures); Llama 3 paper "
            "(989 TF BF16 peak); DGX H100 8x NDR",
        ),
        GPU(
            name="H100-PCIe-80GB",
            compute_units=114,
            peak_tflops={"bf16": 756.5, "fp16": 756.5, "fp8": 1513, "tf32": 378, "fp32": 51.2},
            memory_gib=79.19,
            memory_bw_gbps=2000,
            scale_up_link="PCIe5",
            scale_out_link="IB-NDR",
            gpus_per_node=8,
            gemm_efficiency=_eff(0.804 * MSMF_MAMF_H200_BF16, 0.709 * MSMF_MAMF_H200_FP8),
            attention_efficiency=ATTN_HOPPER,
            hbm_read_efficiency=HBM_READ["H100-PCIe"],
            kernel_overhead_us=KERNEL_US_HOPPER,
            source="NVIDIA H100 PCIe datasheet (1,513 TF FP16 sparse -> 756.5 dense; HBM2e 2 TB/s)",
        ),
        GPU(
            name="H200-SXM-141GB",
            compute_units=132,
            peak_tflops={"bf16": 989.4, "fp16": 989.4, "fp8": 1978.9, "tf32": 494.7, "fp32": 66.9},
            memory_gib=139.8,
            memory_bw_gbps=4800,
            scale_up_link="NVLink4",
            scale_out_link="IB-NDR",
            gpus_per_node=8,
            gemm_efficiency=_eff(0.763, 0.684),
            attention_efficiency=ATTN_HOPPER,
            hbm_read_efficiency=HBM_READ["H200"],
            kernel_overhead_us=KERNEL_US_HOPPER,
            source="NVIDIA H200 datasheet (141 GB HBM3e, 4.8 TB/s; same compute as H100 SXM)",
        ),
        GPU(
            name="B200-SXM-180GB",
            compute_units=148,
            peak_tflops={"bf16": 2250, "fp16": 2250, "fp8": 4500, "tf32": 1100, "fp32": 75},
            memory_gib=179.0,
            memory_bw_gbps=8000,
            scale_up_link="NVLink5",
            scale_out_link="IB-NDR",
            gpus_per_node=8,
            gemm_efficiency=_eff(0.640, 0.620),
            attention_efficiency=ATTN_ASSUMED,
            hbm_read_efficiency=HBM_READ["H200"],
            kernel_overhead_us=KERNEL_US_HOPPER,
            source="NVIDIA DGX B200 datasheet (72 PF FP8 sparse per 8 GPUs -> 4.5 PF dense; "
            "1,440 GB HBM3e; 64 TB/s); MSMF measured (stas00/ml-engineering)",
        ),
        GPU(
            name="MI300X",
            compute_units=304,
            peak_tflops={"bf16": 1307.4, "fp16": 1307.4, "fp8": 2614.9, "tf32": 653.7,
                         "fp32": 163.4},
            memory_gib=191.98,
            memory_bw_gbps=5300,
            scale_up_link="InfinityFabric-MI300X",
            scale_out_link="RoCE-400G",
            gpus_per_node=8,
            gemm_efficiency=_eff(0.507, 0.457),
            attention_efficiency=ATTN_ASSUMED,
            hbm_read_efficiency=HBM_READ["MI300X"],
            kernel_overhead_us=KERNEL_US_HOPPER,
            source="AMD Instinct MI300X datasheet (dense peaks, 192 GB HBM3, 5.3 TB/s); "
            "MSMF 50.7% BF16, 45.7% FP8 (stas00/ml-engineering)",
        ),
    ]
}

GPU_ALIASES: dict[str, str] = {
    "A100-40GB": "A100-SXM4-40GB",
    "A100-80GB": "A100-SXM4-80GB",
    "A100": "A100-SXM4-80GB",
    "A100-SXM-40GB": "A100-SXM4-40GB",
    "A100-SXM-80GB": "A100-SXM4-80GB",
    "A100-SXM4": "A100-SXM4-80GB",
    "H100": "H100-SXM-80GB",
    "H100-SXM": "H100-SXM-80GB",
    "H100-80GB": "H100-SXM-80GB",
    "H100-80GB-HBM3": "H100-SXM-80GB",
    "H100-PCIe": "H100-PCIe-80GB",
    "H200": "H200-SXM-141GB",
    "H200-SXM": "H200-SXM-141GB",
    "H200-141GB": "H200-SXM-141GB",
    "B200": "B200-SXM-180GB",
    "B200-SXM": "B200-SXM-180GB",
    "B200-180GB": "B200-SXM-180GB",
    "Instinct-MI300X": "MI300X",
    # Cloud instance types with one GPU kind each (AWS, Google Cloud, Azure documentation).
    "p4d.24xlarge": "A100-SXM4-40GB",
    "p4de.24xlarge": "A100-SXM4-80GB",
    "p5.48xlarge": "H100-SXM-80GB",
    "p5.4xlarge": "H100-SXM-80GB",
    "p5e.48xlarge": "H200-SXM-141GB",
    "p5en.48xlarge": "H200-SXM-141GB",
    "p6-b200.48xlarge": "B200-SXM-180GB",
    **{f"a2-highgpu-{n}g": "A100-SXM4-40GB" for n in (1, 2, 4, 8)},
    **{f"a2-ultragpu-{n}g": "A100-SXM4-80GB" for n in (1, 2, 4, 8)},
    **{f"a3-highgpu-{n}g": "H100-SXM-80GB" for n in (1, 2, 4, 8)},
    "a3-megagpu-8g": "H100-SXM-80GB",
    "a3-edgegpu-8g": "H100-SXM-80GB",
    "a3-ultragpu-8g": "H200-SXM-141GB",
    "a4-highgpu-8g": "B200-SXM-180GB",
    "Standard_ND96asr_v4": "A100-SXM4-40GB",
    "Standard_ND96amsr_A100_v4": "A100-SXM4-80GB",
    "Standard_ND96isr_H100_v5": "H100-SXM-80GB",
    "Standard_ND96isr_H200_v5": "H200-SXM-141GB",
    "Standard_ND96isr_MI300X_v5": "MI300X",
}

_META = "Meta config.json on Hugging Face (meta-llama/*)"

MODELS: dict[str, ModelPreset] = {
    p.name: p
    for p in [
        ModelPreset(
            name="gpt3-175b",
            spec=ModelSpec(
                num_layers=96, hidden_size=12288, num_attention_heads=96, vocab_size=51200,
                bias=True, norm="layernorm", tied_embeddings=True, max_position_embeddings=2048,
            ),
            source="Brown et al. 2020 Table 2.1; vocab padded to 51200 as in Megatron 2021",
        ),
        ModelPreset(
            name="megatron-1t",
            spec=ModelSpec(
                num_layers=128, hidden_size=25600, num_attention_heads=160, vocab_size=51200,
                bias=True, norm="layernorm", tied_embeddings=True, max_position_embeddings=2048,
            ),
            source="Narayanan et al. 2021 Table 1; Korthikanti et al. 2022 Table 3",
        ),
        ModelPreset(
            name="mt-nlg-530b",
            spec=ModelSpec(
                num_layers=105, hidden_size=20480, num_attention_heads=128, vocab_size=51200,
                bias=True, norm="layernorm", tied_embeddings=True, max_position_embeddings=2048,
            ),
            source="Smith et al. 2022 §2.4; Korthikanti et al. 2022 Table 3",
        ),
        ModelPreset(
            name="opt-13b",
            spec=ModelSpec(
                num_layers=40, hidden_size=5120, num_attention_heads=40, vocab_size=50272,
                bias=True, norm="layernorm", tied_embeddings=True, max_position_embeddings=2050,
            ),
            source="Zhang et al. 2022 (OPT) Table 1; facebook/opt-13b config.json",
        ),
        ModelPreset(
            name="llama2-7b",
            spec=ModelSpec(
                num_layers=32, hidden_size=4096, num_attention_heads=32, ffn_hidden_size=11008,
                vocab_size=32000, gated_mlp=True, dropout=False,
            ),
            source=_META,
        ),
        ModelPreset(
            name="llama2-13b",
            spec=ModelSpec(
                num_layers=40, hidden_size=5120, num_attention_heads=40, ffn_hidden_size=13824,
                vocab_size=32000, gated_mlp=True, dropout=False,
            ),
            source=_META,
        ),
        ModelPreset(
            name="llama2-70b",
            spec=ModelSpec(
                num_layers=80, hidden_size=8192, num_attention_heads=64, num_kv_heads=8,
                ffn_hidden_size=28672, vocab_size=32000, gated_mlp=True, dropout=False,
            ),
            source=_META,
        ),
        ModelPreset(
            name="llama-33b",
            spec=ModelSpec(
                num_layers=60, hidden_size=6656, num_attention_heads=52, ffn_hidden_size=17920,
                vocab_size=32000, gated_mlp=True, dropout=False,
            ),
            source="LLaMA (Touvron et al. 2023) Table 2; huggyllama/llama-30b config.json",
        ),
        ModelPreset(
            name="gptj-6b",
            spec=ModelSpec(
                num_layers=28, hidden_size=4096, num_attention_heads=16, ffn_hidden_size=16384,
                vocab_size=50400, norm="layernorm", dropout=False,
            ),
            source="EleutherAI/gpt-j-6b config.json (rotary, untied LM head; the MLP's and "
            "LM head's biases are left out: under 0.1% of the weights)",
        ),
        ModelPreset(
            name="falcon-180b",
            spec=ModelSpec(
                num_layers=80, hidden_size=14848, num_attention_heads=232, num_kv_heads=8,
                vocab_size=65024, norm="layernorm", tied_embeddings=True, dropout=False,
            ),
            source="tiiuae/falcon-180B config.json (232 heads of 64, 8 KV groups, 4h MLP)",
        ),
        ModelPreset(
            name="llama3-8b",
            spec=ModelSpec(
                num_layers=32, hidden_size=4096, num_attention_heads=32, num_kv_heads=8,
                ffn_hidden_size=14336, vocab_size=128256, gated_mlp=True, dropout=False,
            ),
            source=_META,
        ),
        ModelPreset(
            name="llama3-70b",
            spec=ModelSpec(
                num_layers=80, hidden_size=8192, num_attention_heads=64, num_kv_heads=8,
                ffn_hidden_size=28672, vocab_size=128256, gated_mlp=True, dropout=False,
            ),
            source=_META,
        ),
        ModelPreset(
            name="llama3.1-405b",
            spec=ModelSpec(
                num_layers=126, hidden_size=16384, num_attention_heads=128, num_kv_heads=8,
                ffn_hidden_size=53248, vocab_size=128256, gated_mlp=True, dropout=False,
            ),
            source=_META + "; Llama 3 paper Table 3",
        ),
        ModelPreset(
            name="qwen3-30b-a3b",
            spec=ModelSpec(
                num_layers=48, hidden_size=2048, num_attention_heads=32, num_kv_heads=4,
                head_dim=128, ffn_hidden_size=768, vocab_size=151936, gated_mlp=True,
                dropout=False,
                num_experts=128, experts_per_token=8,
            ),
            source="Qwen/Qwen3-30B-A3B config.json (128 experts, top-8, expert ffn 768, every "
            "layer MoE); Megatron-Bridge Qwen3MoEModelProvider30B_A3B",
        ),
        ModelPreset(
            name="qwen3-235b-a22b",
            spec=ModelSpec(
                num_layers=94, hidden_size=4096, num_attention_heads=64, num_kv_heads=4,
                head_dim=128, ffn_hidden_size=1536, vocab_size=151936, gated_mlp=True,
                dropout=False,
                num_experts=128, experts_per_token=8,
            ),
            source="Qwen/Qwen3-235B-A22B config.json (128 experts, top-8, expert ffn 1536)",
        ),
        ModelPreset(
            name="palm-540b",
            spec=ModelSpec(
                num_layers=118, hidden_size=18432, num_attention_heads=48, num_kv_heads=1,
                head_dim=256, ffn_hidden_size=73728, vocab_size=256000, gated_mlp=True,
                dropout=False,
                tied_embeddings=True,
            ),
            source="Chowdhery et al. 2022 (PaLM) Table 1 (multi-query, SwiGLU, shared embeddings)",
        ),
        ModelPreset(
            name="mixtral-8x7b",
            spec=ModelSpec(
                num_layers=32, hidden_size=4096, num_attention_heads=32, num_kv_heads=8,
                ffn_hidden_size=14336, vocab_size=32000, gated_mlp=True, dropout=False,
                num_experts=8, experts_per_token=2,
            ),
            source="mistralai/Mixtral-8x7B-v0.1 config.json (8 experts, top-2)",
        ),
    ]
}

MODEL_ALIASES: dict[str, str] = {
    "llama3.1-8b": "llama3-8b",
    "llama3.1-70b": "llama3-70b",
    "llama3-405b": "llama3.1-405b",
    "gpt-3": "gpt3-175b",
    "gpt3": "gpt3-175b",
}


def _norm(name: str) -> str:
    return name.strip().lower()


def _gpu_norm(name: str) -> str:
    """GPU names as vendors and clouds write them: 'NVIDIA H100 SXM5 80GB HBM3' = 'h100sxm80gb'.

    Case, spaces, '-' and '_' do not matter, nor a vendor prefix, the SXM generation digit
    or the HBM generation; PCIe, NVL and memory sizes do (they are other products).
    """
    key = re.sub(r"[\s_-]+", "", name.strip().lower())
    key = re.sub(r"^(nvidia|amd)", "", key)
    key = re.sub(r"sxm[45]", "sxm", key)
    return re.sub(r"hbm(2e|3e|3)$", "", key)


def _index(table: dict[str, object], aliases: dict[str, str],
           norm: Callable[[str], str] = _norm) -> dict[str, str]:
    """Normalised name or alias -> canonical name."""
    out = {norm(k): v for k, v in aliases.items()}
    out.update({norm(k): k for k in table})
    return out


_GPU_INDEX = _index(dict(GPUS), GPU_ALIASES, _gpu_norm)
_LINK_INDEX = _index(dict(LINKS), {})
_MODEL_INDEX = _index(dict(MODELS), MODEL_ALIASES)


def _lookup(name: str, index: dict[str, str], table: dict[str, object], what: str,
            norm: Callable[[str], str] = _norm) -> str:
    key = index.get(norm(name))
    if key is None:
        raise ValueError(f"unknown {what} {name!r}; known: {', '.join(sorted(table))}")
    return key


def get_gpu(name: str) -> GPU:
    """Look up a GPU by name or alias (case-insensitive)."""
    return GPUS[_lookup(name, _GPU_INDEX, dict(GPUS), "GPU", _gpu_norm)]


def get_link(name: str) -> Link:
    """Look up an interconnect by name (case-insensitive)."""
    return LINKS[_lookup(name, _LINK_INDEX, dict(LINKS), "link")]


def get_model(name: str) -> ModelSpec:
    """Look up a model preset's architecture by name or alias (case-insensitive)."""
    return MODELS[_lookup(name, _MODEL_INDEX, dict(MODELS), "model")].spec


def _known_gpu(name: str) -> str:
    get_gpu(name)
    return name


def _known_link(name: str) -> str:
    get_link(name)
    return name


def _known_model(ref: str | ModelSpec) -> str | ModelSpec:
    if isinstance(ref, str):
        get_model(ref)
    return ref


# Field types that reject unknown catalog names at the field itself (so errors name it).
GpuName = Annotated[str, AfterValidator(_known_gpu)]
LinkName = Annotated[str, AfterValidator(_known_link)]
ModelRef = Annotated[str | ModelSpec, AfterValidator(_known_model)]
