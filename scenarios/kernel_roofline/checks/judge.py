"""Judges one analyse() output against the roofline reference (hidden; OUTSIDE the sandbox).

Score of a case = 0.35 x the weighted share of kernels whose four numbers are all right
(intensity, bound, attainable time, fraction; each kernel weighs half by count, half by its
share of the measured step, so the GEMMs that make up the step count) + 0.4 x the share of
proposals whose gain is right + 0.25 if the ranking is exactly the proposals that gain,
largest first. Tolerances: 1 % on
intensity, attainable time and fraction (or 0.005 on the fraction), 2 % or 1 us on a gain.
"""

from __future__ import annotations

import math
from typing import Any

W_KERNELS, W_PROPOSALS, W_RANKING = 0.35, 0.4, 0.25
REL, GAIN_REL, GAIN_ABS, FRACTION_ABS = 0.01, 0.02, 1.0, 0.005


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def _close(got: Any, want: float, rel: float, abs_tol: float = 0.0) -> bool:
    v = _num(got)
    return v is not None and abs(v - want) <= max(rel * abs(want), abs_tol)


def _index(items: Any, key: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if isinstance(items, list):
        for it in items:
            if isinstance(it, dict) and isinstance(it.get(key), str):
                out.setdefault(it[key], it)
    return out


def kernel_problems(got: dict[str, Any] | None, want: dict[str, Any]) -> list[str]:
    name = want["name"]
    if got is None:
        return [f"{name}: missing"]
    v = []
    if not _close(got.get("intensity"), want["intensity"], REL):
        v.append(f"{name}: intensity {got.get('intensity')!r} (expected {want['intensity']:.4g})")
    if str(got.get("bound", "")).lower() != want["bound"]:
        v.append(f"{name}: bound {got.get('bound')!r} (expected {want['bound']})")
    if not _close(got.get("attainable_us"), want["attainable_us"], REL):
        v.append(f"{name}: attainable_us {got.get('attainable_us')!r} "
                 f"(expected {want['attainable_us']:.4g})")
    if not _close(got.get("fraction"), want["fraction"], REL, FRACTION_ABS):
        v.append(f"{name}: fraction {got.get('fraction')!r} (expected {want['fraction']:.3f})")
    return [s[:200] for s in v]


def judge(case: dict[str, Any], output: Any, reference: dict[str, Any]) -> dict[str, Any]:
    res: dict[str, Any] = {"valid": False, "score": 0.0, "violations": []}
    v: list[str] = res["violations"]
    res["expected"] = (f"{len(reference['kernels'])} kernels; ranking "
                       f"{reference['ranking']}")
    if not isinstance(output, dict):
        v.append("output must be {'kernels': [...], 'proposals': [...], 'ranking': [...]}")
        res["actual"] = "not an object"
        return res
    got_k = _index(output.get("kernels"), "name")
    measured = {r["name"]: float(r["total_us"]) for r in case["profile"]["kernels"]}
    step = sum(measured.values())
    nk = len(reference["kernels"])
    ok_k, share_k = 0, 0.0
    for want in reference["kernels"]:
        p = kernel_problems(got_k.get(want["name"]), want)
        if not p:
            ok_k += 1
            share_k += 0.5 / nk + 0.5 * measured[want["name"]] / step
        v.extend(p)
    got_p = _index(output.get("proposals"), "id")
    ok_p = 0
    for want in reference["proposals"]:
        got = got_p.get(want["id"])
        if got is not None and _close(got.get("gain_us"), want["gain_us"], GAIN_REL, GAIN_ABS):
            ok_p += 1
        else:
            g = None if got is None else got.get("gain_us")
            v.append(f"{want['id']}: gain_us {g!r} (expected {want['gain_us']:.1f})"[:200])
    ranking = output.get("ranking")
    rank_ok = isinstance(ranking, list) and ranking == reference["ranking"]
    if not rank_ok:
        v.append(f"ranking {ranking!r} (expected {reference['ranking']})"[:200])
    np_ = len(reference["proposals"])
    score = (W_KERNELS * share_k + (W_PROPOSALS * ok_p / np_ if np_ else W_PROPOSALS)
             + W_RANKING * rank_ok)
    res["valid"] = True
    res["score"] = round(score, 4)
    res["passed"] = not v
    res["actual"] = (f"{ok_k}/{nk} kernels right, {ok_p}/{np_} gains right, ranking "
                     f"{'right' if rank_ok else 'wrong'}")
    return res
