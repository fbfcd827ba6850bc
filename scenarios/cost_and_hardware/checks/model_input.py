"""The plan check's input for this scenario (hidden): the candidate's option through the cost
model (checks/cost_model.py over graders.hw.costing, checkpoint and facility).

assess(params, {option}) ->
- feasible: the option can finish the job by the deadline within its supply (some GPU count
  does, goodput counted, after its lead time);
- quality: the job's cost against the cheapest feasible option's: full credit at FULL_AT of it
  (ratio cheapest / yours) or better, none at NONE_AT. Options within ~10% are not told
  apart: the MFU carried to the job's scale and the goodput model are not that exact;
- metrics for the candidate's own numbers on *their* option: its fewest GPUs, goodput (%),
  total cost (M$) and $ per million tokens (for an option past its supply limit, at the GPUs
  it would need).
"""

from __future__ import annotations

from typing import Any

from scenarios.hooks import sibling

FULL_AT = 0.9
NONE_AT = 0.6


def assess(params: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    m = sibling(__file__, "cost_model.py")
    opt = str(plan["option"]).strip().lower()
    ev = m.evaluate(params, opt)  # ValueError for an unknown option
    best = m.cheapest(params)
    quality, text = 0.0, "no option makes the deadline"
    if best is not None and ev["feasible"]:
        ratio = best["cost_usd"] / ev["cost_usd"]
        quality = max(0.0, min(1.0, (ratio - NONE_AT) / (FULL_AT - NONE_AT)))
        text = (f"${ev['cost_usd'] / 1e6:.2f} M on {ev['gpus']} GPUs, {min(ratio, 9.99):.0%} of "
                f"the cheapest option's (${best['cost_usd'] / 1e6:.2f} M, option "
                f"{best['option']}, {best['gpus']} GPUs); full credit from {FULL_AT:.0%}")
    elif best is not None:
        text = f"cannot make the deadline; the cheapest option is {best['option']}"
    has = ev["gpus"] is not None
    return {
        "feasible": ev["feasible"],
        "reason": "; ".join(ev["reasons"]) or "finishes by the deadline within the supply",
        "quality": quality,
        "quality_text": text,
        "metrics": {
            "gpus": float(ev["gpus"]) if has else None,
            "goodput_pct": 100 * ev["goodput"] if has else None,
            "total_cost_musd": ev["cost_usd"] / 1e6 if has else None,
            "usd_per_mtok": ev["usd_per_mtok"] if has else None,
        },
        "values": {"wall_days": round(ev["wall_h"] / 24, 1) if has else None},
    }
