"""Rail-optimised fat trees (folded Clos) of fixed-radix switches: switch, link and
transceiver counts, oversubscription, bisection, and what the tiers do to collectives.

Layout (the DGX SuperPOD one, NVIDIA's reference architectures): every GPU has one NIC;
NIC r of every node is on rail r. A leaf serves one rail of `leaf_down` nodes (a scalable
unit, SU, of leaf_down x gpus_per_node GPUs) and sends `radix - leaf_down` ports up.

- Two tiers: spines = ceil(leaves x leaf uplinks / radix); every spine reaches every leaf,
  so leaves <= radix.
- Three tiers: a pod is `spine_down` leaves under their own spines (each leaf's uplinks go
  to distinct spines of its pod); a spine sends `radix - spine_down` ports to the cores;
  cores = ceil(all spine uplinks / radix); every pod reaches every core plane, so
  pods <= radix.

Oversubscription of a tier is down ports / up ports (1 when up >= down). Bisection is one
direction across the worst cut into two halves: N/2 x port rate over the product of the
oversubscriptions above the SU. With NCCL's PXN (a cross-rail message first moves over
NVLink to the GPU on the destination's rail), all traffic between nodes of one SU stays on
its leaves, so an SU is non-blocking whatever the uplinks.

Validated in bench/topology_validation.py against the DGX SuperPOD B200 component table and
the k-ary fat tree of Al-Fares et al. (SIGCOMM 2008); docs/hw.md gives the sources.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graders.hw.catalog import LinkName, get_link
from graders.hw.collectives import (
    CollectiveInput,
    bus_factor,
    collective_time,
    estimate_collective,
)


class FatTreeInput(BaseModel):
    """One fat-tree design: size, switch radix, tiers and how each tier splits its ports."""

    model_config = ConfigDict(extra="forbid")

    gpus: int = Field(ge=1, description="GPUs (= NICs) attached to the fabric.")
    radix: int = Field(ge=4, description="Ports per switch at the NIC rate.")
    tiers: Literal[2, 3] = Field(description="Switch tiers: leaf + spine, or leaf + spine + core.")
    leaf_down: int = Field(ge=1, description="Leaf ports cabled to NICs; the rest go up.")
    spine_down: int | None = Field(
        default=None, ge=1,
        description="Three tiers: spine ports cabled to leaves (the rest go to the cores); "
        "default radix / 2. Two tiers: every spine port faces a leaf.")
    gpus_per_node: int = Field(default=8, ge=1, description="GPUs (and rails) per node.")
    port_gbps: float = Field(default=400.0, gt=0, description="Port and NIC rate, Gb/s.")
    pod_leaves: int | None = Field(
        default=None, ge=1,
        description="Three tiers: leaves per pod; default spine_down rounded down to whole "
        "rail groups (one link between each leaf and each spine of its pod). Fewer leaves "
        "(spine_down / 2: two links per leaf and spine) give smaller pods with the same "
        "switch and link counts.")
    full_pods: bool = Field(
        default=False,
        description="Three tiers: give a partly filled last pod the spines of a full one "
        "(room to grow, one link from each leaf to each spine) instead of the fewest that "
        "carry its uplinks.")

    @model_validator(mode="after")
    def _ports(self) -> FatTreeInput:
        if self.leaf_down >= self.radix:
            raise ValueError(f"leaf_down must leave at least one uplink: 1..{self.radix - 1}")
        if self.tiers == 3 and self.spine_down_ports >= self.radix:
            raise ValueError(f"spine_down must leave at least one uplink: 1..{self.radix - 1}")
        if self.gpus % self.gpus_per_node:
            raise ValueError("gpus must be whole nodes")
        return self

    @property
    def spine_down_ports(self) -> int:
        if self.tiers == 2:
            return self.radix
        return self.spine_down if self.spine_down is not None else self.radix // 2


class FatTree(BaseModel):
    """Counts and bandwidths of a design."""

    feasible: bool = Field(description="Whether the radix can wire the design.")
    reason: str = Field(description="Why not, when it cannot.")
    leaves: int
    spines: int
    cores: int
    switches: int
    leaves_per_rail: int
    pods: int = Field(description="Pods of the three-tier tree (1 for two tiers).")
    su_gpus: int = Field(description="GPUs under one rail group of leaves (non-blocking).")
    pod_gpus: int = Field(description="GPUs under one pod's spines.")
    pod_members: list[int] = Field(default_factory=list,
                                   description="GPUs of each pod (the last may be smaller).")
    pod_uplinks: list[int] = Field(default_factory=list,
                                   description="Spine-to-core links of each pod.")
    links_node_leaf: int
    links_leaf_spine: int
    links_spine_core: int
    links: int = Field(description="All links (= cables).")
    transceivers: int = Field(description="Two per link: every link optical, one per end.")
    leaf_oversub: float = Field(description="Leaf down / up ports (1 when up >= down).")
    spine_oversub: float = Field(description="Spine down / up ports (1 for two tiers).")
    oversub: float = Field(description="Worst end-to-end oversubscription.")
    bisection_tbps: float = Field(description="Bisection bandwidth, one direction, Tb/s.")
    nonblocking_gpus: int = Field(description="Largest block with full bisection inside.")


def fat_tree(inp: FatTreeInput) -> FatTree:
    """Counts of a rail-optimised fat tree (see the module docstring for the rules)."""
    k, d, rails = inp.radix, inp.leaf_down, inp.gpus_per_node
    nodes = inp.gpus // rails
    up = k - d
    per_rail = math.ceil(nodes / d)
    leaves = rails * per_rail
    su_gpus = min(d, nodes) * rails
    leaf_over = max(1.0, d / up)
    feasible, reason = True, ""
    if inp.tiers == 2:
        pods, spines, cores = 1, math.ceil(leaves * up / k), 0
        pod_gpus, spine_over = inp.gpus, 1.0
        spine_core = 0
        members: list[int] = [inp.gpus]
        uplinks: list[int] = [0]
        if leaves > k:
            feasible = False
            reason = (f"{leaves} leaves but a {k}-port spine reaches at most {k}: "
                      "two tiers cannot hold this many GPUs at this leaf split")
    else:
        sd = inp.spine_down_ports
        s_up = k - sd
        pod_leaves = max(rails, min(inp.pod_leaves or sd, sd) // rails * rails)
        pods = math.ceil(leaves / pod_leaves)
        spines = 0
        members, uplinks = [], []
        for p in range(pods):
            filled = min(pod_leaves, leaves - p * pod_leaves)
            in_pod = pod_leaves if inp.full_pods else filled
            pod_spines = math.ceil(in_pod * up / sd)
            spines += pod_spines
            members.append(min(filled // rails * d * rails, inp.gpus - sum(members)))
            uplinks.append(pod_spines * s_up)
        spine_core = spines * s_up
        cores = math.ceil(spine_core / k)
        pod_gpus = min(pod_leaves // rails * d * rails, inp.gpus)
        spine_over = max(1.0, sd / s_up)
        if sd < rails:
            feasible, reason = False, f"a pod needs at least one leaf per rail ({rails})"
        elif pods > k:
            feasible = False
            reason = f"{pods} pods but a {k}-port core reaches at most {k}"
    node_leaf = inp.gpus
    leaf_spine = leaves * up
    links = node_leaf + leaf_spine + spine_core
    top = 1.0
    if nodes > d:
        top *= leaf_over
    if inp.tiers == 3 and pods > 1:
        top *= spine_over
    if leaf_over > 1.0 or nodes <= d:
        block = su_gpus
    elif spine_over > 1.0 and pods > 1:
        block = pod_gpus
    else:
        block = inp.gpus
    return FatTree(
        feasible=feasible, reason=reason, leaves=leaves, spines=spines, cores=cores,
        switches=leaves + spines + cores, leaves_per_rail=per_rail, pods=pods,
        su_gpus=su_gpus, pod_gpus=pod_gpus, pod_members=members, pod_uplinks=uplinks,
        links_node_leaf=node_leaf,
        links_leaf_spine=leaf_spine, links_spine_core=spine_core, links=links,
        transceivers=2 * links, leaf_oversub=leaf_over, spine_oversub=spine_over,
        oversub=top, bisection_tbps=inp.gpus / 2 * inp.port_gbps / 1000 / top,
        nonblocking_gpus=block)


def rail_allreduce_s(size_bytes: float, nodes: int, nic: LinkName,
                     tree: FatTree | None = None) -> float:
    """Seconds of a ring/tree all-reduce over one GPU per node (a data-parallel group of
    same-rank GPUs, all on one rail), NCCL picking the faster.

    A ring's hops join neighbouring nodes on the same rail, so only the hops at SU and pod
    boundaries cross a spine: a couple of flows per boundary against dozens of uplinks, so
    the ring runs at the NIC's busbw whatever the oversubscription. A tree's edges join node
    i to 2i and 2i+1, which lie in other SUs for all but the first SU, so its bandwidth is
    divided by the oversubscription above the SU.
    """
    if nodes <= 1:
        return 0.0
    link = get_link(nic)
    ring = collective_time("all_reduce", size_bytes, nodes, link.achievable_busbw_gbps,
                           link.latency_us, "ring")
    over = tree.oversub if tree is not None else 1.0
    tree_t = collective_time("all_reduce", size_bytes, nodes,
                             link.achievable_busbw_gbps / over, link.latency_us, "tree")
    return min(ring, tree_t)


def allreduce_s(size_bytes: int, gpus: int, scale_up: LinkName, nic: LinkName,
                gpus_per_node: int = 8) -> float:
    """Seconds of an all-reduce over all GPUs (the collective model, NCCL's choice)."""
    return estimate_collective(CollectiveInput(
        op="all_reduce", bytes=size_bytes, ranks=gpus, link=scale_up,
        ranks_per_node=gpus_per_node, scale_out_link=nic)).time_s


class AllToAll(BaseModel):
    """Time of an all-to-all over every GPU of a fat tree and the part that limits it."""

    time_s: float
    limit: str = Field(description="nvlink, nic, leaf uplinks or spine uplinks.")
    busbw_gbps: float = Field(description="Effective bus bandwidth per GPU, GB/s.")
    shares: dict[str, float] = Field(description="Seconds each part needs on its own.")


def alltoall(size_bytes: float, tree: FatTree, scale_up: LinkName, nic: LinkName,
             gpus_per_node: int = 8) -> AllToAll:
    """An all-to-all over all GPUs, each sending `size_bytes` spread evenly over every rank.

    With PXN every NIC carries an equal share. Of a GPU's buffer, (gpus_per_node - 1)/N stays
    in its node (NVLink), the rest leaves through its NIC; what goes outside its SU crosses
    the leaf uplinks at 1/leaf_oversub of the NIC rate; what goes outside its pod crosses
    that pod's spine-to-core links, pod by pod (a partly filled last pod sends a larger share
    out, over its own uplinks: it is often the slowest). The slowest part sets the time; the
    peers are served concurrently, so one network latency is added, not one per peer.
    """
    n = tree.links_node_leaf
    up = get_link(scale_up).achievable_busbw_gbps * 1e9
    link = get_link(nic)
    bw = link.achievable_busbw_gbps * 1e9
    s = size_bytes
    shares = {"nvlink": s * (gpus_per_node - 1) / n / up,
              "nic": s * (n - gpus_per_node) / n / bw}
    if n > tree.su_gpus:
        shares["leaf uplinks"] = s * (n - tree.su_gpus) / n / (bw / tree.leaf_oversub)
    if n > tree.pod_gpus and tree.links_spine_core:
        shares["spine uplinks"] = max(
            g * s * (n - g) / n / (links * bw) if links else 0.0
            for g, links in zip(tree.pod_members, tree.pod_uplinks, strict=True))
    limit = max(shares, key=lambda key: shares[key])
    beta = shares[limit]
    busbw = s * bus_factor("all_to_all", n) / beta / 1e9 if beta > 0 else 0.0
    t = collective_time("all_to_all", s, n, busbw, 0.0) + link.latency_us * 1e-6
    return AllToAll(time_s=t, limit=limit, busbw_gbps=busbw, shares=shares)
