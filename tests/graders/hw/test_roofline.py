"""graders/hw/roofline.py: roofs from the catalog, bounds, launch floor, the two changes."""

from __future__ import annotations

import pytest

from graders.hw.roofline import Kernel, fp8_gain_us, fusion_gain_us, kernel_roofline, roofline_gpu


def test_roofs_come_from_the_catalog() -> None:
    h100 = roofline_gpu("H100-SXM-80GB")
    assert h100.tensor_tflops["bf16"] == pytest.approx(989.4)
    assert h100.vector_tflops == pytest.approx(66.9)
    assert h100.ridge("bf16", True) == pytest.approx(989.4e12 / 3350e9)  # ~295 FLOP/B
    assert h100.ridge("fp8", True) == pytest.approx(1978.9e12 / 3350e9)  # ~591
    assert h100.ridge("bf16", False) == pytest.approx(66.9e12 / 3350e9)
    a100 = roofline_gpu("A100-SXM4-80GB")
    assert "fp8" not in a100.tensor_tflops
    with pytest.raises(ValueError, match="fp8"):
        a100.peak_tflops("fp8", True)


def test_bound_follows_the_ridge_of_the_kernels_own_precision() -> None:
    h100 = roofline_gpu("H100-SXM-80GB")
    ai = 400.0  # between the BF16 (295) and the FP8 (591) ridge
    flops = 1e12
    bf16 = kernel_roofline(h100, Kernel("g", 1, 5000.0, flops, flops / ai, "bf16", True))
    fp8 = kernel_roofline(h100, Kernel("g", 1, 5000.0, flops, flops / ai, "fp8", True))
    assert (bf16.bound, fp8.bound) == ("compute", "memory")
    assert bf16.attainable_us == pytest.approx(flops / 989.4e12 * 1e6)
    assert fp8.attainable_us == pytest.approx(flops / ai / 3350e9 * 1e6)
    assert bf16.fraction == pytest.approx(bf16.attainable_us / 5000.0)


def test_tiny_kernels_are_launch_bound_and_copies_memory_bound() -> None:
    g = roofline_gpu("H100-SXM-80GB")
    tiny = kernel_roofline(g, Kernel("zero", 200, 900.0, 0.0, 200 * 4096.0, "fp32", False))
    assert tiny.bound == "launch" and tiny.attainable_us == pytest.approx(200 * 2.26)
    copy = kernel_roofline(g, Kernel("copy", 1, 1000.0, 0.0, 2e9, "bf16", False))
    assert copy.bound == "memory" and copy.intensity == 0.0


def test_fusion_removes_the_intermediates_and_fp8_needs_fp8_cores() -> None:
    g = roofline_gpu("H100-SXM-80GB")
    n = 1e9
    add = Kernel("add", 10, 1000.0, n, 3 * 2 * n, "bf16", False)  # reads 2, writes 1
    norm = Kernel("norm", 10, 600.0, 4 * n, 2 * 2 * n, "bf16", False)
    share = (kernel_roofline(g, add).attainable_us + kernel_roofline(g, norm).attainable_us) / 1600
    new = (10 * n - 2 * 2 * n) / 3350e9 * 1e6 / share
    assert fusion_gain_us(g, [add, norm], [2 * n]) == pytest.approx(1600 - new)
    gemm = Kernel("gemm", 8, 20000.0, 1e16, 1e10, "bf16", True)
    gain = fp8_gain_us(g, gemm, 6e9, 3e9)
    assert 0 < gain < 20000.0 / 2  # at most half of a compute-bound GEMM, minus the cast
    assert fp8_gain_us(roofline_gpu("A100-SXM4-80GB"), gemm, 6e9, 3e9) == 0.0
    skinny = Kernel("router", 8, 500.0, 2e11, 4e9, "bf16", True)  # memory-bound
    assert fp8_gain_us(g, skinny, 3.9e9, 6e9) < 0  # the cast costs more than it saves


def test_no_measured_h100_gemm_beats_its_roofline() -> None:
    """OpenXLA's measured H100 BF16 GEMMs (bench/data/xla_matmul_sm90.csv) all take at least
    their roofline time (operands and output once, data-sheet peak and bandwidth)."""
    import csv
    from pathlib import Path

    from graders.hw.roofline import attainable_us

    g = roofline_gpu("H100-SXM-80GB")
    path = Path(__file__).resolve().parents[3] / "bench" / "data" / "xla_matmul_sm90.csv"
    with path.open() as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    assert len(rows) == 54
    for r in rows:
        m, n, k = int(r["m"]), int(r["n"]), int(r["k"])
        flops = 2.0 * m * n * k
        measured_us = flops / (float(r["tflops"]) * 1e12) * 1e6
        roof = attainable_us(g, flops, 2.0 * (m * k + k * n + m * n), 1, "bf16", True)
        assert roof <= measured_us, (m, n, k)
