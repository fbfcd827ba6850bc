"""The fabric model of the network-design scenario (hidden): one design through
graders.hw.topology, its cost at the variant's prices, whether it meets the customer's
requirements, and the cheapest design that does.

A design is (tiers, leaf_down, spine_down). It meets the requirements when the radix can
wire it, every block of `nonblocking_gpus` GPUs the scheduler places together has full
bisection bandwidth (an SU, a pod or the whole fabric, whichever is the largest
non-blocking level), and the worst end-to-end oversubscription is at most `max_oversub`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

SCALE_UP = "NVLink4"


def design(params: dict[str, Any], tiers: int, leaf_down: int, spine_down: int | None,
           full_pods: bool = False, pod_leaves: int | None = None) -> Any:
    from graders.hw.topology import FatTreeInput, fat_tree

    k = params["radix"]
    return fat_tree(FatTreeInput(gpus=params["num_gpus"], radix=k, tiers=tiers,  # type: ignore[arg-type]
                                 leaf_down=leaf_down, full_pods=full_pods,
                                 pod_leaves=pod_leaves if tiers == 3 else None,
                                 spine_down=spine_down if tiers == 3 else None))


def readings(params: dict[str, Any], tiers: int, leaf_down: int,
             spine_down: int | None) -> list[Any]:
    """The same design's valid wirings: pods of spine_down leaves (one link per leaf and
    spine) or of half as many (two links each), a partly filled last pod with the fewest
    spines or a full pod's. Counts differ only by the last pod's spines; the all-to-all
    differs with the pod size."""
    if tiers != 3 or spine_down is None:
        return [design(params, tiers, leaf_down, spine_down)]
    pods = [None] + ([spine_down // 2] if spine_down // 2 >= 8 else [])
    return [design(params, tiers, leaf_down, spine_down, full, pl)
            for pl in pods for full in (False, True)]


def cost_musd(params: dict[str, Any], switches: float, transceivers: float) -> float:
    return float(switches * params["switch_price_k"] * 1e3
                 + transceivers * params["transceiver_price"]) / 1e6


def problems(params: dict[str, Any], tree: Any, slack: float = 1.05) -> list[str]:
    out = []
    if not tree.feasible:
        out.append(tree.reason)
    if tree.nonblocking_gpus < params["nonblocking_gpus"]:
        out.append(f"the largest non-blocking block is {tree.nonblocking_gpus} GPUs, under the "
                   f"{params['nonblocking_gpus']} required")
    # 5% slack when judging: a "2:1" leaf of 43 down / 21 up (2.05) is what an engineer
    # means by 2:1. The cheapest-design search holds the strict limit.
    if tree.oversub > params["max_oversub"] * slack:
        out.append(f"end-to-end oversubscription {tree.oversub:.2f}:1 is over the "
                   f"{params['max_oversub']}:1 accepted")
    return out


def collectives(params: dict[str, Any], tree: Any) -> dict[str, Any]:
    from graders.hw.topology import alltoall, rail_allreduce_s

    ar = rail_allreduce_s(params["grad_gb"] * 1e9, params["num_nodes"], params["nic"], tree)
    a2a = alltoall(params["a2a_mib"] * 2**20, tree, SCALE_UP, params["nic"])
    return {"allreduce_ms": ar * 1e3, "alltoall_ms": a2a.time_s * 1e3,
            "alltoall_limit": a2a.limit}


def _key(params: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(params[k] for k in ("num_gpus", "radix", "nonblocking_gpus", "max_oversub",
                                     "switch_price_k", "transceiver_price"))


@lru_cache(maxsize=256)
def _cheapest(key: tuple[Any, ...]) -> dict[str, Any] | None:
    n, k, block, over, sw, xc = key
    params = {"num_gpus": n, "radix": k, "nonblocking_gpus": block, "max_oversub": over,
              "switch_price_k": sw, "transceiver_price": xc}
    best: dict[str, Any] | None = None
    # A tier that sends more ports up than down only adds switches: the search starts at
    # half the radix.
    for tiers in (2, 3):
        spine_range = [None] if tiers == 2 else list(range(k // 2, k))
        for d in range(k // 2, k):
            for sd in spine_range:
                tree = design(params, tiers, d, sd)
                if problems(params, tree, slack=1.0):
                    continue
                cost = cost_musd(params, tree.switches, tree.transceivers)
                if best is None or cost < best["cost_musd"] - 1e-12:
                    best = {"tiers": tiers, "leaf_down": d, "spine_down": sd if sd else k,
                            "switches": tree.switches, "cost_musd": cost}
    return best


def cheapest(params: dict[str, Any]) -> dict[str, Any] | None:
    """The cheapest (tiers, leaf_down, spine_down) meeting the requirements, or None."""
    return _cheapest(_key(params))
