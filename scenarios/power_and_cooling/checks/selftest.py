"""Per-variant self-check (hidden): a solver that reads only the candidate's prompt and does
the arithmetic the prompt's assumptions define (written apart from graders.hw.facility, so
the two agree only if the prompt states everything the model uses) earns every structured
point; and the common slips stay out of full credit.

summary() reports, over the seeds checked, how often each slip would still earn full points
on its criterion: GPUs per MW from the GPU's TDP alone, phase 1 without the N+1 reserve, UPS
minutes over the facility (not IT) load, the cooling-loss cap equal to the cooling share.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from scenarios.hooks import SelfCheck

_HOOK = SelfCheck(__file__)
STRUCTURED = ("cooling", "kw_per_gpu", "total_gpus", "phase1_gpus", "ups_full", "ups_capped",
              "cooling_cap", "energy", "energy_cost")
_SEEN: Counter[str] = Counter()


def _num(pattern: str, text: str, group: int = 1) -> float:
    m = re.search(pattern, text)
    if m is None:
        raise ValueError(f"the prompt has no match for {pattern!r}")
    return float(m.group(group).replace(",", ""))


def read_view(prompt: str) -> dict[str, Any]:
    """The variant's figures as a candidate reads them from the prompt."""
    rows = {}
    for key, label in (("air", "air, hot-aisle containment"),
                       ("rear_door", "rear-door heat exchangers"),
                       ("direct_liquid", r"direct liquid cooling \(cold plates, CDUs\)")):
        m = re.search(rf"^\| {label} \| (\d+) kW \| ([\d.]+) \|$", prompt, re.M)
        if m is None:
            raise ValueError(f"no cooling row for {key}")
        rows[key] = (float(m.group(1)), float(m.group(2)))
    return {
        "scale_mw": _num(r"building a \*\*(\d+) MW\*\*", prompt),
        "per_rack": int(_num(r"\*\*(\d+)\*\* per compute rack", prompt)),
        "gpus": int(_num(r"holds \*\*(\d+) GPUs\*\*", prompt)),
        "max_kw": _num(r"draws at most\s+\*\*([\d.]+) kW\*\*", prompt),
        "gpu_w": _num(r"rated \*\*(\d+) W\*\*", prompt),
        "overhead": _num(r"add \*\*(\d+) %\*\*", prompt) / 100,
        "cooling": rows,
        "units": int(_num(r"has \*\*(\d+) transformers of", prompt)),
        "unit_mw": _num(r"transformers of ([\d.]+) MW\*\*", prompt),
        "phase1_units": int(_num(r"Phase 1 energises \*\*(\d+)\*\*", prompt)),
        "ups_mwh": _num(r"hold \*\*([\d.]+) MWh\*\*", prompt),
        "avg_load": _num(r"averages \*\*(\d+) %\*\*", prompt) / 100,
        "price": _num(r"\*\*\$(\d+)/MWh\*\*", prompt),
        "ups_cap": _num(r"capped at \*\*(\d+) %\*\*", prompt) / 100,
        "cooling_share": _num(r"down to \*\*(\d+) %\*\*", prompt) / 100,
    }


def solve(prompt: str) -> dict[str, Any]:
    """Form answers from the prompt's figures and assumptions (no write-up)."""
    v = read_view(prompt)
    rack = v["max_kw"] * v["per_rack"]
    cooling = next(k for k, (limit, _) in v["cooling"].items() if rack <= limit)
    pue = v["cooling"][cooling][1]
    it_gpu = v["max_kw"] / v["gpus"] * (1 + v["overhead"])
    rack_facility = rack * (1 + v["overhead"]) * pue
    gpus_per_rack = v["per_rack"] * v["gpus"]

    def gpus_on(mw: float) -> int:
        return int(math.floor(mw * 1000 / rack_facility + 1e-9)) * int(gpus_per_rack)

    total = gpus_on((v["units"] - 1) * v["unit_mw"])
    it_mw = total * it_gpu / 1000
    gpu_kw = v["gpu_w"] / 1000
    capped_mw = total * (it_gpu - gpu_kw * (1 - v["ups_cap"])) / 1000
    cut_kw = (1 - v["cooling_share"]) * it_gpu  # per GPU, all from the GPU
    mwh = it_mw * v["avg_load"] * pue * 8760
    return {"cooling": cooling, "kw_per_gpu": round(it_gpu * pue, 3), "total_gpus": total,
            "phase1_gpus": gpus_on((v["phase1_units"] - 1) * v["unit_mw"]),
            "ups_full_min": round(v["ups_mwh"] / it_mw * 60, 2),
            "ups_capped_min": round(v["ups_mwh"] / capped_mw * 60, 2),
            "cooling_cap_pct": round(100 * (1 - cut_kw / gpu_kw), 1),
            "annual_gwh": round(mwh / 1000, 1),
            "annual_cost_musd": round(mwh * v["price"] / 1e6, 2)}


def slips(prompt: str) -> dict[str, tuple[str, Any]]:
    """The usual mistakes, each as (criterion, the value it would give)."""
    v = read_view(prompt)
    right = solve(prompt)
    pue = v["cooling"][right["cooling"]][1]
    it_mw = right["total_gpus"] * v["max_kw"] / v["gpus"] * (1 + v["overhead"]) / 1000
    return {
        "tdp_only": ("total_gpus", v["scale_mw"] * 1000 / (v["gpu_w"] / 1000)),
        "no_reserve": ("phase1_gpus", right["phase1_gpus"] * v["phase1_units"]
                       / max(1, v["phase1_units"] - 1)),
        "facility_load_ups": ("ups_full", v["ups_mwh"] / (it_mw * pue) * 60),
        "cap_equals_share": ("cooling_cap", 100 * v["cooling_share"]),
    }


def check(variant: Any) -> list[str]:
    from graders.engine import grade_scenario
    from scenarios.render import build_candidate_view

    scenario = _HOOK.scenario()
    view = build_candidate_view(scenario, variant.seed)
    try:
        answer = solve(view.prompt_markdown)
    except (ValueError, StopIteration) as exc:
        return [f"the solver cannot read the view: {exc!r}"]
    report = grade_scenario(scenario.rubric, answer, variant, load_check=scenario.load_check)
    short = [f"{c.criterion_id} {c.points:g}/{c.max_points:g} ({c.detail})"
             for c in report.criteria
             if c.criterion_id in STRUCTURED and c.points < c.max_points - 1e-6]
    _SEEN["seeds"] += 1
    _SEEN["cooling_" + answer["cooling"]] += 1
    field_of = {"total_gpus": "total_gpus", "phase1_gpus": "phase1_gpus",
                "ups_full": "ups_full_min", "cooling_cap": "cooling_cap_pct"}
    for name, (crit, value) in slips(view.prompt_markdown).items():
        wrong = dict(answer, **{field_of[crit]: value})
        got = grade_scenario(scenario.rubric, wrong, variant, load_check=scenario.load_check)
        pts = next(c for c in got.criteria if c.criterion_id == crit)
        _SEEN["full_" + name] += pts.points >= pts.max_points - 1e-6
    return [f"the solver's answers lose points: {'; '.join(short)}"] if short else []


def summary() -> list[str]:
    n = _SEEN["seeds"]
    if not n:
        return []
    cooling = ", ".join(f"{k.removeprefix('cooling_')} {v}" for k, v in sorted(_SEEN.items())
                        if k.startswith("cooling_"))
    slip = ", ".join(f"{k.removeprefix('full_')} {v}/{n}" for k, v in sorted(_SEEN.items())
                     if k.startswith("full_"))
    return [f"prompt-only solver: full structured points on {n} seeds; cooling: {cooling}; "
            f"slips earning full points on their criterion: {slip}"]
