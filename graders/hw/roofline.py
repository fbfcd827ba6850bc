"""Kernel rooflines: attainable time of a kernel from its FLOPs and HBM (DRAM) bytes.

Williams, Waterman and Patterson, "Roofline: an insightful visual performance model for
multicore architectures" (CACM 52(4), 2009): a kernel that performs F FLOPs and moves B bytes
between DRAM and the chip cannot finish faster than max(F / peak, B / bandwidth); its
arithmetic intensity F / B against the ridge point peak / bandwidth says which roof binds.
The peak is the one of the units the kernel runs on (tensor cores at the kernel's precision,
else the vector FP32 units), the bandwidth the data-sheet HBM figure (both from the catalog,
graders/hw/catalog.py). A third roof, the launch floor, bounds kernels too small to fill the
GPU: each launch costs at least the catalog's `kernel_overhead_us` (the measured time of a
tiny kernel back to back in a CUDA graph).

The bytes are DRAM bytes: what crossed the HBM interface after L2 hits. Bytes requested from
L2 (which count reuse served by the cache) give a wrong, pessimistic memory roof on which a
tiled GEMM appears to beat the roofline.

Two changes are modelled, each assuming the new kernel reaches the same share of its roofline
as the kernels it replaces (time-weighted): fusing a chain of kernels (the intermediates'
write and read disappear, the launches become one per step of the chain) and moving a GEMM's
inputs from 16-bit to FP8 (FP8 tensor-core peak, inputs half the bytes, plus a cast kernel
that reads the 16-bit activation and writes it in FP8).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from graders.hw.catalog import get_gpu

TENSOR_DTYPES = ("fp8", "bf16", "fp16", "tf32")


@dataclass(frozen=True)
class RooflineGPU:
    """The roofs of one GPU: tensor-core peaks per precision, the vector peak, HBM bandwidth
    and the per-launch floor."""

    name: str
    tensor_tflops: dict[str, float]
    vector_tflops: float
    hbm_gbps: float
    launch_floor_us: float

    def peak_tflops(self, dtype: str, tensor_core: bool) -> float:
        """Peak of the units a kernel runs on; ValueError for a tensor precision it lacks."""
        if not tensor_core:
            return self.vector_tflops
        if dtype not in self.tensor_tflops:
            raise ValueError(f"{self.name} has no {dtype} tensor-core peak; "
                             f"known: {sorted(self.tensor_tflops)}")
        return self.tensor_tflops[dtype]

    def ridge(self, dtype: str, tensor_core: bool) -> float:
        """Ridge point, FLOP per DRAM byte: intensities at or above it are compute-bound."""
        return self.peak_tflops(dtype, tensor_core) * 1e12 / (self.hbm_gbps * 1e9)

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "tensor_tflops": dict(self.tensor_tflops),
                "vector_tflops": self.vector_tflops, "hbm_gbps": self.hbm_gbps,
                "launch_floor_us": round(self.launch_floor_us, 3)}


def roofline_gpu(name: str) -> RooflineGPU:
    """The roofs of a catalog GPU (dense peaks; the vector peak is the FP32 non-tensor one)."""
    g = get_gpu(name)
    return RooflineGPU(
        name=g.name,
        tensor_tflops={d: g.peak_tflops[d] for d in TENSOR_DTYPES if d in g.peak_tflops},
        vector_tflops=g.peak_tflops["fp32"],
        hbm_gbps=g.memory_bw_gbps,
        launch_floor_us=round(g.kernel_overhead_us, 3),
    )


@dataclass(frozen=True)
class Kernel:
    """One profile row: totals over its `count` launches in the step."""

    name: str
    count: int
    total_us: float
    flops: float
    dram_bytes: float
    dtype: str
    tensor_core: bool


@dataclass(frozen=True)
class KernelRoofline:
    intensity: float      # FLOP per DRAM byte
    bound: str            # "compute", "memory" or "launch"
    compute_us: float
    memory_us: float
    launch_us: float
    attainable_us: float  # the highest roof
    fraction: float       # attainable / measured


def roofs(gpu: RooflineGPU, flops: float, dram_bytes: float, count: int, dtype: str,
          tensor_core: bool) -> tuple[float, float, float]:
    """(compute, memory, launch) times in us of `count` launches moving these totals."""
    compute = flops / (gpu.peak_tflops(dtype, tensor_core) * 1e12) * 1e6
    memory = dram_bytes / (gpu.hbm_gbps * 1e9) * 1e6
    return compute, memory, count * gpu.launch_floor_us


def attainable_us(gpu: RooflineGPU, flops: float, dram_bytes: float, count: int, dtype: str,
                  tensor_core: bool) -> float:
    return max(roofs(gpu, flops, dram_bytes, count, dtype, tensor_core))


def kernel_roofline(gpu: RooflineGPU, k: Kernel) -> KernelRoofline:
    compute, memory, launch = roofs(gpu, k.flops, k.dram_bytes, k.count, k.dtype,
                                    k.tensor_core)
    intensity = k.flops / k.dram_bytes if k.dram_bytes > 0 else float("inf")
    if launch > max(compute, memory):
        bound = "launch"
    else:
        bound = "compute" if intensity >= gpu.ridge(k.dtype, k.tensor_core) else "memory"
    att = max(compute, memory, launch)
    return KernelRoofline(intensity, bound, compute, memory, launch, att,
                          att / k.total_us if k.total_us > 0 else float("inf"))


def _share(gpu: RooflineGPU, kernels: Sequence[Kernel]) -> tuple[float, float]:
    """(measured us, time-weighted share of the roofline reached) of some kernels."""
    measured = sum(k.total_us for k in kernels)
    att = sum(kernel_roofline(gpu, k).attainable_us for k in kernels)
    return measured, att / measured


def fusion_gain_us(gpu: RooflineGPU, chain: Sequence[Kernel],
                   intermediate_bytes: Sequence[float]) -> float:
    """Step time saved by fusing a chain into one kernel: FLOPs add up, each intermediate's
    write and read (2 x its bytes) leave the DRAM traffic, one launch per step of the chain
    (the chain's count), vector units; the fused kernel reaches the chain's share."""
    if not chain:
        raise ValueError("empty chain")
    measured, share = _share(gpu, chain)
    count = chain[0].count
    flops = sum(k.flops for k in chain)
    dram = sum(k.dram_bytes for k in chain) - 2 * sum(intermediate_bytes)
    if dram <= 0:
        raise ValueError("the intermediates exceed the chain's DRAM bytes")
    tensor = any(k.tensor_core for k in chain)
    dtype = next((k.dtype for k in chain if k.tensor_core), chain[0].dtype)
    new = attainable_us(gpu, flops, dram, count, dtype, tensor) / share
    return measured - new


def fp8_supported(gpu: RooflineGPU) -> bool:
    return "fp8" in gpu.tensor_tflops


def fp8_gain_us(gpu: RooflineGPU, gemm: Kernel, input_bytes: float, cast_bytes: float) -> float:
    """Step time saved by running a 16-bit GEMM on FP8 tensor cores: its input bytes halve
    (the output stays 16-bit), plus a cast kernel (no FLOPs, cast_bytes, one launch per GEMM
    launch); both reach the GEMM's share. 0 on a GPU without FP8 tensor cores."""
    if not fp8_supported(gpu):
        return 0.0
    measured, share = _share(gpu, [gemm])
    new = (attainable_us(gpu, gemm.flops, gemm.dram_bytes - input_bytes / 2, gemm.count,
                         "fp8", True)
           + attainable_us(gpu, 0.0, cast_bytes, gemm.count, "bf16", False)) / share
    return measured - new
