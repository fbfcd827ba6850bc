import math

import pytest
from pydantic import ValidationError

from graders.hw import CollectiveInput, estimate_collective
from graders.hw.catalog import get_link
from graders.hw.collectives import bus_factor, collective_time, deduplicated_dispatch


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
                                            link="NVLink4", ranks_per_node=8,
                                            algorithm="ring"))
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
                                               bandwidth_gbps=50, latency_us=5,
                                               algorithm="ring"))
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


def test_all_to_all_across_nodes_is_bound_by_each_ranks_nic() -> None:
    # 16 ranks on two DGX H100: half of every rank's buffer leaves the node through its own
    # 400 Gb/s NIC (47 GB/s achievable), the other half rides NVLink at the same time.
    size = 4096 * 8 * 7168 * 2  # DeepSeek-V3-sized dispatch: 4096 tokens, top-8, BF16
    r = estimate_collective(CollectiveInput(op="all_to_all", bytes=size, ranks=16,
                                            link="NVLink4", ranks_per_node=8,
                                            scale_out_link="IB-NDR"))
    assert r.spans_nodes
    assert r.time_s == pytest.approx(size * 8 / 16 / 47e9 + 15 * 5e-6, rel=1e-6)
    inside = estimate_collective(CollectiveInput(op="all_to_all", bytes=size, ranks=8,
                                                 link="NVLink4", ranks_per_node=8))
    assert inside.busbw_gbps == pytest.approx(370, rel=0.03)  # less the hop latencies
    # A ring all-gather of the same size across the same nodes is far faster: it crosses
    # the network only at node boundaries, on all eight NICs.
    ring = estimate_collective(CollectiveInput(op="all_gather", bytes=size, ranks=16,
                                               link="NVLink4", ranks_per_node=8,
                                               scale_out_link="IB-NDR"))
    assert ring.time_s < r.time_s / 3


def test_deduplicated_dispatch_sends_each_token_once_per_destination() -> None:
    up, nic = get_link("NVLink4"), get_link("IB-NDR")
    tokens, token_bytes = 4096, 7168 * 2
    # Top-1 over one expert per rank: dedup changes nothing, the volume is the all-to-all's.
    _, sent = deduplicated_dispatch(tokens, token_bytes, 1, 8, 8, 8, up, nic)
    assert sent == pytest.approx(tokens * token_bytes * 7 / 8)
    # DeepSeek-V3 routing (top-8 of 256) over EP 64 on 8 nodes: a token reaches on average
    # 7 * (1 - C(224, 8) / C(256, 8)) remote nodes, once each, over the NIC.
    none = math.comb(224, 8) / math.comb(256, 8)
    t, _ = deduplicated_dispatch(tokens, token_bytes, 8, 256, 64, 8, up, nic)
    assert t == pytest.approx(tokens * 7 * (1 - none) * token_bytes / 47e9 + 5e-6, rel=1e-9)
    plain = estimate_collective(CollectiveInput(op="all_to_all", bytes=tokens * 8 * token_bytes,
                                                ranks=64, link="NVLink4", ranks_per_node=8,
                                                scale_out_link="IB-NDR"))
    assert t < plain.time_s * 0.7


@pytest.mark.parametrize(("ranks", "busbw"), [(2, 370), (4, 370), (5, 420), (8, 480)])
def test_h100_node_all_reduce_uses_nvlink_sharp_as_nccl_does(ranks: int, busbw: float) -> None:
    # nvidia/nccl #1455 (NCCL_ALGO=NVLS, 2-4 GB): 370 up to 4 GPUs, then 420..480 GB/s.
    r = estimate_collective(CollectiveInput(op="all_reduce", bytes=4 * 2**30, ranks=ranks,
                                            link="NVLink4", ranks_per_node=8))
    assert r.busbw_gbps == pytest.approx(busbw, rel=0.01)


def test_nvls_is_only_for_all_reduce_inside_a_node() -> None:
    gather = estimate_collective(CollectiveInput(op="all_gather", bytes=4 * 2**30, ranks=8,
                                                 link="NVLink4", ranks_per_node=8))
    across = estimate_collective(CollectiveInput(op="all_reduce", bytes=4 * 2**30, ranks=16,
                                                 link="NVLink4", ranks_per_node=8))
    a100 = estimate_collective(CollectiveInput(op="all_reduce", bytes=4 * 2**30, ranks=8,
                                               link="NVLink3", ranks_per_node=8))
    assert gather.busbw_gbps < 371 and across.busbw_gbps < 371
    assert a100.bandwidth_used_gbps == get_link("NVLink3").achievable_busbw_gbps
