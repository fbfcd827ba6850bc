"""plan: the candidate's parallelism plan through the hardware models.

The scenario's checks/ module `model_input` builds the hw-model input for the variant:
`training_input(params, plan) -> TrainingInput | dict`, where plan maps the rubric's plan
keys to the candidate's values as given (form strings included; a blank field is absent, so
the module may raise KeyError, or ValueError for a plan that cannot be laid out), and optionally `estimates(params, plan, result) -> {metric:
value}` for metrics the training result does not hold directly. Three parts, split by the
rubric's weights: feasible (fits in memory and lays out on the cluster; the reason when
not), throughput (predicted tokens/s against the realistic best the search finds, i.e. the
best plan that keeps production memory headroom: a plan inside the search's band, within
its stated tolerance of that best, earns full credit, none at 40% of it; jobs the model
cannot rank with confidence, MoE and ZeRO-3 at scale, have a wider band and the evidence
says so), estimates (the candidate's own numbers against the model's for
their plan: full within estimate_rel_tol, half within twice that).

A model_input module may instead define `assess(params, plan) -> dict` for a plan another
model judges (a serving design, say): it returns `feasible` (bool), `reason`, `quality`
(0..1, e.g. cost against the cheapest design; replaces the throughput part), `quality_text`,
`metrics` ({metric: model value or None} for the estimates) and optionally `values` (shown
as evidence). It raises KeyError or ValueError like training_input. Its plan keys are the
module's own; the training keys are only enforced for training_input.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from graders.checks.base import CheckContext, CheckOutcome, CheckSetupError, clamp, is_blank, r4
from graders.hw import TrainingInput, TrainingResult, estimate_training, search_training
from graders.hw.search import SearchResult
from graders.report import Evidence
from graders.rubric import PlanCheck

# Problems of the training model that make a plan unrunnable; the others are warnings.
BLOCKING = {"precision_unsupported", "uneven_pipeline", "interleave_microbatches",
            "cp_seq_divisibility", "out_of_memory"}
TRAINING_PLAN_KEYS = {
    "tp", "pp", "dp", "cp", "ep", "etp", "virtual_stages", "micro_batch_size",
    "global_batch_size", "seq_len", "zero_stage", "recompute", "sequence_parallel", "precision",
}
NONE_AT = 0.4  # throughput ratio to the realistic best below which no credit is given

_SEARCH_CACHE: dict[str, SearchResult] = {}


def candidate_plan(check: PlanCheck, answer: dict[str, Any]) -> dict[str, Any]:
    """Plan key -> the candidate's value as given (model_input converts form values)."""
    return {key: answer[fid] for key, fid in sorted(check.fields.items())
            if not is_blank(answer.get(fid))}


def best_plan(inp: TrainingInput) -> SearchResult:
    """The search's ranking for the job of `inp` (cached: pure function of its input)."""
    key = json.dumps({"model": inp.model if isinstance(inp.model, str)
                      else inp.model.model_dump(mode="json"),
                      "cluster": inp.cluster.model_dump(mode="json"),
                      "gbs": inp.plan.global_batch_size, "seq": inp.plan.seq_len,
                      "prec": inp.plan.precision}, sort_keys=True)
    if key not in _SEARCH_CACHE:
        _SEARCH_CACHE[key] = search_training(
            inp.model, inp.cluster, inp.plan.global_batch_size, inp.plan.seq_len,
            precision=inp.plan.precision, top=3)
    return _SEARCH_CACHE[key]


def _metric(result: TrainingResult, extra: dict[str, Any], name: str) -> float | None:
    if name in extra:
        v = extra[name]
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
    obj: Any = result
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    if hasattr(obj, "total"):
        obj = obj.total
    return float(obj) if isinstance(obj, int | float) and not isinstance(obj, bool) else None


def run(check: PlanCheck, max_points: float, ctx: CheckContext) -> CheckOutcome:
    answer = dict(ctx.answer)
    plan = candidate_plan(check, answer)
    if not plan:
        return CheckOutcome(0.0, [Evidence(kind="note", label="plan", passed=False,
                                           credit=0.0, text="no plan given")],
                            status="unanswered", detail="no plan given")
    if callable(getattr(ctx.module(check.model_input), "assess", None)):
        return _run_assess(check, max_points, ctx, plan)
    unknown = set(plan) - TRAINING_PLAN_KEYS
    if unknown:
        raise CheckSetupError(f"unknown plan keys for the training model: {sorted(unknown)}")
    build = ctx.function(check.model_input, "training_input")
    evidence: list[Evidence] = [Evidence(kind="note", label="candidate_plan", value=plan)]
    credits = {"feasible": 0.0, "throughput": 0.0, "estimates": 0.0}

    inp: TrainingInput | None = None
    reason = ""
    try:
        raw = build(dict(ctx.params), dict(plan))
        inp = raw if isinstance(raw, TrainingInput) else TrainingInput.model_validate(raw)
    except ValidationError as exc:
        reason = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
    except KeyError as exc:
        reason = f"plan incomplete: no {exc}"
    except (ValueError, TypeError) as exc:
        reason = f"plan cannot be laid out: {exc}"
    result = estimate_training(inp) if inp is not None else None
    if result is not None and not result.fits:
        m = result.memory_gib
        reason = (f"does not fit: {m.total:.1f} GiB + {m.reserved:.0f} GiB reserved > "
                  f"{m.capacity:.0f} GiB per GPU")
    errors = [p.message for p in result.problems
              if p.code in BLOCKING and p.code != "out_of_memory"] if result is not None else []
    warnings = [p.message for p in result.problems if p.code not in BLOCKING] \
        if result is not None else []
    feasible = result is not None and result.fits and not errors
    if errors and not reason:
        reason = "; ".join(errors)
    credits["feasible"] = 1.0 if feasible else 0.0
    evidence.append(Evidence(kind="metric", label="feasible", value=feasible, passed=feasible,
                             credit=credits["feasible"], text=reason or "fits and lays out"))
    for w in warnings:
        evidence.append(Evidence(kind="note", label="warning", text=w))
    if result is not None:
        evidence.append(Evidence(kind="metric", label="memory_gib",
                                 value=r4(result.memory_gib.total),
                                 expected=r4(result.memory_gib.capacity
                                             - result.memory_gib.reserved),
                                 text="most loaded GPU vs usable capacity"))
    if feasible and inp is not None and result is not None:
        search = best_plan(inp)
        if search.feasible:
            top = search.feasible[0]
            best = top.tokens_per_s
            ratio = result.tokens_per_s / best if best > 0 else 0.0
            full_at = 1.0 - search.band_tolerance
            credits["throughput"] = clamp((ratio - NONE_AT) / (full_at - NONE_AT))
            p = top.plan
            where = ("inside the band" if ratio >= full_at else "below the band") + \
                f" of plans within {search.band_tolerance:.0%} of it"
            text = (f"{ratio:.0%} of the realistic best searched plan (tp={p.tp} pp={p.pp} "
                    f"dp={p.dp} cp={p.cp} b={p.micro_batch_size} v={p.virtual_stages} "
                    f"zero={p.zero_stage} recompute={p.recompute}, keeping "
                    f"{search.headroom_fraction:.0%} of memory free), {where}; "
                    f"MFU {result.mfu:.1%}")
            if search.confidence == "low":
                text += f"; low confidence: {search.confidence_note}"
            if not result.fits_with_headroom:
                text += (f"; leaves {result.memory_gib.headroom:.1f} GiB free, less than the "
                         f"{result.memory_gib.production_headroom:.1f} GiB production keeps")
            evidence.append(Evidence(
                kind="metric", label="tokens_per_s", value=r4(result.tokens_per_s),
                expected=r4(top.tokens_per_s), passed=credits["throughput"] >= 1.0,
                credit=r4(credits["throughput"]), text=text))
        else:
            credits["throughput"] = 1.0
            evidence.append(Evidence(kind="note", label="tokens_per_s",
                                     value=r4(result.tokens_per_s),
                                     text="the search found no feasible plan to compare with"))
    if check.estimates:
        credits["estimates"] = _estimates(check, ctx, plan, result, evidence)

    return _weighted(check, max_points, credits, evidence, feasible, reason, "throughput")


def _weighted(check: PlanCheck, max_points: float, credits: dict[str, float],
              evidence: list[Evidence], feasible: bool, reason: str,
              measure: str) -> CheckOutcome:
    """Points from the feasible / throughput / estimates credits by the check's weights
    (estimates dropped when the check asks for none); `measure` names the second credit
    in the detail (throughput for the training model, quality for an assess() module)."""
    weights = dict(check.weights)
    if not check.estimates:
        weights.pop("estimates", None)
    total_w = sum(weights.values()) or 1.0
    fraction = sum(weights[k] * credits[k] for k in weights) / total_w
    detail = ("feasible" if feasible else f"not feasible: {reason}") + \
        (f"; {credits['throughput']:.0%} {measure} credit" if feasible else "")
    return CheckOutcome(r4(fraction * max_points), evidence, detail=detail)


def _estimates(check: PlanCheck, ctx: CheckContext, plan: dict[str, Any],
               result: TrainingResult | None, evidence: list[Evidence]) -> float:
    extra: dict[str, Any] = {}
    if result is not None:
        mod = ctx.module(check.model_input)
        fn = getattr(mod, "estimates", None)
        if callable(fn):
            try:
                out = fn(dict(ctx.params), dict(plan), result)
            except Exception as exc:
                raise CheckSetupError(f"estimates() failed: {type(exc).__name__}: {exc}") \
                    from exc
            extra = dict(out) if isinstance(out, dict) else {}
    return _compare_estimates(
        check, ctx, evidence,
        lambda metric: _metric(result, extra, metric) if result is not None else None)


def _run_assess(check: PlanCheck, max_points: float, ctx: CheckContext,
                plan: dict[str, Any]) -> CheckOutcome:
    """The plan judged by the model_input module's own assess() (see the module doc)."""
    assess = ctx.function(check.model_input, "assess")
    evidence: list[Evidence] = [Evidence(kind="note", label="candidate_plan", value=plan)]
    credits = {"feasible": 0.0, "throughput": 0.0, "estimates": 0.0}
    verdict: dict[str, Any] | None = None
    try:
        out = assess(dict(ctx.params), dict(plan))
    except KeyError as exc:
        reason = f"plan incomplete: no {exc}"
    except (ValueError, TypeError) as exc:
        reason = f"plan cannot be laid out: {exc}"
    else:
        if not isinstance(out, dict) or not isinstance(out.get("feasible"), bool):
            raise CheckSetupError("assess() must return a dict with a bool 'feasible'")
        verdict = out
        reason = str(out.get("reason", ""))
    feasible = verdict is not None and bool(verdict["feasible"])
    credits["feasible"] = 1.0 if feasible else 0.0
    evidence.append(Evidence(kind="metric", label="feasible", value=feasible, passed=feasible,
                             credit=credits["feasible"], text=reason))
    if verdict is not None and verdict.get("values"):
        evidence.append(Evidence(kind="note", label="model", value=verdict["values"]))
    if feasible and verdict is not None:
        credits["throughput"] = clamp(float(verdict.get("quality", 0.0)))
        evidence.append(Evidence(kind="metric", label="quality",
                                 value=r4(credits["throughput"]),
                                 passed=credits["throughput"] >= 1.0,
                                 credit=r4(credits["throughput"]),
                                 text=str(verdict.get("quality_text", ""))))
    if check.estimates:
        metrics = dict(verdict.get("metrics") or {}) if verdict is not None else {}
        credits["estimates"] = _compare_estimates(
            check, ctx, evidence, lambda metric: _number(metrics.get(metric)))
    return _weighted(check, max_points, credits, evidence, feasible, reason, "quality")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def _compare_estimates(check: PlanCheck, ctx: CheckContext, evidence: list[Evidence],
                       model_value: Callable[[str], float | None]) -> float:
    """Credit for the candidate's own estimates against the model's values for their plan:
    full within estimate_rel_tol, half within twice it; one comparison evidence each."""
    total = 0.0
    tol = check.estimate_rel_tol
    for metric, fid in sorted(check.estimates.items()):
        got = ctx.answer.get(fid)
        want = model_value(metric)
        credit = 0.0
        text = "no model value for this plan" if want is None else ""
        if isinstance(got, int | float) and not isinstance(got, bool) and want is not None:
            rel = abs(got - want) / abs(want) if want else (0.0 if got == 0 else 1e9)
            credit = 1.0 if rel <= tol else 0.5 if rel <= 2 * tol else 0.0
            text = f"relative error {rel:.0%} (full credit within {tol:.0%})"
        elif is_blank(got):
            text = "not given"
        total += credit
        evidence.append(Evidence(kind="comparison", label=f"estimate:{metric}", value=got,
                                 expected=r4(want) if want is not None else None,
                                 passed=credit >= 1.0, credit=credit, text=text))
    return total / len(check.estimates)
