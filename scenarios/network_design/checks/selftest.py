"""Per-variant self-check of the network-design scenario (hidden).

`solve(params)` is the design an engineer with round port splits reaches: leaves and spines
split 1:1, about 2:1, 3:1, about 4:1 or 7:1 (k/2, 2k/3, 3k/4, 4k/5, 7k/8 down), two tiers where they fit, the cheapest of those that meets the
requirements. `check(variant)` requires that it exists, earns full design credit (cost within
FULL_AT of the search's cheapest) and that the full fat tree (every tier 1:1) is feasible;
`summary()` prints how often the full fat tree also earns full credit (then the
oversubscription trade-off does not matter on that seed).
"""

from __future__ import annotations

from typing import Any

from scenarios.hooks import sibling

_STATS = {"seeds": 0, "full_tree_full_credit": 0, "oversubscribed_best": 0}


def _splits(k: int) -> list[int]:
    # 1:1, ~2:1, 3:1, ~4:1 and 7:1
    return [k // 2, 2 * k // 3, 3 * k // 4, 4 * k // 5, 7 * k // 8]


def solve(params: dict[str, Any]) -> dict[str, Any] | None:
    m = sibling(__file__, "fabric_model.py")
    best: dict[str, Any] | None = None
    k = params["radix"]
    for tiers in (2, 3):
        for d in _splits(k):
            for sd in ([None] if tiers == 2 else _splits(k)):
                tree = m.design(params, tiers, d, sd)
                if m.problems(params, tree):
                    continue
                cost = m.cost_musd(params, tree.switches, tree.transceivers)
                if best is None or cost < best["cost"] - 1e-12:
                    best = {"tiers": tiers, "leaf_down": d, "spine_down": sd or k,
                            "tree": tree, "cost": cost}
    if best is None:
        return None
    tree = best["tree"]
    coll = m.collectives(params, tree)
    return {"tiers": str(best["tiers"]), "leaf_down": best["leaf_down"],
            "spine_down": best["spine_down"], "leaf_switches": tree.leaves,
            "spine_switches": tree.spines, "core_switches": tree.cores,
            "transceivers": tree.transceivers, "fabric_cost_musd": round(best["cost"], 3),
            "bisection_tbps": round(tree.bisection_tbps, 1),
            "allreduce_ms": round(coll["allreduce_ms"], 1),
            "alltoall_ms": round(coll["alltoall_ms"], 1)}


def full_tree(params: dict[str, Any]) -> dict[str, Any]:
    """Every tier 1:1, the fewest tiers that hold the cluster."""
    k = params["radix"]
    tiers = 2 if params["num_gpus"] <= k * k // 2 else 3
    return {"tiers": str(tiers), "leaf_down": k // 2, "spine_down": k if tiers == 2 else k // 2}


def check(variant: Any) -> list[str]:
    mi = sibling(__file__, "model_input.py")
    p = variant.params
    out = []
    ref = solve(p)
    _STATS["seeds"] += 1
    if ref is None:
        return [f"no round design meets the requirements on seed {variant.seed}"]
    verdict = mi.assess(p, ref)
    if not verdict["feasible"] or verdict["quality"] < 1.0:
        out.append(f"the round design earns quality {verdict['quality']:.2f} on seed "
                   f"{variant.seed}: {verdict['quality_text']}")
    full = mi.assess(p, full_tree(p))
    if not full["feasible"]:
        out.append(f"the full fat tree is not feasible on seed {variant.seed}: {full['reason']}")
    elif full["quality"] >= 1.0:
        _STATS["full_tree_full_credit"] += 1
    if ref["leaf_down"] != p["radix"] // 2 or (ref["tiers"] == "3"
                                               and ref["spine_down"] != p["radix"] // 2):
        _STATS["oversubscribed_best"] += 1
    return out


def summary() -> list[str]:
    n = _STATS["seeds"] or 1
    return [f"round design oversubscribed on {_STATS['oversubscribed_best']}/{n} seeds; the "
            f"full fat tree earns full cost credit on {_STATS['full_tree_full_credit']}/{n}"]
