"""Per-variant self-check of the fault-tolerance scenario (hidden).

`check(variant)`: the model's best plan (with a 2-minute margin on the watchdog) earns full
plan credit, the Poisson spare count is feasible and one fewer is not, a 10% spare pool and
the textbook plan (file-system restart, default 30-min watchdog, checkpoint every 5 minutes)
earn no quality credit; `summary()` prints the spread of the spare counts and of the best
lost share over the seeds.
"""

from __future__ import annotations

from typing import Any

from scenarios.hooks import sibling

_STATS: dict[str, list[float]] = {"spares_share": [], "best_lost": [], "textbook_lost": []}


def check(variant: Any) -> list[str]:
    m = sibling(__file__, "ft_model.py")
    plan = sibling(__file__, "plan_input.py")
    spares = sibling(__file__, "spares_input.py")
    p, out = variant.params, []
    b = m.best(p)
    good = plan.assess(p, {"restart_path": b["restart_path"],
                           "watchdog_min": b["watchdog_min"] + 2,
                           "interval_min": b["interval_min"]})
    if not good["feasible"] or good["quality"] < 1.0:
        out.append(f"seed {variant.seed}: the best plan earns {good['quality']:.2f}: "
                   f"{good['quality_text']}")
    need = m.spares_needed(p)
    if not spares.assess(p, {"spare_nodes": need})["feasible"]:
        out.append(f"seed {variant.seed}: {need} spares are not feasible")
    if need > 0 and spares.assess(p, {"spare_nodes": need - 1})["feasible"]:
        out.append(f"seed {variant.seed}: {need - 1} spares are already feasible")
    tenth = spares.assess(p, {"spare_nodes": p["num_nodes"] // 10})
    if tenth["quality"] > 0.0:
        out.append(f"seed {variant.seed}: 10% spares earn quality {tenth['quality']:.2f}")
    textbook = plan.assess(p, {"restart_path": "storage", "watchdog_min": 30,
                               "interval_min": 5})
    if textbook["quality"] > 0.0:
        out.append(f"seed {variant.seed}: the textbook plan earns {textbook['quality']:.2f}")
    _STATS["spares_share"].append(100.0 * need / p["num_nodes"])
    _STATS["best_lost"].append(b["lost_pct"])
    _STATS["textbook_lost"].append(textbook["metrics"]["lost_pct"])
    return out


def summary() -> list[str]:
    if not _STATS["best_lost"]:
        return []
    s, b, t = _STATS["spares_share"], _STATS["best_lost"], _STATS["textbook_lost"]
    return [f"spares {min(s):.1f}-{max(s):.1f}% of the job's nodes; best plan loses "
            f"{min(b):.1f}-{max(b):.1f}% of wall time, the textbook plan "
            f"{min(t):.1f}-{max(t):.1f}%"]
