"""The spare-pool plan check (hidden): assess(params, {spare_nodes}).

feasible: the chance that more nodes are in repair than there are spares is within
shortfall_pct (Poisson over the repair time, checks/ft_model.py); quality: spares beyond the
need cost idle nodes, full credit up to FULL_EXTRA over the need (different but sound rounding
of the demand, P(X >= S) instead of P(X > S)), none from NONE_FACTOR times the need.
"""

from __future__ import annotations

from typing import Any

from scenarios.answers import whole_number
from scenarios.hooks import sibling

FULL_EXTRA = 0.5  # share of the need (at least 2 nodes) held extra with full credit
NONE_FACTOR = 2.5  # spares at this multiple of the need (+4) earn nothing



def assess(params: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    m = sibling(__file__, "ft_model.py")
    s = whole_number(plan["spare_nodes"], "spare_nodes")
    need = m.spares_needed(params)
    mean = m.nodes_out_mean(params)
    p = m.shortfall(params, s)
    feasible = p <= params["shortfall_pct"] / 100.0
    full_to = need + max(2.0, FULL_EXTRA * need)
    none_at = NONE_FACTOR * need + 4.0
    quality = max(0.0, min(1.0, (none_at - s) / (none_at - full_to)))
    return {
        "feasible": feasible,
        "reason": (f"{s} spares: P(more than {s} of the job's nodes in repair) = {p:.2%} "
                   f"with {mean:.1f} out on average; the limit is "
                   f"{params['shortfall_pct']}%"),
        "quality": quality,
        "quality_text": (f"{s} spares against the {need} the Poisson demand needs; full "
                         f"credit up to {full_to:.0f}, none from {none_at:.0f}"),
        "metrics": {},
        "values": {"nodes_out_mean": round(mean, 2), "spares_needed": need,
                   "shortfall": round(p, 5)},
    }
