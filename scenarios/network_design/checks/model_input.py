"""The plan check's input for this scenario (hidden): the candidate's fabric through the
fat-tree model (checks/fabric_model.py over graders.hw.topology and collectives).

assess(params, plan) -> the plan check's verdict for a design given as
{tiers, leaf_down, spine_down} (plus, for the cost, the candidate's own switch and
transceiver counts):

- feasible: the radix wires it, blocks of `nonblocking_gpus` are non-blocking and the worst
  oversubscription is within `max_oversub` (fabric_model.problems);
- quality: cost of switches and transceivers against the cheapest design meeting the same
  requirements: full credit at >= FULL_AT of it (ratio cheapest / yours), none at NONE_AT.
  Port splits differ by a few ports between engineers (96/32 against the search's 102/26), so
  the full-credit band starts at 85%; the textbook 1:1 tree where the customer accepted a
  3-4:1 taper (70-80% of the cheapest) keeps a small part;
- metrics for the candidate's own numbers, always for *their* design (each valid wiring of
  it, see fabric_model.readings): switch counts per tier, transceivers, cost at the quoted
  prices, bisection and the two collective times.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from scenarios.answers import whole_number
from scenarios.hooks import sibling

FULL_AT = 0.9
NONE_AT = 0.8

_MODEL: ModuleType | None = None


def _model() -> ModuleType:
    global _MODEL
    if _MODEL is None:
        _MODEL = sibling(__file__, "fabric_model.py")
    return _MODEL



def _nearest(options: list[Any], said: Any, value: Any) -> Any:
    if not isinstance(said, int | float) or isinstance(said, bool):
        return options[0]
    return min(options, key=lambda o: abs(value(o) - float(said)))


def assess(params: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    m = _model()
    k = params["radix"]
    tiers = whole_number(plan["tiers"], "tiers", 2)
    if tiers not in (2, 3):
        raise ValueError("tiers must be 2 or 3")
    leaf_down = whole_number(plan["leaf_down"], "leaf_down", 1)
    if leaf_down >= k:
        raise ValueError(f"a leaf has {k} ports: leaf_down must leave at least one uplink")
    spine_down: int | None = None
    if tiers == 3:
        spine_down = whole_number(plan["spine_down"], "spine_down", 1)
        if spine_down >= k:
            raise ValueError(f"a spine has {k} ports: with three tiers spine_down must leave "
                             "at least one uplink to the cores")
    tree = m.design(params, tiers, leaf_down, spine_down)
    issues = m.problems(params, tree)
    model_cost = m.cost_musd(params, tree.switches, tree.transceivers)
    # The same ports can be wired as pods of spine_down leaves or of half as many (two links
    # per leaf and spine), and a partly filled last pod may get the fewest spines that carry
    # its uplinks (the model) or a full pod's: all sound, so the candidate's counts are
    # compared with the reading nearest their spine count, their all-to-all time with the
    # reading nearest it.
    options = m.readings(params, tiers, leaf_down, spine_down)
    counted = _nearest(options, plan.get("spine_switches"), lambda t: float(t.spines))
    times = [(t, m.collectives(params, t)) for t in options]
    coll = dict(_nearest(times, plan.get("alltoall_ms"),
                         lambda tc: float(tc[1]["alltoall_ms"]))[1])
    coll["allreduce_ms"] = times[0][1]["allreduce_ms"]
    best = m.cheapest(params)
    quality, text = 0.0, "no design meets the requirements on this variant"
    if best is not None:
        ratio = best["cost_musd"] / model_cost if model_cost else 0.0
        quality = max(0.0, min(1.0, (ratio - NONE_AT) / (FULL_AT - NONE_AT)))
        text = (f"{model_cost:.2f} M$ for {tree.switches} switches and {tree.transceivers} "
                f"transceivers, {min(ratio, 9.99):.0%} of the cheapest design the model finds "
                f"({best['cost_musd']:.2f} M$: {best['tiers']} tiers, leaf {best['leaf_down']} "
                f"down, spine {best['spine_down']} down, {best['switches']} switches); full "
                f"credit from {FULL_AT:.0%}")
    return {
        "feasible": not issues,
        "reason": "; ".join(issues) or (
            f"meets the requirements: non-blocking blocks of {tree.nonblocking_gpus} GPUs, "
            f"{tree.oversub:.2f}:1 end to end"),
        "quality": quality,
        "quality_text": text,
        "metrics": {
            "leaf_switches": float(counted.leaves),
            "spine_switches": float(counted.spines),
            "core_switches": float(counted.cores),
            "transceivers": float(counted.transceivers),
            "bisection_tbps": tree.bisection_tbps,
            "fabric_cost_musd": m.cost_musd(params, counted.switches, counted.transceivers),
            "allreduce_ms": coll["allreduce_ms"],
            "alltoall_ms": coll["alltoall_ms"],
        },
        "values": {"leaves": tree.leaves, "spines": tree.spines, "cores": tree.cores,
                   "pods": tree.pods, "su_gpus": tree.su_gpus, "pod_gpus": tree.pod_gpus,
                   "oversub": round(tree.oversub, 3),
                   "nonblocking_gpus": tree.nonblocking_gpus,
                   "model_cost_musd": round(model_cost, 3),
                   "allreduce_ms": round(coll["allreduce_ms"], 2),
                   "alltoall_ms": round(coll["alltoall_ms"], 2),
                   "alltoall_limit": coll["alltoall_limit"]},
    }
