"""The rubric engine: grade one scenario answer, combine scenarios, apply human grades.

Grading is a pipeline of small steps (after nbgrader's preprocessors):

    sanitize   keep well-formed answer values only (text cleaned and capped)
    restore    drop anything the candidate must not control (grader-reserved keys);
               the variant (seed, parameters, artifacts) comes from the caller, never
               from the answer document
    check      run each criterion's check; a check that fails marks its own result
               (not_gradable, timed_out, infra_error) and the others still run
    score      points -> 0-100 overall and per dimension; pending criteria left out
    report     the ScenarioReport (graders.report), identical for identical inputs
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graders.checks import concepts, field, manual, plan, tests
from graders.checks.base import CheckContext, CheckOutcome, CheckSetupError, r4
from graders.report import (
    GRADER_VERSION,
    PENDING_STATUSES,
    CriterionResult,
    Evidence,
    Report,
    ScenarioReport,
    ScenarioSummary,
)
from graders.rubric import (
    ConceptsCheck,
    Criterion,
    FieldCheck,
    ManualCheck,
    PlanCheck,
    Rubric,
    TestsCheck,
)
from graders.runner import RunLimits, Runner

MAX_TEXT_CHARS = 100_000
MAX_INT = 10**18
RESERVED_PREFIX = "_"


class VariantLike(Protocol):
    """The variant being graded (scenarios.render.Variant fits): all parameters, hidden too."""

    @property
    def scenario_id(self) -> str: ...

    @property
    def seed(self) -> int: ...

    @property
    def params(self) -> Mapping[str, Any]: ...

    @property
    def artifacts(self) -> Mapping[str, bytes]: ...


class ScenarioLike(Protocol):
    """A loaded scenario folder (scenarios.loader.Scenario fits)."""

    @property
    def rubric(self) -> Rubric: ...

    def render(self, seed: int) -> Any: ...

    def load_check(self, relpath: str) -> ModuleType: ...


# --------------------------------------------------------------------------- pipeline steps


def _clean_text(s: str) -> str:
    s = unicodedata.normalize("NFC", s.replace("\r\n", "\n").replace("\r", "\n"))
    s = "".join(ch for ch in s if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return s[:MAX_TEXT_CHARS]


def _clean_value(v: Any, depth: int = 0) -> Any:
    if depth > 4:
        return None
    if isinstance(v, str):
        return _clean_text(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None  # 1e400 parses as inf, NaN compares with nothing: not an answer
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_INT:
        return None
    if isinstance(v, bool | int | float) or v is None:
        return v
    if isinstance(v, list | tuple):
        return [_clean_value(x, depth + 1) for x in v[:1000]]
    if isinstance(v, Mapping):
        return {str(k): _clean_value(x, depth + 1) for k, x in sorted(v.items(), key=str)
                if isinstance(k, str)}
    return None


def sanitize(answer: Mapping[str, Any]) -> dict[str, Any]:
    """Keep JSON-like values only; normalize and cap text; drop unanswered (None) fields."""
    out: dict[str, Any] = {}
    for k, v in sorted(answer.items(), key=lambda kv: str(kv[0])):
        if isinstance(k, str) and v is not None:
            out[k] = _clean_value(v)
    return out


def restore(answer: dict[str, Any]) -> dict[str, Any]:
    """Drop keys the candidate must not set (grader-reserved names)."""
    return {k: v for k, v in answer.items() if not k.startswith(RESERVED_PREFIX)}


def run_check(criterion: Criterion, ctx: CheckContext) -> CheckOutcome:
    """One criterion's check; our own failures become infra_error, never an exception."""
    chk = criterion.check
    try:
        if isinstance(chk, FieldCheck):
            return field.run(chk, criterion.points, ctx)
        if isinstance(chk, PlanCheck):
            return plan.run(chk, criterion.points, ctx)
        if isinstance(chk, TestsCheck):
            return tests.run(chk, criterion.points, ctx)
        if isinstance(chk, ConceptsCheck):
            return concepts.run(chk, criterion.points, ctx)
        if isinstance(chk, ManualCheck):
            return manual.run(chk, list(criterion.levels), ctx)
    except CheckSetupError as exc:
        return _infra(f"hidden check material: {exc}")
    except Exception as exc:  # noqa: BLE001 - a bug in a check must not sink the other criteria
        return _infra(f"check crashed: {type(exc).__name__}: {exc}")
    return _infra(f"unknown check kind {chk.kind!r}")


def _infra(detail: str) -> CheckOutcome:
    return CheckOutcome(0.0, [Evidence(kind="note", label="error", text=detail)],
                        confidence=0.0, needs_review=True, gradable=False,
                        status="infra_error", detail=detail)


def score_of(criteria: Sequence[CriterionResult],
             factor: Callable[[CriterionResult], float] | None = None) -> float | None:
    """0-100 over the criteria that are not pending; None when none is scored."""
    f = factor or (lambda _c: 1.0)
    scored = [c for c in criteria if not c.pending]
    top = sum(c.max_points * f(c) for c in scored)
    if top <= 0:
        return None
    return r4(100.0 * sum(c.points * f(c) for c in scored) / top)


def dimensions_of(criteria: Sequence[CriterionResult],
                  factor: Callable[[CriterionResult], float] | None = None) -> dict[str, float]:
    out: dict[str, float] = {}
    for dim in sorted({c.dimension for c in criteria}):
        s = score_of([c for c in criteria if c.dimension == dim], factor)
        if s is not None:
            out[dim] = s
    return out


# --------------------------------------------------------------------------- public API


def grade_scenario(
    scenario_rubric: Rubric,
    answer: Mapping[str, Any],
    variant: VariantLike,
    runner: Runner | None = None,
    *,
    load_check: Callable[[str], ModuleType] | None = None,
    limits: RunLimits | None = None,
    prompt: str | None = None,
) -> ScenarioReport:
    """Grade one answer (field id -> value) to one variant of a scenario.

    load_check imports a hidden checks/ module by relative path (Scenario.load_check);
    runner runs candidate code for tests checks (without one they are infra_error);
    prompt is the variant's rendered prompt (default: variant.prompt_markdown when the
    variant has one): sentences copied from it earn no concept credit.
    """
    clean = restore(sanitize(answer))
    if prompt is None:
        prompt = getattr(variant, "prompt_markdown", "")
    ctx = CheckContext(
        scenario_id=variant.scenario_id, seed=variant.seed, params=dict(variant.params),
        artifacts=variant.artifacts, answer=clean, load_check=load_check, runner=runner,
        limits=limits or RunLimits(), answer_key_module=scenario_rubric.answer_key,
        prompt=prompt if isinstance(prompt, str) else "")
    # Concepts checks on the same field see each other's misconceptions: a sentence that
    # states one ("every fine-tune needs its own copy of the base model") earns nothing in
    # another criterion either.
    field_concepts: dict[str, list[Any]] = {}
    for crit in scenario_rubric.criteria:
        if isinstance(crit.check, ConceptsCheck):
            field_concepts.setdefault(crit.check.field, []).extend(crit.check.concepts)
    ctx.cache["field_concepts"] = field_concepts
    results: list[CriterionResult] = []
    for crit in scenario_rubric.criteria:
        out = run_check(crit, ctx)
        points = _finite(out.points, crit.points)
        top = points if out.points_max is None else max(points, _finite(out.points_max,
                                                                        crit.points))
        res = CriterionResult(
            scenario_id=variant.scenario_id, criterion_id=crit.id, title=crit.title,
            dimension=crit.dimension, points=r4(points), max_points=crit.points,
            evidence=out.evidence, scorer=f"check:{crit.check.kind}",
            confidence=r4(out.confidence), needs_review=out.needs_review,
            gradable=out.gradable, status=out.status, detail=out.detail,
            points_min=r4(points) if out.needs_review else None,
            points_max=r4(top) if out.needs_review or top > points else None,
            review_state="needs_review" if out.needs_review or out.status in PENDING_STATUSES
            else "final")
        results.append(_apply_requirements(crit, res, {r.criterion_id: r for r in results}))
    return _scenario_report(variant.scenario_id, variant.seed, results)


def _finite(x: float, top: float) -> float:
    return 0.0 if not math.isfinite(x) else max(0.0, min(top, x))


def _apply_requirements(crit: Criterion, res: CriterionResult,
                        earlier: Mapping[str, CriterionResult]) -> CriterionResult:
    """Gate or scale a criterion by the criteria it requires (a fix by its diagnosis)."""
    if not crit.requires or res.pending:
        return res
    factor_lo = factor_hi = 1.0
    notes: list[str] = []
    for req in crit.requires:
        dep = earlier[req.criterion]
        lo, hi = dep.reach()
        fr_lo, fr_hi = (lo / dep.max_points, hi / dep.max_points) if dep.max_points else (0, 0)

        def f(fr: float, mode: str = req.mode, need: float = req.min_fraction) -> float:
            if mode == "gate":
                return 1.0 if fr >= need - 1e-9 else 0.0
            return min(1.0, fr / need)

        factor_lo, factor_hi = factor_lo * f(fr_lo), factor_hi * f(fr_hi)
        notes.append(f"{req.mode}d by {req.criterion} ({fr_lo:.0%} of its points)")
    lo, hi = res.reach()
    points, top = r4(res.points * factor_lo), r4(hi * factor_hi)
    unsure = factor_lo != factor_hi
    out = res.model_copy(update={
        "points": points,
        "points_min": r4(lo * factor_lo) if (res.points_min is not None or unsure) else None,
        "points_max": top if (res.points_max is not None or unsure) and top > points else
        (res.points_max if res.points_max is None else top),
        "needs_review": res.needs_review or unsure,
        "review_state": "needs_review" if res.needs_review or unsure else res.review_state,
        "detail": (res.detail + "; " if res.detail else "") + ", ".join(notes),
        "evidence": [*res.evidence, Evidence(
            kind="note", label="requires", value={"factor": r4(factor_lo)},
            passed=factor_lo >= 1.0, text="; ".join(notes))],
    })
    return out


def grade_answer(scenario: ScenarioLike, seed: int, answer: Mapping[str, Any],
                 runner: Runner | None = None) -> ScenarioReport:
    """Render the scenario's variant for seed and grade answer against its rubric."""
    box = getattr(getattr(scenario, "manifest", None), "sandbox", None)
    limits = RunLimits(wall_s=float(box.wall_s), memory_mib=int(box.memory_mib),
                       cpus=float(box.cpus), pids=int(box.pids)) if box is not None else None
    return grade_scenario(scenario.rubric, answer, scenario.render(seed), runner,
                          load_check=scenario.load_check, limits=limits)


def score_range(criteria: Sequence[CriterionResult],
                factor: Callable[[CriterionResult], float] | None = None
                ) -> tuple[float | None, float | None]:
    """(lowest, highest) 0-100 the score can still reach, over every criterion."""
    f = factor or (lambda _c: 1.0)
    top = sum(c.max_points * f(c) for c in criteria)
    if top <= 0:
        return None, None
    lo = sum(c.reach()[0] * f(c) for c in criteria)
    hi = sum(c.reach()[1] * f(c) for c in criteria)
    return r4(100.0 * lo / top), r4(100.0 * hi / top)


def _state(criteria: Sequence[CriterionResult]) -> str:
    return "needs_review" if any(c.pending or c.needs_review for c in criteria) else "final"


def _scenario_report(scenario_id: str, seed: int,
                     results: list[CriterionResult]) -> ScenarioReport:
    lo, hi = score_range(results)
    return ScenarioReport(
        scenario_id=scenario_id, seed=seed, score=score_of(results),
        dimensions=dimensions_of(results), criteria=results, grader_version=GRADER_VERSION,
        pending_review=[c.criterion_id for c in results if c.pending or c.needs_review],
        status="needs_review" if _state(results) == "needs_review" else "final",
        score_min=lo, score_max=hi)


def combine(scenario_reports: Sequence[ScenarioReport],
            weights: Mapping[str, float] | None = None) -> Report:
    """Roll scenario reports into one report; weights: scenario id -> weight (default 1)."""
    summaries = [ScenarioSummary(scenario_id=r.scenario_id, seed=r.seed,
                                 weight=float((weights or {}).get(r.scenario_id, 1.0)),
                                 score=r.score) for r in scenario_reports]
    criteria = [c.model_copy(deep=True) for r in scenario_reports for c in r.criteria]
    return _report(summaries, criteria)


def _report(summaries: list[ScenarioSummary], criteria: list[CriterionResult]) -> Report:
    # Each scenario counts by its weight whatever its total points: a criterion's points
    # are scaled by weight / (scored max points of its scenario).
    totals: dict[str, float] = {}
    for c in criteria:
        if not c.pending:
            totals[c.scenario_id] = totals.get(c.scenario_id, 0.0) + c.max_points
    weight = {s.scenario_id: s.weight for s in summaries}

    def factor(c: CriterionResult) -> float:
        total = totals.get(c.scenario_id, 0.0)
        return weight.get(c.scenario_id, 1.0) / total if total else 0.0

    all_totals: dict[str, float] = {}
    for c in criteria:
        all_totals[c.scenario_id] = all_totals.get(c.scenario_id, 0.0) + c.max_points

    def factor_all(c: CriterionResult) -> float:
        total = all_totals.get(c.scenario_id, 0.0)
        return weight.get(c.scenario_id, 1.0) / total if total else 0.0

    for s in summaries:
        s.score = score_of([c for c in criteria if c.scenario_id == s.scenario_id])
    lo, hi = score_range(criteria, factor_all)
    return Report(
        status="needs_review" if _state(criteria) == "needs_review" else "final",
        score_min=lo, score_max=hi,
        score=score_of(criteria, factor), dimensions=dimensions_of(criteria, factor),
        criteria=criteria, grader_version=GRADER_VERSION,
        pending_review=[f"{c.scenario_id}/{c.criterion_id}" for c in criteria
                        if c.pending or c.needs_review],
        scenarios=summaries)


class GradeError(ValueError):
    """A human grade that cannot be applied (unknown criterion or level, bad points)."""


class ManualGrade(BaseModel):
    """A person's grade of a manual criterion, or an override of an automated one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario_id: str = Field(description="Scenario of the criterion.")
    criterion_id: str = Field(description="Criterion id.")
    user_id: str = Field(min_length=1, description="Who graded (scorer becomes user:<id>).")
    level: str | None = Field(None, description="Level label (manual criteria).")
    points: float | None = Field(None, ge=0, description="Points, instead of a level.")
    reason: str = Field("", description="Comment; required when overriding a check.")

    @model_validator(mode="after")
    def _one(self) -> ManualGrade:
        if (self.level is None) == (self.points is None):
            raise ValueError("give exactly one of level or points")
        return self


def level_points(c: CriterionResult) -> dict[str, float]:
    """Level label -> the points a person grading at that level gives (its descriptor's
    fraction of max_points); what apply_manual uses and pages offer."""
    return {e.label: float(e.value) * c.max_points for e in c.evidence
            if e.kind == "level" and e.value is not None}


def apply_manual(report: Report, grades: Sequence[ManualGrade]) -> Report:
    """Apply human grades and overrides; the automated result stays in automated_*."""
    criteria = [c.model_copy(deep=True) for c in report.criteria]
    index = {(c.scenario_id, c.criterion_id): c for c in criteria}
    for g in grades:
        c = index.get((g.scenario_id, g.criterion_id))
        if c is None:
            raise GradeError(f"no criterion {g.scenario_id}/{g.criterion_id} in the report")
        if g.level is not None:
            levels = level_points(c)
            if g.level not in levels:
                raise GradeError(f"{g.criterion_id} has no level {g.level!r} "
                                 f"(levels: {sorted(levels)})")
            points = levels[g.level]
        else:
            points = float(g.points or 0.0)
        if points > c.max_points:
            raise GradeError(f"{points} points exceed the maximum {c.max_points}")
        is_manual = c.scorer == "check:manual" or c.automated_scorer == "check:manual"
        if not is_manual and not g.reason.strip():
            raise GradeError("overriding an automated result needs a reason")
        if c.automated_scorer is None:
            c.automated_points, c.automated_scorer = c.points, c.scorer
        c.points = r4(points)
        c.scorer = f"user:{g.user_id}"
        c.status = "reviewed" if is_manual else "overridden"
        c.confidence, c.needs_review, c.gradable = 1.0, False, True
        c.points_min = c.points_max = None
        c.review_state = "final"
        c.review_comment = g.reason or None
        c.review_level = g.level
    summaries = [s.model_copy() for s in report.scenarios]
    return _report(summaries, criteria)
