"""What nccl-tests' all_reduce_perf should report on a rail-optimised cluster, healthy or with
part of its scale-out bandwidth lost.

Built on the collective model (graders.hw.collectives): a group inside one node runs at the
scale-up link's busbw (NVLS where the switch has it); a group across nodes runs its ring or
tree at min(scale-up busbw, NICs used per node x NIC busbw x efficiency), with the NIC's
per-hop latency. `nic_efficiency` is the share of a NIC's achievable bandwidth the slowest
node still gets (1 for a healthy fabric); `nics_used` the HCAs NCCL may use per node.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from graders.hw.catalog import LinkName, get_link
from graders.hw.collectives import CollectiveInput, bus_factor, collective_time, estimate_collective


class BusbwPoint(BaseModel):
    """One row of an all_reduce_perf run: size, time and bandwidths."""

    size_bytes: int = Field(description="Buffer size S as nccl-tests counts it.")
    time_us: float = Field(description="Predicted time of one all-reduce, us.")
    algbw_gbps: float = Field(description="S / time, GB/s.")
    busbw_gbps: float = Field(description="algbw x 2(n-1)/n, GB/s.")


def scale_out_busbw(scale_up: LinkName, nic: LinkName, nics_used: int = 8,
                    nic_efficiency: float = 1.0) -> float:
    """Per-rank bus bandwidth, GB/s, of a ring/tree all-reduce that spans nodes."""
    up = get_link(scale_up).achievable_busbw_gbps
    return min(up, nics_used * get_link(nic).achievable_busbw_gbps * nic_efficiency)


def allreduce_curve(scale_up: LinkName, nic: LinkName, nodes: int, sizes: list[int],
                    gpus_per_node: int = 8, nics_used: int = 8,
                    nic_efficiency: float = 1.0) -> list[BusbwPoint]:
    """all_reduce_perf over `nodes` x `gpus_per_node` ranks at each size."""
    ranks = nodes * gpus_per_node
    out = []
    for size in sizes:
        if nodes == 1 or (nics_used == 8 and nic_efficiency == 1.0):
            r = estimate_collective(CollectiveInput(
                op="all_reduce", bytes=size, ranks=ranks, link=scale_up,
                ranks_per_node=gpus_per_node, scale_out_link=nic))
            t = r.time_s
        else:
            bw = scale_out_busbw(scale_up, nic, nics_used, nic_efficiency)
            t = collective_time("all_reduce", size, ranks, bw, get_link(nic).latency_us,
                                "auto")
        algbw = size / t / 1e9
        out.append(BusbwPoint(size_bytes=size, time_us=t * 1e6, algbw_gbps=algbw,
                              busbw_gbps=algbw * bus_factor("all_reduce", ranks)))
    return out


def expected_busbw(scale_up: LinkName, nic: LinkName, nodes: int, size: int,
                   gpus_per_node: int = 8) -> float:
    """Bus bandwidth, GB/s, a healthy cluster's all_reduce_perf reports at `size`."""
    return allreduce_curve(scale_up, nic, nodes, [size], gpus_per_node)[0].busbw_gbps
