"""Expected values for the fault-tolerance scenario (hidden): checks/ft_model.py."""

from __future__ import annotations

from typing import Any

from scenarios.hooks import sibling


def answer_key(params: dict[str, Any]) -> dict[str, Any]:
    m = sibling(__file__, "ft_model.py")
    b = m.best(params)
    return {
        "job_mtbf_h": round(m.mtbf_s(params) / 3600.0, 3),
        "interruptions_per_day": round(86400.0 / m.mtbf_s(params), 2),
        "nodes_out_mean": round(m.nodes_out_mean(params), 2),
        "spare_nodes": m.spares_needed(params),
        "best_path": b["restart_path"],
        "best_interval_min": round(b["interval_min"], 2),
        "best_lost_pct": round(b["lost_pct"], 3),
        "best_lost_per_interruption_min": round(b["lost_per_interruption_min"], 2),
        "hang_detect_min": params["longest_wait_min"],
    }
