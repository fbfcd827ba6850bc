"""Report arithmetic the server needs: roll criteria up into dimensions and an overall score,
and apply people's grades and overrides on top of an automated report.

This mirrors the grading library's contract (graders.engine.combine / apply_manual: score
0-100, dimensions name -> 0-100, criteria with points and max_points). When that library
is installed, grade_fn.py uses its functions; these stay as the fallback so the server
never depends on the library being importable to show a report."""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any, Protocol


class ManualLike(Protocol):
    id: int
    scenario_id: str
    criterion_id: str
    kind: str
    points: float
    level: str | None
    comment: str
    reason: str
    grader_id: int | None


def _key(item: dict[str, Any]) -> tuple[str, str]:
    return str(item.get("scenario_id", "")), str(item.get("criterion_id", ""))


def rollup(items: list[dict[str, Any]], weights: dict[str, float] | None = None
           ) -> tuple[float | None, dict[str, float]]:
    """Overall 0-100 (scenario-weighted) and per-dimension 0-100 over gradable criteria with
    points; criteria still waiting for a human count neither for nor against."""
    weights = weights or {}
    dim_pts: dict[str, float] = defaultdict(float)
    dim_max: dict[str, float] = defaultdict(float)
    sc_pts: dict[str, float] = defaultdict(float)
    sc_max: dict[str, float] = defaultdict(float)
    for item in items:
        if not item.get("gradable", True) and item.get("points") is None:
            continue
        if item.get("points") is None:
            continue
        pts, mx = float(item["points"]), float(item.get("max_points") or 0)
        if mx <= 0:
            continue
        dim_pts[str(item.get("dimension", ""))] += pts
        dim_max[str(item.get("dimension", ""))] += mx
        sc_pts[str(item.get("scenario_id", ""))] += pts
        sc_max[str(item.get("scenario_id", ""))] += mx
    dims = {d: round(100.0 * dim_pts[d] / dim_max[d], 2) for d in sorted(dim_max)}
    if not sc_max:
        return None, dims
    total_w = sum(weights.get(s, 1.0) for s in sc_max)
    score = sum(weights.get(s, 1.0) * sc_pts[s] / sc_max[s] for s in sc_max) / total_w
    return round(100.0 * score, 2), dims


def pending(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if i.get("needs_review") and not i.get("manual")]


def apply_manual(criteria: dict[str, Any], grades: list[ManualLike]) -> dict[str, Any]:
    """A new criteria document: the automated one with each criterion's latest human grade
    or override applied; the automated result stays under `automated`."""
    out = copy.deepcopy(criteria)
    latest: dict[tuple[str, str], ManualLike] = {}
    for g in grades:  # ordered by id: the latest wins
        latest[(g.scenario_id, g.criterion_id)] = g
    for item in out.get("items", []):
        g = latest.get(_key(item))
        if g is None:
            continue
        item["automated"] = {k: item.get(k) for k in ("points", "scorer", "evidence", "status",
                                                        "confidence", "needs_review")}
        item["points"] = float(g.points)
        item["scorer"] = f"user:{g.grader_id}" if g.grader_id is not None else "user"
        item["status"] = "overridden" if g.kind == "override" else "graded_by_human"
        item["needs_review"] = False
        item["gradable"] = True
        item["manual"] = {"id": g.id, "kind": g.kind, "level": g.level, "comment": g.comment,
                          "reason": g.reason, "grader_id": g.grader_id}
    out["pending_review"] = len(pending(out.get("items", [])))
    return out
