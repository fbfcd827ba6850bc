"""Collective communication time: NCCL's algbw/busbw definitions, ring and tree models."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graders.hw.catalog import Link, LinkName, get_link
from graders.hw.inputs import HwInput

Op = Literal["all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast", "send_recv"]
Algorithm = Literal["ring", "tree", "nvls", "auto"]


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
    if op != "all_reduce" or algorithm in ("ring", "nvls"):
        return ring  # NVLS: the ring's formula at the NVLS busbw (nccl-tests' definition)
    tree = 2 * math.ceil(math.log2(ranks)) * alpha + beta
    return tree if algorithm == "tree" else min(ring, tree)


# NCCL's own tuning model for ring collectives (src/graph/tuning.cc, the version with LL,
# LL128 and Simple protocols): a collective costs base + steps x per-hop latency + bytes /
# (busbw x the protocol's bandwidth share), and NCCL runs the protocol that minimises it.
# Latencies in us; per-hop values for rings that span nodes (NET) or stay inside one.
NCCL_RING_BASE_US = {"LL": 3.6, "LL128": 3.6, "Simple": 8.4}
NCCL_RING_HOP_US = {"NET": {"LL": 0.9, "LL128": 2.5, "Simple": 6.6},
                    "NVLINK": {"LL": 0.4, "LL128": 2.5, "Simple": 5.7}}
NCCL_PROTOCOL_BW = {"LL": 1.0 / 4.0, "LL128": 120.0 / 128.0, "Simple": 1.0}


def nccl_ring_time(op: Op, size_bytes: float, ranks: int, busbw_gbps: float,
                   spans_nodes: bool) -> float:
    """Seconds of one ring collective as NCCL's tuner prices it, at its fastest protocol.

    Small per-rank chunks on long rings run LL (0.9 us a hop across nodes) instead of the
    Simple protocol's 6.6 us, at a quarter of the bandwidth; the alpha-beta model above uses
    one link latency for every size. Used where thousands of small collectives run over
    hundreds of ranks (ZeRO-3 buckets); the calculator and fabric curves keep the
    alpha-beta model.
    """
    if ranks <= 1 or size_bytes <= 0:
        return 0.0
    steps = {"all_reduce": 2 * (ranks - 1), "send_recv": 1, "broadcast": ranks - 1}.get(
        op, ranks - 1)
    hops = NCCL_RING_HOP_US["NET" if spans_nodes else "NVLINK"]
    beta = size_bytes * bus_factor(op, ranks) / (busbw_gbps * 1e9)
    return min((NCCL_RING_BASE_US[proto] + steps * hops[proto]) * 1e-6 + beta / share
               for proto, share in NCCL_PROTOCOL_BW.items())


def effective_busbw(
    ranks: int, ranks_per_node: int, scale_up: Link, scale_out: Link, op: Op = "all_reduce"
) -> float:
    """Bus bandwidth per rank, GB/s, for a group of `ranks` with `ranks_per_node` per node.

    Inside one node: the scale-up link's achievable busbw. Across nodes (rail-optimised,
    one NIC per GPU), ring collectives: each node's share of the ring crosses the network
    on the NICs of its participating GPUs, so busbw = min(scale-up, ranks_per_node * NIC
    busbw). All-to-all has no ring: every rank sends (n - rpn)/n of its buffer through its
    own NIC and (rpn - 1)/n over the scale-up link at the same time, so the slower share
    sets the time; returned as the busbw that gives that time for the (n - 1)/n bus factor.
    """
    up = scale_up.achievable_busbw_gbps
    if ranks <= ranks_per_node:
        return up
    nic = scale_out.achievable_busbw_gbps
    if op == "all_to_all":
        return (ranks - 1) / max((ranks_per_node - 1) / up, (ranks - ranks_per_node) / nic)
    return min(up, ranks_per_node * nic)


def group_link(
    ranks: int, ranks_per_node: int, scale_up: Link, scale_out: Link, op: Op = "all_reduce"
) -> tuple[float, float]:
    """(busbw GB/s, per-hop latency us) of a group of `ranks` with `ranks_per_node` per node:
    effective_busbw, and the NIC's latency once the group spans nodes."""
    spans = ranks > ranks_per_node
    latency = (scale_out if spans else scale_up).latency_us
    return effective_busbw(ranks, ranks_per_node, scale_up, scale_out, op), latency


def _none_of(group: float, experts: int, k: int) -> float:
    """Probability that none of a token's k distinct experts (uniform routing, top-k without
    replacement) falls in a group of `group` of the `experts`."""
    p = 1.0
    for i in range(k):
        p *= max(0.0, experts - group - i) / (experts - i)
    return p


def deduplicated_dispatch(
    tokens: float, token_bytes: float, k: int, experts: int, ranks: int,
    ranks_per_node: int, scale_up: Link, scale_out: Link,
) -> tuple[float, float]:
    """(seconds, bytes sent per rank) of one MoE dispatch (or combine) that sends each token
    once per destination instead of once per routed copy (DeepEP, HybridEP).

    Inside a node a token goes once to each GPU holding one of its experts; across nodes it
    crosses the network once per destination node and is forwarded over the scale-up link
    there. The expected number of distinct destinations follows from uniform routing over
    `experts` spread evenly over `ranks`. The network and scale-up shares run concurrently.
    """
    if ranks <= 1 or tokens <= 0:
        return 0.0, 0.0
    rpn = min(ranks_per_node, ranks)
    gpus = (ranks - 1) * (1 - _none_of(experts / ranks, experts, k))
    nodes = math.ceil(ranks / rpn)
    remote_nodes = (nodes - 1) * (1 - _none_of(experts * rpn / ranks, experts, k))
    up = scale_up.achievable_busbw_gbps * 1e9
    nic = scale_out.achievable_busbw_gbps * 1e9
    if nodes == 1:
        sent = tokens * gpus * token_bytes
        return sent / up + scale_up.latency_us * 1e-6, sent
    inter = tokens * remote_nodes * token_bytes
    intra = tokens * max(0.0, gpus - remote_nodes) * token_bytes
    return max(inter / nic, intra / up) + scale_out.latency_us * 1e-6, inter + intra


class CollectiveInput(HwInput):
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
    algorithm: Algorithm = Field(
        default="auto",
        description="ring, tree, nvls (NVLink SHARP, all-reduce inside a node whose switch "
        "has it) or auto: what NCCL picks, NVLS where available, else the faster of ring "
        "and tree.",
    )

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
    algorithm = inp.algorithm
    if inp.bandwidth_gbps is not None:
        bw = inp.bandwidth_gbps
        lat = inp.latency_us if inp.latency_us is not None else 5.0
    else:
        assert inp.link is not None and inp.ranks_per_node is not None
        link = get_link(inp.link)
        out = get_link(inp.scale_out_link)
        rpn = inp.ranks_per_node
        if link.kind == "scale_out":
            # Ring collectives spread a node's share over its rpn NICs; an all-to-all sends
            # each rank's traffic through its own NIC.
            ring = inp.ranks > rpn and inp.op != "all_to_all"
            bw = rpn * link.achievable_busbw_gbps if ring else link.achievable_busbw_gbps
            spans = inp.ranks > rpn
            lat = link.latency_us
        else:
            bw, lat = group_link(inp.ranks, rpn, link, out, inp.op)
            spans = inp.ranks > rpn
            nvls = link.nvls_allreduce_busbw_gbps.get(inp.ranks)
            if inp.op == "all_reduce" and not spans and inp.algorithm in ("auto", "nvls") \
                    and nvls is not None:
                bw, algorithm = max(bw, nvls), "nvls"
        if inp.latency_us is not None:
            lat = inp.latency_us
    t = collective_time(inp.op, inp.bytes, inp.ranks, bw, lat, algorithm)
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
