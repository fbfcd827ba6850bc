"""Tile and wave quantization (graders/hw/gemm.py)."""

import pytest

from graders.hw.catalog import get_gpu
from graders.hw.gemm import gemms_efficiency, k_efficiency, wave_efficiency


def test_an_output_that_fills_whole_waves_keeps_the_full_rate() -> None:
    # 132 tiles of 128 x 256 on 132 SMs: exactly one wave.
    assert wave_efficiency(128 * 12, 256 * 11, 132) == pytest.approx(1.0)


def test_one_tile_past_a_wave_costs_a_second_wave() -> None:
    # 133 tiles of 128x128 (7 x 19) need two waves of 132 SMs; the 128x256 and 256x128
    # tilings fit one wave but leave half of each tile (and of the SMs) empty: no better.
    assert wave_efficiency(128 * 7, 128 * 19, 132) == pytest.approx(133 / 264, rel=1e-3)


def test_ragged_edges_waste_part_of_each_edge_tile() -> None:
    assert wave_efficiency(100, 100, 1) == pytest.approx(100 * 100 / (128 * 128))


def test_unknown_unit_count_models_nothing() -> None:
    assert wave_efficiency(100, 100, 0) == 1.0
    assert gemms_efficiency([(100, 100, 100)], 0) == 1.0


def test_forward_and_both_gradients_are_weighed_by_their_flops() -> None:
    m, n, k = 4096, 4096, 1000
    units = get_gpu("H100-SXM-80GB").compute_units
    parts = [wave_efficiency(m, n, units) * k_efficiency(k),
             wave_efficiency(m, k, units) * k_efficiency(n),
             wave_efficiency(n, k, units) * k_efficiency(m)]
    assert gemms_efficiency([(m, n, k)], units) == pytest.approx(3 / sum(1 / e for e in parts))


@pytest.mark.parametrize(("k", "measured"), [(256, 464 / 808), (512, 608 / 808),
                                             (1024, 693 / 808), (2048, 763 / 808)])
def test_short_reductions_keep_the_share_openxla_measured_on_h100(k: int,
                                                                  measured: float) -> None:
    # OpenXLA matmul_interpolator_data.h, sm_90 bf16, batch 2 of m = n = 4096: k = 256,
    # 512, 1024, 2048 ran at 464 / 608 / 693 / 763 TFLOP/s against 808 at k = 4096.
    ratio = k_efficiency(k) / k_efficiency(4096)
    assert ratio == pytest.approx(measured, rel=0.06)
    assert k_efficiency(8192) == pytest.approx(1.0)
    assert k_efficiency(100_000) == 1.0


def test_catalog_gpus_carry_their_sm_counts() -> None:
    assert get_gpu("A100-SXM4-80GB").compute_units == 108
    assert get_gpu("H100-SXM-80GB").compute_units == 132


def test_expert_gemms_of_small_experts_lose_the_short_reduction_share() -> None:
    from graders.hw.gemm import expert_gemm_slowdown

    # Large experts with many rows: only the 128-row tile term remains (about 1 + 128 / M).
    assert expert_gemm_slowdown(8192, 8192, 16384, True, 128) == pytest.approx(
        1 + 128 / 8192, rel=0.02)
    # Qwen3-30B-A3B's 2048 x 768 experts pay the short reductions on top of the tiles, more
    # than Qwen3-235B-A22B's 4096 x 1536, and both more with fewer routed rows.
    small = expert_gemm_slowdown(4096, 2048, 768, True, 128)
    big = expert_gemm_slowdown(4096, 4096, 1536, True, 128)
    assert small > big > 1 + 128 / 4096
    assert expert_gemm_slowdown(512, 2048, 768, True, 128) > small
    # Full recompute reruns the forward GEMMs: weighted, never below the plain case's tiles.
    assert expert_gemm_slowdown(4096, 2048, 768, True, 128, 2) > 1 + 128 / 4096
