"""field: a structured answer against the variant's expected value.

exact: equal (text compared case- and space-insensitively; an expected list means any of
its values); set: the same set (partial credit = overlap / union); numeric: within rel_tol
or abs_tol for full credit, then the rubric's partial-credit curve over the relative error
(linear between its points, nothing beyond the last one).
"""

from __future__ import annotations

import math
from typing import Any

from graders.checks.base import CheckContext, CheckOutcome, CheckSetupError, clamp, is_blank, r4
from graders.report import Evidence
from graders.rubric import ExpectedKey, ExpectedParam, FieldCheck, PartialPoint


def expected_value(check: FieldCheck, ctx: CheckContext) -> tuple[Any, str]:
    """(value, where it came from): a variant parameter, the answer key or the rubric."""
    exp = check.expected
    if isinstance(exp, ExpectedParam):
        if exp.param not in ctx.params:
            raise CheckSetupError(f"variant has no parameter {exp.param!r}")
        return ctx.params[exp.param], f"param:{exp.param}"
    if isinstance(exp, ExpectedKey):
        key = ctx.answer_key()
        if exp.key not in key:
            raise CheckSetupError(f"answer_key() returned no {exp.key!r}")
        return key[exp.key], f"key:{exp.key}"
    return exp.value, "rubric"


def _norm(v: Any) -> Any:
    if isinstance(v, str):
        return " ".join(v.split()).casefold()
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return float(v)
    return v


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, str):
        try:
            f = float(v.strip().replace(",", ""))
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None


def partial_credit(rel_error: float, tol_rel: float, curve: list[PartialPoint]) -> float:
    """Credit for a relative error beyond the tolerance: linear through the curve's points."""
    points = sorted(curve, key=lambda p: p.error)
    x0, y0 = tol_rel, 1.0
    for p in points:
        if p.error <= x0:
            continue
        if rel_error <= p.error:
            t = (rel_error - x0) / (p.error - x0)
            return clamp(y0 + t * (p.credit - y0))
        x0, y0 = p.error, p.credit
    return 0.0


def numeric_credit(check: FieldCheck, got: float, want: float) -> tuple[float, float]:
    """(credit 0..1, relative error)."""
    err = abs(got - want)
    rel = err / abs(want) if want != 0 else (0.0 if err == 0 else math.inf)
    tol = max(check.abs_tol or 0.0, (check.rel_tol or 0.0) * abs(want))
    if err <= tol + 1e-12:
        return 1.0, rel
    tol_rel = tol / abs(want) if want != 0 else 0.0
    return partial_credit(rel, tol_rel, check.partial), rel


def run(check: FieldCheck, max_points: float, ctx: CheckContext) -> CheckOutcome:
    got = ctx.answer.get(check.field)
    want, source = expected_value(check, ctx)
    label = check.field
    if is_blank(got):
        return CheckOutcome(0.0, [Evidence(kind="comparison", label=label, value=None,
                                           passed=False, credit=0.0, text="not answered")],
                            status="unanswered", detail="no answer")
    if check.compare == "numeric":
        g, w = _number(got), _number(want)
        if w is None:
            raise CheckSetupError(f"expected value from {source} is not a number: {want!r}")
        if g is None:
            ev = Evidence(kind="comparison", label=label, value=got, expected=r4(w),
                          passed=False, credit=0.0, text="not a number")
            return CheckOutcome(0.0, [ev], detail="answer is not a number")
        credit, rel = numeric_credit(check, g, w)
        text = f"relative error {rel:.1%}" if math.isfinite(rel) else "expected 0"
        ev = Evidence(kind="comparison", label=label, value=g, expected=r4(w),
                      passed=credit >= 1.0, credit=r4(credit), text=text)
        return CheckOutcome(r4(credit * max_points), [ev], detail=text)
    if check.compare == "set":
        gs = {_norm(x) for x in (got if isinstance(got, list | tuple | set) else [got])}
        ws = {_norm(x) for x in (want if isinstance(want, list | tuple | set) else [want])}
        union = gs | ws
        credit = len(gs & ws) / len(union) if union else 1.0
        missing, extra = sorted(map(str, ws - gs)), sorted(map(str, gs - ws))
        ev = Evidence(kind="comparison", label=label, value=sorted(map(str, gs)),
                      expected=sorted(map(str, ws)), passed=credit >= 1.0, credit=r4(credit),
                      text=f"missing {missing}, extra {extra}" if credit < 1 else "same set")
        return CheckOutcome(r4(credit * max_points), [ev], detail=ev.text or "")
    accepted = want if isinstance(want, list) and not isinstance(got, list) else [want]
    ok = any(_norm(got) == _norm(a) for a in accepted)
    ev = Evidence(kind="comparison", label=label, value=got, expected=want, passed=ok,
                  credit=1.0 if ok else 0.0, text="matches" if ok else "does not match")
    return CheckOutcome(max_points if ok else 0.0, [ev], detail=ev.text or "")
