"""The restart plan check (hidden): assess(params, {restart_path, watchdog_min,
interval_min}) through checks/ft_model.py.

feasible: the watchdog timeout is at least the job's longest legitimate wait in a
collective (a shorter one kills healthy restarts) and the interval is longer than the stall;
quality: the share of wall time lost against the model's best plan (either path at its Daly
interval, watchdog at the longest wait): full up to FULL_AT times it, none from NONE_AT times;
metrics: the consequences of the candidate's own choices (lost per interruption, lost share,
and the lost share on twice the GPUs with the interval re-chosen).
"""

from __future__ import annotations

from typing import Any

from scenarios.hooks import sibling

FULL_AT = 1.15
NONE_AT = 1.8


def _num(v: Any, name: str) -> float:
    if isinstance(v, bool):
        raise ValueError(f"{name} must be a number")
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, not {v!r}") from None
    if not f > 0 or f != f or f == float("inf"):
        raise ValueError(f"{name} must be a positive number, not {v!r}")
    return f


def assess(params: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    m = sibling(__file__, "ft_model.py")
    path = str(plan["restart_path"]).strip().lower()
    if path not in m.PATHS:
        raise ValueError(f"restart_path must be one of {', '.join(m.PATHS)}")
    watchdog = _num(plan["watchdog_min"], "watchdog_min")
    interval = _num(plan["interval_min"], "interval_min")
    problems = []
    if watchdog < params["longest_wait_min"]:
        problems.append(f"a {watchdog:g}-min watchdog kills healthy ranks that wait up to "
                        f"{params['longest_wait_min']} min in a collective")
    if interval * 60.0 <= m.stall_s(params, path):
        problems.append(f"a {interval:g}-min interval is shorter than the "
                        f"{m.stall_s(params, path):g}-s checkpoint stall")
    c = m.consequences(params, path, watchdog, interval)
    b = m.best(params)
    ratio = c["lost_pct"] / b["lost_pct"] if b["lost_pct"] > 0 else float("inf")
    quality = max(0.0, min(1.0, (NONE_AT - ratio) / (NONE_AT - FULL_AT)))
    return {
        "feasible": not problems,
        "reason": "; ".join(problems) or (
            f"{path} restart, {watchdog:g}-min watchdog, {interval:g}-min interval"),
        "quality": quality,
        "quality_text": (f"{c['lost_pct']:.1f}% of wall time lost, {min(ratio, 99):.2f}x the "
                         f"model's best ({b['lost_pct']:.1f}%: {b['restart_path']} restart, "
                         f"{b['interval_min']:.1f}-min interval, {b['watchdog_min']}-min "
                         f"watchdog); full credit up to {FULL_AT}x, none from {NONE_AT}x"),
        "metrics": {"lost_per_interruption_min": c["lost_per_interruption_min"],
                    "lost_pct": c["lost_pct"],
                    "lost_pct_2x": m.doubled(params, path, watchdog)},
        "values": {k: round(v, 3) for k, v in c.items()},
    }
