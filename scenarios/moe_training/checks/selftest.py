"""Per-variant self-check (hidden): the variant is well-posed, the plan search finds a layout
that fits, the model's own numbers for the reference layout are positive, and how the
shortcut layouts fare: the textbook "EP = number of experts, TP 8" (PP 4, ETP 1, DP the
rest) and EP over the whole cluster. summary() reports how often each lands inside the
plan check's band (full throughput credit) over the seeds checked.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from scenarios.hooks import SelfCheck

MAX_TEXTBOOK_IN_BAND = 0.25  # more than this and the textbook layout is a shortcut again
_SEEN: dict[str, list[tuple[str, str, bool]]] = defaultdict(list)
_HOOK = SelfCheck(__file__)


def check(variant: Any) -> list[str]:
    p = variant.params
    problems = []
    if (p["global_batch_mtokens"] * 2**20) % p["seq_len"]:
        problems.append("global batch is not a whole number of sequences")
    arch = p["arch"]
    if arch["num_attention_heads"] % arch["num_kv_heads"]:
        problems.append("attention heads not a multiple of KV heads")
    if round(arch["experts_per_token"] * p["imbalance"]) != arch["experts_per_token"] * p["imbalance"]:
        problems.append("top-k x imbalance is not whole (the model cannot route to it)")
    try:
        import graders.hw  # noqa: F401
    except ImportError:
        return problems
    key = _HOOK.module("answer_key.py")
    try:
        ref = key.reference(p)
        own = key.own_numbers(p, ref["answers"]) if ref else None
        shortcuts = {"textbook": key.shortcut(p, key.textbook_answers(p)),
                     "ep_all": key.shortcut(p, key.ep_all_answers(p))}
    except Exception as exc:  # API drift must show up here, not at grading time
        return [*problems, f"plan search failed: {type(exc).__name__}: {exc}"]
    if ref is None:
        return [*problems, "the plan search finds no layout that fits this variant"]
    if own is None or min(own.values()) <= 0:
        problems.append(f"the reference layout has no positive model numbers: {own}")
    full_at = 1.0 - ref["band_tolerance"]
    for name, res in shortcuts.items():
        _SEEN[name].append((p["model_name"], res["status"], res["ratio"] >= full_at))
    if shortcuts["ep_all"]["status"] == "ok" and shortcuts["ep_all"]["ratio"] >= full_at:
        problems.append("EP over the whole cluster lands inside the band")
    return problems


def figures() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, rows in sorted(_SEEN.items()):
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for model, _, inside in rows:
            per[model][0] += int(inside)
            per[model][1] += 1
        out[name] = {"seeds": len(rows), "in_band": sum(1 for r in rows if r[2]),
                     "not_runnable": sum(1 for r in rows if r[1] != "ok"),
                     "per_model": {m: f"{a}/{b}" for m, (a, b) in sorted(per.items())}}
    return out


def summary() -> list[str]:
    fig = figures()
    lines = []
    for name, f in fig.items():
        lines.append(f"{name} layout inside the plan band on {f['in_band']}/{f['seeds']} seeds, "
                     f"not runnable on {f['not_runnable']}; in band per model: {f['per_model']}")
    tb = fig.get("textbook")
    if tb and tb["seeds"] and tb["in_band"] / tb["seeds"] > MAX_TEXTBOOK_IN_BAND:
        lines.append(f"WARNING: textbook in band on {tb['in_band']}/{tb['seeds']} seeds")
    return lines
