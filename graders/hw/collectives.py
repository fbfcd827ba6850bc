"""Collective communication time: NCCL's algbw/busbw definitions, ring and tree models."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graders.hw.catalog import Link, LinkName, get_link

Op = Literal["all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast", "send_recv"]
Algorithm = Literal["ring", "tree", "auto"]


def bus_factor(op: Op, ranks: int) -> float:
    """busbw / algbw for an op (nccl-tests doc/PERFORMANCE.md)."""
    n = ranks
    if n <= 1:
        return 0.0
    if op == "all_reduce":
        return 2.0 * (n - 1) / n
    if op in ("all_gather", "reduce_scatter", "all_to_all"):
        return (n - 1) / n
    return 1.0


def collective_time(
    op: Op,
    size_bytes: float,
    ranks: int,
    busbw_gbps: float,
    latency_us: float,
    algorithm: Algorithm = "ring",
) -> float:
    """Alpha-beta time of one collective, seconds.

    `size_bytes` is the nccl-tests size S (the full buffer for all-reduce/all-gather
    output/reduce-scatter input). Ring: steps*alpha + S*factor/busbw. Tree (all-reduce
    only, NCCL's double binary tree): 2*log2(n)*alpha + S*factor/busbw.
    """
    if ranks <= 1 or size_bytes <= 0:
        return 0.0
    bw = busbw_gbps * 1e9
    beta = size_bytes * bus_factor(op, ranks) / bw
    alpha = latency_us * 1e-6
    ring_steps = {"all_reduce": 2 * (ranks - 1), "send_recv": 1, "broadcast": ranks - 1}.get(
        op, ranks - 1
    )
    ring = ring_steps * alpha + beta
    if op != "all_reduce" or algorithm == "ring":
        return ring
    tree = 2 * math.ceil(math.log2(ranks)) * alpha + beta
    return tree if algorithm == "tree" else min(ring, tree)


def effective_busbw(
    ranks: int, ranks_per_node: int, scale_up: Link, scale_out: Link
) -> float:
    """Bus bandwidth per rank, GB/s, for a group of `ranks` with `ranks_per_node` per node.

    Inside one node: the scale-up link's achievable busbw. Across nodes (rail-optimised,
    one NIC per GPU): each node's share of the ring crosses the network on the NICs of
    its participating GPUs, so busbw = min(scale-up, ranks_per_node * NIC busbw).
    """
    if ranks <= ranks_per_node:
        return scale_up.achievable_busbw_gbps
    return min(scale_up.achievable_busbw_gbps, ranks_per_node * scale_out.achievable_busbw_gbps)


class CollectiveInput(BaseModel):
    """One collective: op, size and group, over a catalog link or an explicit bandwidth."""

    model_config = ConfigDict(extra="forbid")

    op: Op = Field(description="Collective kind.")
    bytes: int = Field(gt=0, description="Buffer size S in bytes, as nccl-tests counts it.")
    ranks: int = Field(ge=1, description="Ranks in the group.")
    link: LinkName | None = Field(
        default=None, description="Catalog link used inside a node (e.g. NVLink4) or a NIC."
    )
    ranks_per_node: int | None = Field(
        default=None, ge=1, description="Ranks of the group per node; needed with `link`."
    )
    scale_out_link: LinkName = Field(
        default="IB-NDR", description="Catalog NIC used when the group spans nodes."
    )
    bandwidth_gbps: float | None = Field(
        default=None, gt=0, description="Explicit bus bandwidth per rank in GB/s (overrides link)."
    )
    latency_us: float | None = Field(
        default=None, ge=0, description="Per-step latency in us; default from the link or 5."
    )
    algorithm: Algorithm = Field(default="ring", description="ring, tree or auto (faster).")

    @model_validator(mode="after")
    def _need_bandwidth(self) -> CollectiveInput:
        if self.bandwidth_gbps is None and self.link is None:
            raise ValueError("give either `link` (with `ranks_per_node`) or `bandwidth_gbps`")
        if self.bandwidth_gbps is None and self.ranks_per_node is None:
            raise ValueError("`ranks_per_node` is required with `link`")
        if self.link is not None:
            get_link(self.link)
        get_link(self.scale_out_link)
        return self


class CollectiveResult(BaseModel):
    """Predicted time and bandwidths of one collective."""

    time_s: float = Field(description="Predicted time, s.")
    algbw_gbps: float = Field(description="S / time, GB/s.")
    busbw_gbps: float = Field(description="algbw x bus factor, GB/s (comparable to link peak).")
    bytes_per_rank_on_wire: float = Field(description="Bytes each rank sends, S x bus factor.")
    bus_factor: float = Field(description="busbw / algbw for this op and rank count.")
    bandwidth_used_gbps: float = Field(description="Bus bandwidth assumed per rank, GB/s.")
    spans_nodes: bool = Field(description="Whether the group crosses the node boundary.")


def estimate_collective(inp: CollectiveInput) -> CollectiveResult:
    """Time of one collective with the alpha-beta ring/tree model."""
    spans = False
    if inp.bandwidth_gbps is not None:
        bw = inp.bandwidth_gbps
        lat = inp.latency_us if inp.latency_us is not None else 5.0
    else:
        assert inp.link is not None and inp.ranks_per_node is not None
        link = get_link(inp.link)
        out = get_link(inp.scale_out_link)
        rpn = inp.ranks_per_node
        if link.kind == "scale_out":
            bw = rpn * link.achievable_busbw_gbps if inp.ranks > rpn else link.achievable_busbw_gbps
            spans = inp.ranks > rpn
            lat = link.latency_us
        else:
            bw = effective_busbw(inp.ranks, rpn, link, out)
            spans = inp.ranks > rpn
            lat = out.latency_us if spans else link.latency_us
        if inp.latency_us is not None:
            lat = inp.latency_us
    t = collective_time(inp.op, inp.bytes, inp.ranks, bw, lat, inp.algorithm)
    factor = bus_factor(inp.op, inp.ranks)
    algbw = inp.bytes / t / 1e9 if t > 0 else 0.0
    return CollectiveResult(
        time_s=t,
        algbw_gbps=algbw,
        busbw_gbps=algbw * factor,
        bytes_per_rank_on_wire=inp.bytes * factor,
        bus_factor=factor,
        bandwidth_used_gbps=bw,
        spans_nodes=spans,
    )
