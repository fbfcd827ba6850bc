"""Validation of graders.hw.topology (fat-tree counts) and graders.hw.fabric (multi-node
all_reduce_perf busbw) against published figures. Prints tables; never part of the tests.

    .venv/bin/python bench/topology_validation.py
"""

from __future__ import annotations

from graders.hw.fabric import expected_busbw
from graders.hw.topology import FatTreeInput, fat_tree

# NVIDIA DGX SuperPOD reference architecture, DGX B200 (8 x 400 Gb/s NDR per node, 64-port
# Quantum-2 QM9790), "Larger DGX SuperPOD component counts" (docs.nvidia.com/dgx-superpod/
# reference-architecture-scalable-infrastructure-b200/latest/dgx-superpod-architecture.html):
# GPUs -> leaf, spine, core switches, node-leaf, leaf-spine, spine-core cables.
SUPERPOD_B200 = {
    512: (16, 8, 0, 512, 512, 0), 1024: (32, 16, 0, 1024, 1024, 0),
    2048: (64, 32, 0, 2048, 2048, 0), 4096: (128, 128, 64, 4096, 4096, 4096),
    8192: (256, 256, 128, 8192, 8192, 8192), 16384: (512, 512, 256, 16384, 16384, 16384),
}

# Al-Fares, Loukissas, Vahdat, "A Scalable, Commodity Data Center Network Architecture"
# (SIGCOMM 2008) §3: a k-ary fat tree holds k^3/4 hosts with 5k^2/4 switches; k = 48 gives
# 27,648 hosts and 2,880 switches.
ALFARES = {48: (27648, 2880), 64: (65536, 5120)}

# Multi-node all_reduce_perf busbw at large sizes, GB/s (NCCL maintainers: nvidia/nccl #1442,
# nccl-tests #212, the figures the catalog cites): H100 + 8 x NDR ~370 (the NVLink ring busbw
# caps it: 8 x 46-48 GB/s of NICs is above it), DGX A100 + 8 x HDR 192 (24 GB/s per NIC).
FABRIC_ROWS = [
    ("h100-ndr-16-nodes", "NVLink4", "IB-NDR", 16, 370.0),
    ("h100-ndr-64-nodes", "NVLink4", "IB-NDR", 64, 370.0),
    ("a100-hdr-16-nodes", "NVLink3", "IB-HDR", 16, 192.0),
    ("a100-hdr-64-nodes", "NVLink3", "IB-HDR", 64, 192.0),
]


def superpod() -> None:
    print("DGX SuperPOD B200 compute fabric, model vs published (leaf/spine/core; cables):")
    print(f"  {'GPUs':>6} {'published':>32} {'model':>32}  match")
    exact = 0
    for gpus, pub in SUPERPOD_B200.items():
        t = fat_tree(FatTreeInput(gpus=gpus, radix=64, tiers=2 if pub[2] == 0 else 3,
                                  leaf_down=32))
        got = (t.leaves, t.spines, t.cores, t.links_node_leaf, t.links_leaf_spine,
               t.links_spine_core)
        exact += got == pub
        print(f"  {gpus:>6} {str(pub):>32} {str(got):>32}  {'yes' if got == pub else 'NO'}")
    print(f"  {exact}/{len(SUPERPOD_B200)} rows exact")


def alfares() -> None:
    print("\nk-ary fat tree (Al-Fares et al. 2008), hosts and switches:")
    for k, (hosts, switches) in ALFARES.items():
        t = fat_tree(FatTreeInput(gpus=hosts, radix=k, tiers=3, leaf_down=k // 2,
                                  gpus_per_node=1))
        print(f"  k={k}: published {hosts} hosts / {switches} switches; model "
              f"{t.switches} switches, feasible {t.feasible}")


def fabric() -> None:
    print("\ngraders.hw.fabric: multi-node all_reduce_perf busbw at 8 GiB, GB/s:")
    print(f"  {'case':20} {'published':>9} {'model':>9} {'error':>7}")
    errors = []
    for cid, up, nic, nodes, pub in FABRIC_ROWS:
        got = expected_busbw(up, nic, nodes, 8 * 2**30)
        errors.append(got / pub - 1)
        print(f"  {cid:20} {pub:9.1f} {got:9.1f} {got / pub - 1:+7.1%}")
    print(f"  worst |error| {max(abs(e) for e in errors):.1%}")


if __name__ == "__main__":
    superpod()
    alfares()
    fabric()
