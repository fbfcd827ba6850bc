"""graders.hw.fabric: what all_reduce_perf should report on a rail-optimised cluster, healthy
and with scale-out bandwidth lost, against the collective model and published figures."""

from __future__ import annotations

import pytest

from graders.hw.collectives import CollectiveInput, estimate_collective
from graders.hw.fabric import allreduce_curve, expected_busbw, scale_out_busbw

GIB = 1 << 30


def test_healthy_curve_is_the_collective_model() -> None:
    sizes = [1 << 20, 1 << 27, 8 * GIB]
    curve = allreduce_curve("NVLink4", "IB-NDR", 32, sizes)
    for point, size in zip(curve, sizes, strict=True):
        ref = estimate_collective(CollectiveInput(op="all_reduce", bytes=size, ranks=256,
                                                  link="NVLink4", ranks_per_node=8,
                                                  scale_out_link="IB-NDR"))
        assert point.busbw_gbps == pytest.approx(ref.busbw_gbps)
        assert point.time_us == pytest.approx(ref.time_s * 1e6)


def test_published_figures_at_large_size() -> None:
    # H100 + 8 x NDR: ~370 GB/s (NVLink-bound; NCCL maintainers, nccl-tests #212);
    # DGX A100 + 8 x HDR 200 Gb/s: 192 GB/s all-reduce busbw (24 GB/s per NIC).
    assert expected_busbw("NVLink4", "IB-NDR", 64, 8 * GIB) == pytest.approx(369, abs=3)
    assert expected_busbw("NVLink3", "IB-HDR", 32, 8 * GIB) == pytest.approx(191, abs=3)


def test_single_node_uses_nvls() -> None:
    assert expected_busbw("NVLink4", "IB-NDR", 1, GIB) > 440


def test_fewer_nics_and_slower_nics_scale_the_cross_node_bandwidth() -> None:
    assert scale_out_busbw("NVLink4", "IB-NDR", nics_used=4) == pytest.approx(4 * 47)
    assert scale_out_busbw("NVLink3", "IB-HDR", nic_efficiency=0.5) == pytest.approx(96)
    half = allreduce_curve("NVLink4", "IB-NDR", 32, [8 * GIB], nics_used=4)[0]
    assert half.busbw_gbps == pytest.approx(188, rel=0.02)
    # Small messages are latency-bound: losing bandwidth barely moves them.
    small_ok = allreduce_curve("NVLink4", "IB-NDR", 32, [1024])[0]
    small_bad = allreduce_curve("NVLink4", "IB-NDR", 32, [1024], nic_efficiency=0.5)[0]
    assert small_bad.time_us == pytest.approx(small_ok.time_us, rel=0.05)
