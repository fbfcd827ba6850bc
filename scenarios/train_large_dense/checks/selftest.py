"""Per-variant self-check (hidden): the variant is well-posed, the plan search finds a plan
that fits, and how the textbook plan (TP8 PP4 DP-rest, ZeRO-1, selective recompute) fares.

summary() reports over the seeds checked how often the textbook plan is within 10% of the
best searched plan, infeasible, or clearly worse, overall and per situation (family).
"""

from __future__ import annotations

from collections import defaultdict
from types import ModuleType
from typing import Any

from scenarios.hooks import sibling

WITHIN = 0.9  # "within 10% of the best"
CLEARLY_WORSE = 0.8
MAX_WITHIN_SHARE = 0.25  # more than this and the textbook plan is a shortcut again

_SEEN: dict[str, list[tuple[str, float]]] = defaultdict(list)


def _answer_key() -> ModuleType:
    return sibling(__file__, "answer_key.py")


_KEY: ModuleType | None = None


def _key() -> ModuleType:
    global _KEY
    if _KEY is None:
        _KEY = _answer_key()
    return _KEY


def check(variant: Any) -> list[str]:
    p = variant.params
    problems = []
    if (p["global_batch_mtokens"] * 2**20) % p["seq_len"]:
        problems.append("global batch is not a whole number of sequences")
    if p["num_gpus"] % 8:
        problems.append("GPU count is not a whole number of nodes")
    if p["arch"]["num_attention_heads"] % p["arch"]["num_kv_heads"]:
        problems.append("attention heads not a multiple of KV heads")
    try:
        import graders.hw  # noqa: F401
    except ImportError:
        return problems  # hardware models not merged yet: structural checks only
    key = _key()
    try:
        ref = key.reference(p)
        tb = key.textbook(p)
    except Exception as exc:  # API drift must show up here, not at grading time
        return [*problems, f"plan search failed: {type(exc).__name__}: {exc}"]
    if ref is None:
        problems.append("the plan search finds no plan that fits this variant")
    _SEEN[p["family"]].append((tb["status"], tb["ratio"]))
    return problems


def figures() -> dict[str, Any]:
    """Counts over the seeds checked so far: overall and per family."""
    rows = [r for v in _SEEN.values() for r in v]

    def count(rs: list[tuple[str, float]]) -> dict[str, int]:
        return {"seeds": len(rs), "within_10pct": sum(1 for _, x in rs if x >= WITHIN),
                "infeasible": sum(1 for s, _ in rs if s != "ok"),
                "clearly_worse": sum(1 for s, x in rs if s == "ok" and x < CLEARLY_WORSE)}

    return {"all": count(rows), **{f: count(v) for f, v in sorted(_SEEN.items())}}


def summary() -> list[str]:
    fig = figures()
    a = fig["all"]
    if not a["seeds"]:
        return []
    share = a["within_10pct"] / a["seeds"]
    per = ", ".join(f"{f} {c['within_10pct']}/{c['seeds']}" for f, c in fig.items() if f != "all")
    lines = [f"textbook plan (TP8 PP4 DP-rest, ZeRO-1, selective) within 10% of the best on "
             f"{a['within_10pct']}/{a['seeds']} seeds ({share:.0%}); infeasible on "
             f"{a['infeasible']}, feasible but under 80% of the best on {a['clearly_worse']}; "
             f"within 10% per situation: {per}"]
    if share > MAX_WITHIN_SHARE:
        lines.append(f"WARNING: textbook share {share:.0%} above {MAX_WITHIN_SHARE:.0%}")
    return lines
