"""Tile and wave quantization: the share of a GEMM's best-shape rate a given shape keeps.

A GPU computes a GEMM's output in tiles, one tile per SM (CU on AMD) at a time, in waves
(NVIDIA, "Matrix Multiplication Background User's Guide", tile and wave quantization). An
output whose edges do not fill whole tiles, or whose tiles do not fill the last wave, leaves
SMs idle for part of the kernel. The catalog's GEMM efficiency (MSMF) is measured on shapes
that fill whole waves, so a plan's GEMMs run at that rate times `wave_efficiency` of their
own output shape, and times `k_efficiency` of their reduction (short K loops pay each
tile's fixed prologue and epilogue, measured in OpenXLA's H100 matmul table). Libraries pick among tile shapes; the best of three common ones is taken.
No parameter here is fitted to a training or serving result: tile sizes are the libraries',
SM counts the datasheets', K_OVERHEAD a kernel-table measurement.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

TILES = ((128, 256), (256, 128), (128, 128))

# Short reductions: every output tile pays a fixed prologue and epilogue (filling the
# pipeline with the first K-slices, writing C) worth about K_OVERHEAD steps of its K loop.
# From OpenXLA's measured H100 table (xla/service/gpu/model/matmul_interpolator_data.h,
# sm_90, bf16): m = n = 4096 with batch 1, 2, 4 runs at 392 / 464 / 504 TFLOP/s for k = 256
# and 783 / 808 / 793 for k = 4096; with the 2.26 us per-kernel cost taken off and the time
# per wave written as c + d k, c / d = 230, 186 and 148 K-steps -> 190. MSMF (the catalog
# rate) is measured on large shapes, so the share is relative to K_REFERENCE.
K_OVERHEAD = 190
K_REFERENCE = 8192


def wave_efficiency(rows: int, cols: int, units: int) -> float:
    """Useful share of the SM time for a rows x cols output on `units` SMs (1.0 if unknown)."""
    if units <= 0 or rows <= 0 or cols <= 0:
        return 1.0
    best = 0.0
    for tr, tc in TILES:
        tiles = math.ceil(rows / tr) * math.ceil(cols / tc)
        useful = rows * cols / (tr * tc)
        best = max(best, useful / (math.ceil(tiles / units) * units))
    return best


def k_efficiency(k: int) -> float:
    """Share of the large-shape rate a reduction of length k keeps (K_OVERHEAD)."""
    if k <= 0:
        return 1.0
    return min(1.0, k / (k + K_OVERHEAD) * (K_REFERENCE + K_OVERHEAD) / K_REFERENCE)


def gemm_efficiency(rows: int, cols: int, reduce: int, units: int) -> float:
    """Share of the best-shape rate of one GEMM: tile and wave quantization of its
    rows x cols output times the reduction's share (1.0 if the GPU's SMs are unknown)."""
    if units <= 0:
        return 1.0
    return wave_efficiency(rows, cols, units) * k_efficiency(reduce)


def gemms_efficiency(shapes: Iterable[tuple[int, int, int]], units: int) -> float:
    """Time-weighted efficiency of the forward, input-gradient and weight-gradient GEMMs of
    (M, N, K) layers: outputs M x N, M x K and N x K (reducing over K, N and M), each with
    the same FLOPs."""
    flops = slow = 0.0
    for m, n, k in shapes:
        f = float(m) * n * k
        for rows, cols, red in ((m, n, k), (m, k, n), (n, k, m)):
            flops += f
            slow += f / gemm_efficiency(rows, cols, red, units)
    return flops / slow if slow else 1.0


def expert_gemm_slowdown(rows: float, hidden: int, ffn: int, gated: bool, tile_rows: int,
                         forward_passes: int = 1) -> float:
    """Time of an MoE layer's grouped expert GEMMs over the same FLOPs at the best-shape rate.

    Each expert multiplies the `rows` tokens routed to it by its FC1 (hidden -> ffn, twice
    as wide when gated) and FC2 (ffn -> hidden) weights; `ffn` is the width on this rank.
    Forward and input-gradient GEMMs output `rows` x width, so a `tile_rows`-row tile is
    part empty: rate M / (M + tile_rows). Each also reduces over one of the weight's edges
    (forward FC1 over hidden, FC2 over ffn; input gradient FC1 over its output width, FC2
    over hidden) and pays the short-reduction share `k_efficiency` (K_OVERHEAD, from
    OpenXLA's kernel table): small experts (Qwen3-30B-A3B: 2048 x 768) lose most. The
    weight gradient's output is the weight itself (full tiles) and reduces over the routed
    rows. A grouped GEMM schedules every local expert's tiles together, so wave
    quantization is not charged per expert. `forward_passes` is 2 under full recompute.
    Returns (sum of time factors) / (number of GEMM passes), >= 1.
    """
    rows = max(1.0, rows)
    tile = 1.0 + tile_rows / rows
    fc1_out = ffn * (2 if gated else 1)
    wgrad = 1.0 / k_efficiency(int(rows))
    flops = slow = 0.0
    # (FLOP weight, forward reduction, input-gradient reduction)
    for weight, k_fwd, k_bwd in ((fc1_out, hidden, fc1_out), (ffn, ffn, hidden)):
        flops += weight * (forward_passes + 2)
        slow += weight * (forward_passes * tile / k_efficiency(k_fwd)
                          + tile / k_efficiency(k_bwd) + wgrad)
    return slow / flops
