"""Variant data for fabric-bring-up: a new rail-optimised cluster whose NCCL all-reduce
acceptance test reports far less bus bandwidth than the hardware should give.

Every bandwidth comes from graders.hw.fabric (the collective model): the healthy curve, and
the faulty one with the scale-out bandwidth the fault leaves (a share of each NIC on the
slowest node, or fewer NICs). One cause from six families is planted; every family's surface
signature also sits somewhere harmless (a spare that is not in the job, a root port, the
Ethernet storage NIC, a commented line, a node that uses DMA-BUF instead of nvidia_peermem).
Text formats are in formats.py.
"""

from __future__ import annotations

import random
from types import ModuleType
from typing import Any

from scenarios.hooks import sibling

FAMILIES = ["gdr_off", "rail_miswired", "adaptive_routing_off", "pcie_acs", "nccl_ib_hca",
            "mtu_mismatch"]
NODE_SCOPE = {"gdr_off", "pcie_acs", "mtu_mismatch"}  # one node, all its HCAs
HCA_SCOPE = {"rail_miswired"}  # one node, one HCA
SU_NODES = 16
SIZES = [1024 * 2**k for k in range(24)]  # 1 KiB .. 8 GiB, as -b 1K -e 8G -f 2
PAIR_SIZE = 1 << 30
GPUS: dict[str, dict[str, Any]] = {
    "H100-SXM-80GB": dict(up="NVLink4", nic="IB-NDR", hca="ConnectX-7", ca_type="MT4129",
                          rate=400, speed="NDR", lane="100.0 Gbps", fw="28.39.2048",
                          switch="Broadcom / LSI PEX890xx PCIe Gen 5 Switch (rev b0)",
                          sku="H100 80GB HBM3", label="H100"),
    "H200-SXM-141GB": dict(up="NVLink4", nic="IB-NDR", hca="ConnectX-7", ca_type="MT4129",
                           rate=400, speed="NDR", lane="100.0 Gbps", fw="28.39.2048",
                           switch="Broadcom / LSI PEX890xx PCIe Gen 5 Switch (rev b0)",
                           sku="H200", label="H200"),
    "A100-SXM4-80GB": dict(up="NVLink3", nic="IB-HDR", hca="ConnectX-6", ca_type="MT4123",
                           rate=200, speed="HDR", lane="50.0 Gbps", fw="20.39.1002",
                           switch="Broadcom / LSI PEX88096 PCIe Gen 4 Switch (rev b0)",
                           sku="A100-SXM4-80GB", label="A100"),
}


def host_names(n: int) -> list[str]:
    return [f"gpu-su{i // SU_NODES + 1}-n{i % SU_NODES + 1:02d}" for i in range(n)]


def _formats() -> ModuleType:
    return sibling(__file__, "formats.py")


class Cluster:
    """One variant: hosts, the planted cause, decoys and every measured bandwidth."""

    def __init__(self, seed: int, params: dict[str, Any]) -> None:
        from graders.hw.fabric import allreduce_curve

        r = random.Random(f"fabric-bring-up:v1:{seed}")
        self.rng = r
        self.n = int(params["num_nodes"])
        self.gpu_name = params["gpu_model"]
        self.g = GPUS[self.gpu_name]
        self.hosts = host_names(self.n)
        self.spares = [f"gpu-su1-n{SU_NODES + 1}", f"gpu-su1-n{SU_NODES + 2}"]
        self.family = FAMILIES[r.randrange(len(FAMILIES))]
        self.node = r.randrange(self.n)
        self.hca = r.randrange(8)
        self.wrong_rail = r.choice([k for k in range(8) if k != self.hca])
        if self.family not in NODE_SCOPE | HCA_SCOPE:
            self.node = -1
        self.nics_used = 8
        self.ib_hca_list = [f"mlx5_{k}" for k in range(8)]
        if self.family == "nccl_ib_hca":
            self.ib_hca_list = r.choice([["mlx5_0", "mlx5_1", "mlx5_2", "mlx5_3"],
                                         ["mlx5_0", "mlx5_2", "mlx5_4", "mlx5_6"],
                                         ["mlx5_0", "mlx5_1"]])
            self.nics_used = len(self.ib_hca_list)
        self.env_style = r.choice(["list", "ports"])  # how the healthy job env names the HCAs
        eff = {"gdr_off": (0.38, 0.55), "pcie_acs": (0.22, 0.40), "mtu_mismatch": (0.55, 0.72),
               "rail_miswired": (0.55, 0.72), "adaptive_routing_off": (0.45, 0.65),
               "nccl_ib_hca": (1.0, 1.0)}[self.family]
        self.eff = r.uniform(*eff)
        others = [i for i in range(self.n) if i != self.node]
        self.dmabuf_node = r.choice(others)  # no nvidia_peermem, GDR through DMA-BUF: harmless
        self.spare_hca = r.randrange(8)
        self.spare_rail = r.choice([k for k in range(8) if k != self.spare_hca])
        self.pids = [r.randrange(20000, 90000) for _ in range(self.n + 2)]
        self.guid_base = r.randrange(0x1000, 0xFFFF)
        up, nic = self.g["up"], self.g["nic"]

        def noisy(points: list[Any], spread: float) -> list[tuple[int, float, float]]:
            out = []
            for p in points:
                f = 1 + r.gauss(0, spread)
                out.append((p.size_bytes, p.time_us / f, p.busbw_gbps * f))
            return out

        # Single-node runs: NVLink only, every fault leaves them alone.
        single = allreduce_curve(up, nic, 1, [PAIR_SIZE])[0]
        self.single = {h: single.busbw_gbps * (1 + r.gauss(0, 0.008)) for h in self.hosts}
        # Pair sweep: host i with host i+1 (wrapping), 16 ranks at 1 GiB. Two nodes do not
        # load the spines, so routing and a misplaced cable do not show here.
        healthy_pair = allreduce_curve(up, nic, 2, [PAIR_SIZE])[0].busbw_gbps
        local_bad = self.family in NODE_SCOPE
        bad_pair = allreduce_curve(
            up, nic, 2, [PAIR_SIZE], nics_used=self.nics_used,
            nic_efficiency=self.eff if local_bad else 1.0)[0].busbw_gbps
        self.pairs = []
        for i in range(self.n):
            j = (i + 1) % self.n
            hit = (local_bad and self.node in (i, j)) or self.family == "nccl_ib_hca"
            bw = (bad_pair if hit else healthy_pair) * (1 + r.gauss(0, 0.01))
            self.pairs.append((self.hosts[i], self.hosts[j], bw))
        # Full-scale runs, three in a row. Without adaptive routing, static routes collide
        # on the spine differently each run.
        self.runs: list[list[tuple[int, float, float]]] = []
        spread = [r.uniform(0.84, 0.9), 1.0, r.uniform(1.1, 1.16)]
        r.shuffle(spread)
        for k in range(3):
            run_eff = self.eff
            if self.family == "adaptive_routing_off":
                run_eff = self.eff * spread[k]
            pts = allreduce_curve(up, nic, self.n, SIZES, nics_used=self.nics_used,
                                  nic_efficiency=run_eff)
            self.runs.append(noisy(pts, 0.006))
        self.measured = sum(run[-1][2] for run in self.runs) / 3
        # Preflight of the two spares (not in the job): slow because of their own decoys.
        spare_pts = allreduce_curve(up, nic, 2, [PAIR_SIZE], nic_efficiency=0.41)
        self.spare_pair = spare_pts[0].busbw_gbps * (1 + r.gauss(0, 0.01))

    def guid(self, host_index: int, hca: int) -> str:
        return f"0x{self.guid_base:04x}0300{host_index:06x}{hca:02x}"


def generate(seed: int, params: dict[str, Any]) -> dict[str, Any]:
    c = Cluster(seed, params)
    f = _formats()
    artifacts: dict[str, bytes] = {}

    def put(path: str, text: str) -> None:
        artifacts[path] = text.encode("utf-8")

    put("job/hostfile", "".join(f"{h} slots=8\n" for h in c.hosts))
    put("env/job.env", f.job_env(c))
    put("env/spares-preflight.env", f.spare_env(c))
    put("nccl-tests/all_reduce_full.log", f.full_runs(c))
    put("nccl-tests/pairs.txt", f.pairs(c))
    put("nccl-tests/single_node.txt", f.single_node(c))
    put("nccl-tests/spares-preflight.log", f.spares_preflight(c))
    put("topology/ibnetdiscover.txt", f.ibnetdiscover(c))
    put("topology/topo-m.txt", f.topo(c))
    put("fabric/opensm.conf", f.opensm(c))
    for i, h in enumerate(c.hosts + c.spares):
        put(f"ib/{h}.txt", f.ib(c, i, h))
        put(f"host/{h}.txt", f.host(c, i, h))
    for i, h in enumerate(c.hosts):
        put(f"nccl/{h}.log", f.nccl_log(c, i, h))
    put(f"nccl/{c.spares[0]}.log", f.nccl_spare_log(c))
    culprit_node = c.hosts[c.node] if c.node >= 0 else "all"
    decoys = list(c.spares) + [c.hosts[c.dmabuf_node]]
    return {
        "params": {
            "cause_family": c.family,
            "culprit_node": culprit_node,
            "culprit_hca": f"mlx5_{c.hca}" if c.family in HCA_SCOPE else "all",
            "measured_busbw_gbs": round(c.measured, 2),
            "nic": f"{c.g['hca']} {c.g['speed']} {c.g['rate']} Gb/s",
            "decoy_nodes": sorted(set(decoys) - {culprit_node}),
            "red_herrings": ["spare-gdr", "spare-acs", "spare-miswire", "spare-mtu",
                             "spare-env", "root-port-acs", "storage-nic-mtu",
                             "commented-routing-engine", "dmabuf-node"],
        },
        "artifacts": artifacts,
    }
