"""Reference solver for fabric-bring-up (hidden): finds the planted cause from the artifacts
alone, the way a good bring-up engineer would.

First the tests: single nodes fine means NVLink is fine; then the pair sweep against what
the HCAs' rate allows. Every pair slow points at something all job hosts share (the job's
NCCL_IB_HCA); the two pairs of one host slow point at that host, and only its own files are
read (peermem and NCCL's GDR lines, ACS on the switch ports under its GPUs, its IB MTU).
All pairs fine but full scale slow: a job host's cable on another rail's leaf in
ibnetdiscover, else static routing on the master SM. Spares, root ports, the Ethernet NIC
and commented lines never decide anything.
"""

from __future__ import annotations

import re
import statistics
from typing import Any


def _text(artifacts: dict[str, bytes], path: str) -> str:
    return artifacts[path].decode("utf-8")


def _ans(family: str, host: str, hca: str = "all") -> dict[str, Any]:
    return {"cause_family": family, "culprit_node": host, "culprit_hca": hca}


def solve(artifacts: dict[str, bytes]) -> dict[str, Any]:
    hosts = [line.split()[0] for line in _text(artifacts, "job/hostfile").splitlines() if line]
    rate = int(re.search(r"Rate: (\d+)", _text(artifacts, f"ib/{hosts[0]}.txt")).group(1))  # type: ignore[union-attr]
    nic_gbs = rate / 8
    pairs = []
    for line in _text(artifacts, "nccl-tests/pairs.txt").splitlines():
        if line.startswith("gpu-"):
            a, b, _, bw = line.split()
            pairs.append((a, b, float(bw)))
    healthy_floor = 0.8 * 8 * nic_gbs * 0.94  # a healthy pair reaches ~94% of 8 NICs' rate
    slow = [(a, b) for a, b, bw in pairs if bw < healthy_floor]
    if len(slow) == len(pairs):
        env = _text(artifacts, "env/job.env")
        m = re.search(r"^export NCCL_IB_HCA=(\S+)", env, re.M)
        if m and len(m.group(1).split(",")) < 8:
            return _ans("nccl_ib_hca", "all")
        return {}
    if slow:
        common = set(slow[0])
        for p in slow[1:]:
            common &= set(p)
        if len(slow) != 2 or len(common) != 1:
            return {}
        host = common.pop()
        return _local(artifacts, host)
    return _full_scale_only(artifacts, hosts)


def _local(artifacts: dict[str, bytes], host: str) -> dict[str, Any]:
    nccl = _text(artifacts, f"nccl/{host}.log")
    node = _text(artifacts, f"host/{host}.txt")
    if "GPU Direct RDMA Disabled" in nccl and "nvidia_peermem " not in node:
        return _ans("gdr_off", host)
    lines = node.splitlines()
    for i, line in enumerate(lines):
        if "# downstream port to" in line and "ReqRedir+" in lines[i + 1]:
            return _ans("pcie_acs", host)
    ib = _text(artifacts, f"ib/{host}.txt").split("$ ibv_devinfo", 1)[1]
    for block in ib.split("hca_id:")[1:]:
        if "InfiniBand" in block:
            active = re.search(r"active_mtu:\s+(\d+)", block)
            top = re.search(r"max_mtu:\s+(\d+)", block)
            if active and top and int(active.group(1)) < int(top.group(1)):
                return _ans("mtu_mismatch", host)
    return {}


def _full_scale_only(artifacts: dict[str, bytes], hosts: list[str]) -> dict[str, Any]:
    job = set(hosts)
    leaf_rail = None
    for line in _text(artifacts, "topology/ibnetdiscover.txt").splitlines():
        m = re.search(r'# "leaf-su\d+-r(\d+)"', line)
        if line.startswith("Switch") and m:
            leaf_rail = int(m.group(1))
            continue
        h = re.search(r'# "(\S+) mlx5_(\d+)"', line)
        if h and leaf_rail is not None and h.group(1) in job and int(h.group(2)) != leaf_rail:
            return _ans("rail_miswired", h.group(1), f"mlx5_{h.group(2)}")
    conf = _text(artifacts, "fabric/opensm.conf")
    m = re.search(r"^routing_engine (\S+)", conf, re.M)
    if m and not m.group(1).startswith("ar_"):
        runs = [float(x) for x in re.findall(
            r"^\s+8589934592\s+\d+\s+float\s+sum\s+-1\s+\S+\s+\S+\s+(\S+)",
            _text(artifacts, "nccl-tests/all_reduce_full.log"), re.M)]
        if runs and (max(runs) - min(runs)) > 0.1 * statistics.median(runs):
            return _ans("adaptive_routing_off", "all")
    return {}
