"""Per-variant self-check (hidden): a solver that reads only the candidate's prompt and does
the arithmetic the prompt defines (its own Daly goodput, written apart from the cost model,
so the two agree only if the prompt states everything the model uses) picks the cheapest
option and earns every structured point; and the shortcuts stay out of full credit.

summary() reports, over the seeds checked, which option was cheapest, and how often each
shortcut's choice is feasible and within full credit: the lowest list price per GPU-hour, the
most peak TFLOP/s per dollar (MFU ignored), and how often a GPU count from peak FLOPs (MFU
ignored) is within the estimate tolerance.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from scenarios.hooks import SelfCheck

_HOOK = SelfCheck(__file__)
STRUCTURED = ("choice", "compute", "owned_power", "owned_energy")
_SEEN: Counter[str] = Counter()
NODE = 8


def _num(pattern: str, text: str) -> float:
    m = re.search(pattern, text)
    if m is None:
        raise ValueError(f"the prompt has no match for {pattern!r}")
    return float(m.group(1).replace(",", ""))


def read_view(prompt: str) -> dict[str, Any]:
    """The variant's figures as a candidate reads them from the prompt."""
    gpus = {}
    for m in re.finditer(r"^\| ([^|]+?) \| ([\d.]+) TFLOP/s \| (\d+) GB \| ([\d.]+) % \|$",
                         prompt, re.M):
        gpus[m.group(1)] = float(m.group(2)) * float(m.group(4)) / 100 * 1e12
    options = []
    for m in re.finditer(r"^\| ([a-e]) \| ([^|]+?) \| ([^|]+?) \| \$([\d,.]+)( per system)? \| "
                         r"(today|in (\d+) days) \| ([\d,]+) GPUs \|$", prompt, re.M):
        cap = m.group(2)
        mode = ("owned" if cap.startswith("buy") else "spot" if "spot" in cap
                else "reserved" if "reserved" in cap else "on_demand")
        options.append({"id": m.group(1), "mode": mode, "flops": gpus[m.group(3)],
                        "price": float(m.group(4).replace(",", "")),
                        "lead_days": int(m.group(7) or 0),
                        "max_gpus": int(m.group(8).replace(",", ""))})
    if len(options) != 5:
        raise ValueError(f"read {len(options)} options, not 5")
    return {
        "params_b": _num(r"\*\*([\d.]+) B parameters\*\*", prompt),
        "tokens_t": _num(r"\*\*([\d.]+) T tokens\*\*", prompt),
        "deadline_days": _num(r"within \*\*(\d+) days\*\*", prompt),
        "options": options,
        "spot_node_h": _num(r"reclaimed once every\s+\*\*(\d+) hours\*\*", prompt),
        "spot_restart_min": _num(r"\*\*(\d+) minutes\*\* for replacement", prompt),
        "gpu_mtbf_h": _num(r"once per \*\*([\d,]+) GPU-hours\*\*", prompt),
        "restart_min": _num(r"checkpoint after \*\*(\d+) minutes\*\*", prompt),
        "checkpoint_s": _num(r"stops training for \*\*(\d+) s\*\*", prompt),
        "system_kw": _num(r"\*\*([\d.]+) kW\*\*\s+maximum input power", prompt),
        "per_system": _num(r"Owned\*\*: [^,]+, (\d+) GPUs", prompt),
        "life_years": _num(r"over \*\*(\d+) years\*\*", prompt),
        "commit_months": _num(r"the \*\*(\d+)\s+months\*\*", prompt),
        "overhead": _num(r"add \*\*(\d+) %\*\*", prompt) / 100,
        "pue": _num(r"its PUE is\s+\*\*([\d.]+)\*\*", prompt),
        "usd_mwh": _num(r"energy costs \*\*\$(\d+)/MWh\*\*", prompt),
    }


def _goodput(n: int, v: dict[str, Any], spot: bool) -> float:
    """Daly's complete model at his optimal interval, from the prompt's figures."""
    hw = n / v["gpu_mtbf_h"]
    sp = n / (v["spot_node_h"] * NODE) if spot else 0.0
    m = 3600.0 / (hw + sp)
    r = 60.0 * (hw * v["restart_min"] + sp * v["spot_restart_min"]) / (hw + sp)
    d = v["checkpoint_s"]
    x = d / (2 * m)
    tau = m if d >= 2 * m else math.sqrt(2 * d * m) * (1 + math.sqrt(x) / 3 + x / 9) - d
    if (r + tau + d) / m > 700:
        return 0.0
    return float(tau / (m * math.exp(r / m) * math.expm1((tau + d) / m)))


def option_cost(v: dict[str, Any], o: dict[str, Any]) -> dict[str, Any] | None:
    """Fewest GPUs, goodput, cost of one option, or None when it cannot make the deadline."""
    work = 6 * v["params_b"] * 1e9 * v["tokens_t"] * 1e12
    window = (v["deadline_days"] - o["lead_days"]) * 24.0
    if window <= 0:
        return None
    n = max(NODE, math.ceil(work / (o["flops"] * window * 3600) / NODE) * NODE)
    last = 0.0
    while True:
        g = _goodput(n, v, o["mode"] == "spot")
        if n * o["flops"] * g * window * 3600 >= work:
            break
        if n * g < last:
            return None
        last, n = n * g, n + NODE
    wall = work / (n * o["flops"] * g) / 3600
    kw = v["system_kw"] / v["per_system"] * (1 + v["overhead"]) * v["pue"]
    energy = n * kw * wall / 1000 * v["usd_mwh"]
    if o["mode"] in ("on_demand", "spot"):
        cost = n * wall * o["price"]
    elif o["mode"] == "reserved":
        cost = n * window * o["price"]
    else:
        held = max(window, v["commit_months"] * 730)
        cost = n / v["per_system"] * o["price"] * held / (v["life_years"] * 8760) + energy
    return {"id": o["id"], "gpus": n, "goodput": g, "cost": cost, "energy": energy, "kw": kw,
            "ok": n <= o["max_gpus"]}


def solve(prompt: str) -> dict[str, Any]:
    """Form answers from the prompt's figures (no write-up): the cheapest feasible option."""
    v = read_view(prompt)
    costs = {o["id"]: option_cost(v, o) for o in v["options"]}
    ok = [c for c in costs.values() if c is not None and c["ok"]]
    best = min(ok, key=lambda c: c["cost"])
    owned = costs["e"]
    assert owned is not None
    return {"option": best["id"], "gpus": best["gpus"],
            "goodput_pct": round(100 * best["goodput"], 2),
            "total_cost_musd": round(best["cost"] / 1e6, 3),
            "usd_per_mtok": round(best["cost"] / (v["tokens_t"] * 1e6), 4),
            "compute_zflop": round(6 * v["params_b"] * v["tokens_t"], 1),
            "owned_kw_per_gpu": round(owned["kw"], 3),
            "owned_energy_kusd": round(owned["energy"] / 1e3, 1)}


def shortcuts(prompt: str) -> dict[str, str]:
    """The options the shortcuts pick: lowest list price per GPU-hour (cloud quotes), most
    peak TFLOP/s per dollar (MFU ignored: peak = flops / MFU is not in the view, so the
    pick is made from the prompt's peak column)."""
    v = read_view(prompt)
    cloud = [o for o in v["options"] if o["mode"] != "owned"]
    peaks = {m.group(1): float(m.group(2)) for m in re.finditer(
        r"^\| ([^|]+?) \| ([\d.]+) TFLOP/s \|", prompt, re.M)}
    rows = {m.group(1): m.group(2) for m in re.finditer(
        r"^\| ([a-e]) \| [^|]+? \| ([^|]+?) \|", prompt, re.M)}
    return {"list_price": min(cloud, key=lambda o: o["price"])["id"],
            "peak_per_dollar": max(cloud, key=lambda o: peaks[rows[o["id"]]] / o["price"])["id"]}


def peak_gpus(prompt: str, option: str) -> int:
    """GPU count for an option from peak FLOPs (MFU and goodput ignored)."""
    v = read_view(prompt)
    o = next(o for o in v["options"] if o["id"] == option)
    peaks = {m.group(1): float(m.group(2)) for m in re.finditer(
        r"^\| ([^|]+?) \| ([\d.]+) TFLOP/s \|", prompt, re.M)}
    rows = {m.group(1): m.group(2) for m in re.finditer(
        r"^\| ([a-e]) \| [^|]+? \| ([^|]+?) \|", prompt, re.M)}
    work = 6 * float(v["params_b"]) * 1e9 * float(v["tokens_t"]) * 1e12
    window = (float(v["deadline_days"]) - o["lead_days"]) * 24 * 3600
    return int(math.ceil(work / (peaks[rows[option]] * 1e12 * window) / NODE)) * NODE


def check(variant: Any) -> list[str]:
    from graders.engine import grade_scenario
    from scenarios.render import build_candidate_view

    scenario = _HOOK.scenario()
    view = build_candidate_view(scenario, variant.seed)
    try:
        answer = solve(view.prompt_markdown)
    except (ValueError, StopIteration, AssertionError) as exc:
        return [f"the solver cannot read the view: {exc!r}"]
    report = grade_scenario(scenario.rubric, answer, variant, load_check=scenario.load_check)
    short = [f"{c.criterion_id} {c.points:g}/{c.max_points:g} ({c.detail})"
             for c in report.criteria
             if c.criterion_id in STRUCTURED and c.points < c.max_points - 1e-6]
    model = _HOOK.module("cost_model.py")
    mine = model.evaluate(variant.params, answer["option"])
    problems = list(short)
    for key, got, want, tol in (("gpus", answer["gpus"], mine["gpus"], 0.0),
                                ("total_cost_musd", answer["total_cost_musd"],
                                 (mine["cost_usd"] or 0) / 1e6, 0.01),
                                ("goodput_pct", answer["goodput_pct"],
                                 100 * (mine["goodput"] or 0), 0.002)):
        if want is None or abs(got - want) > tol * abs(want) + 1e-6:
            problems.append(f"solver {key} {got} vs the model's {want}")
    _SEEN["seeds"] += 1
    _SEEN["best_" + answer["option"]] += 1
    picks = shortcuts(view.prompt_markdown)
    for name, opt in picks.items():
        got = grade_scenario(scenario.rubric, {"option": opt}, variant,
                             load_check=scenario.load_check)
        crit = next(c for c in got.criteria if c.criterion_id == "choice")
        _SEEN["full_" + name] += crit.points >= crit.max_points - 1e-6
    peak = peak_gpus(view.prompt_markdown, answer["option"])
    _SEEN["peak_gpus_within_15pct"] += abs(peak - answer["gpus"]) <= 0.15 * answer["gpus"]
    return [f"the solver disagrees with the model: {'; '.join(problems)}"] if problems else []


def summary() -> list[str]:
    n = _SEEN["seeds"]
    if not n:
        return []
    best = ", ".join(f"{k.removeprefix('best_')} {v}" for k, v in sorted(_SEEN.items())
                     if k.startswith("best_"))
    slips = ", ".join(f"{k.removeprefix('full_')} {v}/{n}" for k, v in sorted(_SEEN.items())
                      if k.startswith("full_"))
    return [f"prompt-only solver: full structured points on {n} seeds; cheapest option: {best}; "
            f"shortcut picks with full choice credit: {slips}; GPU count from peak FLOPs "
            f"within 15%: {_SEEN['peak_gpus_within_15pct']}/{n}"]
