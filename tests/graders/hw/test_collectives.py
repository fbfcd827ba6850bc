import pytest
from pydantic import ValidationError

from graders.hw import CollectiveInput, estimate_collective
from graders.hw.collectives import bus_factor, collective_time


def test_bus_factors_follow_nccl_tests() -> None:
    assert bus_factor("all_reduce", 8) == pytest.approx(2 * 7 / 8)
    for op in ("all_gather", "reduce_scatter", "all_to_all"):
        assert bus_factor(op, 8) == pytest.approx(7 / 8)  # type: ignore[arg-type]
    assert bus_factor("broadcast", 8) == 1
    assert bus_factor("send_recv", 2) == 1


def test_all_reduce_bandwidth_term_is_nccl_lower_bound() -> None:
    # t = (S/B) * 2(n-1)/n when latency is zero.
    t = collective_time("all_reduce", 1e9, 8, 100.0, 0.0)
    assert t == pytest.approx(1e9 / 100e9 * 2 * 7 / 8)


def test_large_all_reduce_on_h100_node_reports_achievable_busbw() -> None:
    r = estimate_collective(CollectiveInput(op="all_reduce", bytes=2**30, ranks=8,
                                            link="NVLink4", ranks_per_node=8))
    assert r.busbw_gbps == pytest.approx(370, rel=0.01)
    assert r.algbw_gbps == pytest.approx(r.busbw_gbps * 8 / 14, rel=1e-9)
    assert r.bytes_per_rank_on_wire == pytest.approx(2**30 * 14 / 8)
    assert not r.spans_nodes


def test_multi_node_ring_limited_by_nics() -> None:
    # DGX-A100: 8 x HDR per node -> ~192 GB/s all-reduce busbw across nodes.
    r = estimate_collective(CollectiveInput(op="all_reduce", bytes=2**32, ranks=64,
                                            link="NVLink3", ranks_per_node=8,
                                            scale_out_link="IB-HDR"))
    assert r.spans_nodes
    assert r.busbw_gbps == pytest.approx(192, rel=0.02)
    one_per_node = estimate_collective(CollectiveInput(op="all_reduce", bytes=2**32, ranks=64,
                                                       link="NVLink3", ranks_per_node=1,
                                                       scale_out_link="IB-HDR"))
    assert one_per_node.busbw_gbps == pytest.approx(24, rel=0.02)


def test_small_messages_are_latency_bound_and_tree_helps() -> None:
    ring = estimate_collective(CollectiveInput(op="all_reduce", bytes=1024, ranks=1024,
                                               bandwidth_gbps=50, latency_us=5))
    tree = estimate_collective(CollectiveInput(op="all_reduce", bytes=1024, ranks=1024,
                                               bandwidth_gbps=50, latency_us=5,
                                               algorithm="tree"))
    assert ring.time_s > 2 * 1023 * 5e-6 * 0.99
    assert tree.time_s < ring.time_s / 10


def test_needs_a_bandwidth_source() -> None:
    with pytest.raises(ValidationError, match="bandwidth_gbps"):
        CollectiveInput(op="all_reduce", bytes=10, ranks=2)
    with pytest.raises(ValidationError, match="ranks_per_node"):
        CollectiveInput(op="all_reduce", bytes=10, ranks=2, link="NVLink4")
    with pytest.raises(ValidationError, match="unknown link"):
        CollectiveInput(op="all_reduce", bytes=10, ranks=2, link="tin-can", ranks_per_node=1)


def test_single_rank_takes_no_time() -> None:
    r = estimate_collective(CollectiveInput(op="all_gather", bytes=10, ranks=1,
                                            bandwidth_gbps=1))
    assert r.time_s == 0
