"""Tile and wave quantization: the share of a GEMM's best-shape rate a given shape keeps.

A GPU computes a GEMM's output in tiles, one tile per SM (CU on AMD) at a time, in waves
(NVIDIA, "Matrix Multiplication Background User's Guide", tile and wave quantization). An
output whose edges do not fill whole tiles, or whose tiles do not fill the last wave, leaves
SMs idle for part of the kernel. The catalog's GEMM efficiency (MSMF) is measured on shapes
that fill whole waves, so a plan's GEMMs run at that rate times `wave_efficiency` of their
own output shape. Libraries pick among tile shapes; the best of three common ones is taken.
No parameter here is fitted: tile sizes are the libraries' and SM counts the datasheets'.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

TILES = ((128, 256), (256, 128), (128, 128))


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


def gemms_efficiency(shapes: Iterable[tuple[int, int, int]], units: int) -> float:
    """Time-weighted efficiency of the forward, input-gradient and weight-gradient GEMMs of
    (M, N, K) layers: outputs M x N, M x K and N x K, each with the same FLOPs."""
    flops = slow = 0.0
    for m, n, k in shapes:
        f = float(m) * n * k
        for rows, cols in ((m, n), (m, k), (n, k)):
            flops += f
            slow += f / wave_efficiency(rows, cols, units)
    return flops / slow if slow else 1.0
