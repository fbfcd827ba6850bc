"""The shortcut a candidate who skips the analysis would take (hidden): grep each family's
signature in a fixed order, answer with the first hit, lift the 8 GiB figure off the first
run and 8 x the HCA line rate as the expectation, write three words. selftest grades it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Finder = Callable[[dict[str, bytes], "set[str] | None"], "tuple[str, str] | None"]


def _files(artifacts: dict[str, bytes], prefix: str, hosts: set[str] | None) -> list[tuple[str, str]]:
    out = []
    for path in sorted(artifacts):
        if path.startswith(prefix):
            host = path[len(prefix):].rsplit(".", 1)[0]
            if hosts is None or host in hosts:
                out.append((host, artifacts[path].decode("utf-8")))
    return out


def find_gdr(a: dict[str, bytes], hosts: set[str] | None) -> tuple[str, str] | None:
    for host, text in _files(a, "nccl/", hosts):
        if "GPU Direct RDMA Disabled" in text:
            return host, "all"
    for host, text in _files(a, "host/", hosts):
        if "nvidia_peermem " not in text:
            return host, "all"
    return None


def find_miswire(a: dict[str, bytes], hosts: set[str] | None) -> tuple[str, str] | None:
    rail = None
    for line in a["topology/ibnetdiscover.txt"].decode().splitlines():
        m = re.search(r'"leaf-su\d+-r(\d+)"', line)
        if m and line.startswith("Switch"):
            rail = int(m.group(1))
        h = re.search(r'# "(\S+) mlx5_(\d+)"', line)
        if h and rail is not None and int(h.group(2)) != rail and (
                hosts is None or h.group(1) in hosts):
            return h.group(1), f"mlx5_{h.group(2)}"
    return None


def find_ar(a: dict[str, bytes], hosts: set[str] | None) -> tuple[str, str] | None:
    conf = a["fabric/opensm.conf"].decode()
    if "routing_engine ftree" in conf:
        return "all", "all"
    if hosts is None and "NCCL_IB_ADAPTIVE_ROUTING=0" in a["env/spares-preflight.env"].decode():
        return "all", "all"
    return None


def find_acs(a: dict[str, bytes], hosts: set[str] | None) -> tuple[str, str] | None:
    for host, text in _files(a, "host/", hosts):
        if "ReqRedir+" in text:
            return host, "all"
    return None


def find_hca_env(a: dict[str, bytes], hosts: set[str] | None) -> tuple[str, str] | None:
    paths = ["env/job.env"] + (["env/spares-preflight.env"] if hosts is None else [])
    for path in paths:
        m = re.search(r"NCCL_IB_HCA=(\S+)", a[path].decode())
        if m and len(m.group(1).split(",")) < 8:
            return "all", "all"
    return None


def find_mtu(a: dict[str, bytes], hosts: set[str] | None) -> tuple[str, str] | None:
    for host, text in _files(a, "ib/", hosts):
        if re.search(r"active_mtu:\s+(1024|2048)", text):
            return host, "all"
    return None


ORDER: list[tuple[str, Finder]] = [
    ("gdr_off", find_gdr), ("rail_miswired", find_miswire), ("pcie_acs", find_acs),
    ("nccl_ib_hca", find_hca_env), ("mtu_mismatch", find_mtu),
    ("adaptive_routing_off", find_ar),
]


def solve(artifacts: dict[str, bytes], job_hosts_only: bool = False) -> dict[str, Any]:
    hosts = None
    if job_hosts_only:
        hosts = {line.split()[0] for line in artifacts["job/hostfile"].decode().splitlines()
                 if line}
    family, node, hca = "gdr_off", "all", "all"
    for fam, find in ORDER:
        hit = find(artifacts, hosts)
        if hit is not None:
            family, (node, hca) = fam, hit
            break
    log = artifacts["nccl-tests/all_reduce_full.log"].decode()
    m = re.search(r"^\s+8589934592\s+\d+\s+float\s+sum\s+-1\s+\S+\s+\S+\s+(\S+)", log, re.M)
    first = next(iter(artifacts[p] for p in sorted(artifacts) if p.startswith("ib/")))
    rate = int(re.search(rb"Rate: (\d+)", first).group(1))  # type: ignore[union-attr]
    return {"cause_family": family, "culprit_node": node, "culprit_hca": hca,
            "measured_busbw": float(m.group(1)) if m else 0.0,
            "expected_busbw": 8 * rate / 8,
            "evidence": f"Found {family} signature.", "fix": f"Fix the {family}.",
            "verification": "Rerun the test."}
