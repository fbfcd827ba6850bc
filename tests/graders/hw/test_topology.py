"""graders.hw.topology: fat-tree counts against published designs, and the collectives."""

from __future__ import annotations

import pytest

from graders.hw.topology import FatTreeInput, alltoall, fat_tree, rail_allreduce_s

# DGX SuperPOD (DGX B200, 8 x 400G NDR per node, 64-port Quantum-2) component table:
# GPUs -> (leaf, spine, core); every tier's cable count equals the GPU count.
SUPERPOD = {512: (16, 8, 0), 1024: (32, 16, 0), 2048: (64, 32, 0), 4096: (128, 128, 64),
            8192: (256, 256, 128), 16384: (512, 512, 256)}


@pytest.mark.parametrize("gpus", sorted(SUPERPOD))
def test_superpod_counts(gpus: int) -> None:
    leaf, spine, core = SUPERPOD[gpus]
    tree = fat_tree(FatTreeInput(gpus=gpus, radix=64, tiers=2 if core == 0 else 3,
                                 leaf_down=32))
    assert (tree.leaves, tree.spines, tree.cores) == (leaf, spine, core)
    assert tree.links_node_leaf == tree.links_leaf_spine == gpus
    assert tree.links_spine_core == (gpus if core else 0)
    assert tree.feasible and tree.oversub == 1.0 and tree.nonblocking_gpus == gpus


def test_k_ary_fat_tree() -> None:
    # Al-Fares et al. 2008: k = 48 holds k^3/4 = 27,648 hosts with 5k^2/4 = 2,880 switches.
    tree = fat_tree(FatTreeInput(gpus=27648, radix=48, tiers=3, leaf_down=24,
                                 gpus_per_node=1))
    assert tree.switches == 2880 and tree.feasible


def test_two_tiers_stop_at_radix_leaves() -> None:
    assert fat_tree(FatTreeInput(gpus=2048, radix=64, tiers=2, leaf_down=32)).feasible
    over = fat_tree(FatTreeInput(gpus=4096, radix=64, tiers=2, leaf_down=32))
    assert not over.feasible and "64" in over.reason
    # 3:1 leaves stretch two tiers to 64 leaves x 48 GPUs.
    assert fat_tree(FatTreeInput(gpus=3072, radix=64, tiers=2, leaf_down=48)).feasible


def test_oversubscription_bisection_and_blocks() -> None:
    full = fat_tree(FatTreeInput(gpus=16384, radix=64, tiers=3, leaf_down=32))
    thin = fat_tree(FatTreeInput(gpus=16384, radix=64, tiers=3, leaf_down=32, spine_down=48))
    assert thin.spine_oversub == 3.0 and thin.oversub == 3.0
    assert thin.bisection_tbps == pytest.approx(full.bisection_tbps / 3)
    assert full.bisection_tbps == pytest.approx(16384 / 2 * 0.4)
    assert thin.nonblocking_gpus == 48 // 8 * 32 * 8  # a pod of six 256-GPU units
    assert thin.switches < full.switches and thin.transceivers < full.transceivers
    leafy = fat_tree(FatTreeInput(gpus=2048, radix=64, tiers=2, leaf_down=48))
    assert leafy.nonblocking_gpus == 48 * 8 and leafy.oversub == 3.0


def test_collectives_feel_the_tiers_differently() -> None:
    full = fat_tree(FatTreeInput(gpus=16384, radix=64, tiers=3, leaf_down=32))
    thin = fat_tree(FatTreeInput(gpus=16384, radix=64, tiers=3, leaf_down=32, spine_down=48))
    # The rail ring does not see the oversubscription (the tree, a little faster at 1:1 for
    # its latency, does); the all-to-all does, at the core.
    assert rail_allreduce_s(17.5e9, 2048, "IB-NDR", thin) == \
        pytest.approx(rail_allreduce_s(17.5e9, 2048, "IB-NDR", full), rel=0.03)
    assert rail_allreduce_s(17.5e9, 2048, "IB-NDR", full) == pytest.approx(
        2 * 2047 / 2048 * 17.5e9 / 47e9, rel=0.05)
    a_full = alltoall(2**30, full, "NVLink4", "IB-NDR")
    a_thin = alltoall(2**30, thin, "NVLink4", "IB-NDR")
    assert a_full.limit in ("nic", "leaf uplinks") and a_thin.limit == "spine uplinks"
    assert a_full.time_s == pytest.approx(2**30 / 47e9, rel=0.05)
    assert a_thin.time_s == pytest.approx(3 * (16384 - 1536) / 16384 * 2**30 / 47e9, rel=0.05)


@pytest.mark.parametrize("bad", [dict(leaf_down=64), dict(tiers=3, spine_down=64),
                                 dict(gpus=1001)])
def test_bad_designs_are_rejected(bad: dict[str, int]) -> None:
    args = dict(gpus=1024, radix=64, tiers=2, leaf_down=32) | bad
    with pytest.raises(ValueError):
        FatTreeInput(**args)  # type: ignore[arg-type]


def test_partial_pod_and_pod_size_readings() -> None:
    # 4,096 GPUs, 64 ports, spines 48/16: pods of 48 leaves (1,536 GPUs) x 2 and one of 32.
    tree = fat_tree(FatTreeInput(gpus=4096, radix=64, tiers=3, leaf_down=32, spine_down=48))
    assert tree.pod_members == [1536, 1536, 1024]
    assert tree.pod_uplinks == [512, 512, 22 * 16]
    # The small pod sends 3/4 of its bytes out over 352 links: the slowest, ~25 ms at 47 GB/s.
    a2a = alltoall(512 * 2**20, tree, "NVLink4", "IB-NDR")
    assert a2a.limit == "spine uplinks"
    assert a2a.time_s == pytest.approx(1024 * 512 * 2**20 * 0.75 / (352 * 47e9), rel=0.01)
    # The same ports as pods of half the leaves (two links per leaf and spine): same counts,
    # more traffic over the core.
    half = fat_tree(FatTreeInput(gpus=4096, radix=64, tiers=3, leaf_down=32, spine_down=48,
                                 pod_leaves=24))
    assert (half.spines, half.cores) == (tree.spines, tree.cores)
    assert alltoall(512 * 2**20, half, "NVLink4", "IB-NDR").time_s > a2a.time_s
    grown = fat_tree(FatTreeInput(gpus=4096, radix=64, tiers=3, leaf_down=32, spine_down=48,
                                  full_pods=True))
    assert grown.spines == 3 * 32 and grown.cores == 24
