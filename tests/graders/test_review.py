"""Provisional until reviewed (score ranges, review states) and coherence (requires, wrong
entities named in the text)."""

from __future__ import annotations

from typing import Any

import pytest

from graders import semantic
from graders.engine import ManualGrade, apply_manual, combine, grade_scenario
from graders.report import CriterionResult, Report, ScenarioReport
from graders.rubric import Rubric
from tests.graders.factory import criterion, rubric, variant

PARAMS = {"culprit_node": "node-17", "healthy_nodes": ["node-03", "node-21"]}
CAUSE = criterion(id="cause", points=10, check={
    "kind": "field", "field": "cause", "expected": {"value": "thermal_throttle"}})
FIX = {"kind": "concepts", "field": "fix", "concepts": [
    {"id": "drain", "phrasings": ["drain {{ culprit_node }}", "drain the node"],
     "against": ["{{ healthy_nodes }}"]}]}
MANUAL = criterion(id="quality", points=10, dimension="communication", check={
    "kind": "manual"}, levels=[{"score": 0, "label": "poor", "descriptor": "d"},
                               {"score": 1, "label": "good", "descriptor": "d"}])


def grade(rub: Rubric, answer: dict[str, Any]) -> ScenarioReport:
    return grade_scenario(rub, answer, variant(params=PARAMS))


def crit(rep: ScenarioReport | Report, cid: str) -> CriterionResult:
    return next(c for c in rep.criteria if c.criterion_id == cid)


def test_fix_is_gated_by_the_diagnosis() -> None:
    rub = Rubric.model_validate({"criteria": [CAUSE.model_dump(), {
        **criterion(id="fix", check=FIX).model_dump(),
        "requires": [{"criterion": "cause", "mode": "gate"}]}]})
    fix = "Drain node-17 at once and replace its fans, then rerun at 8.2 s per step."
    right = grade(rub, {"cause": "thermal_throttle", "fix": fix})
    wrong = grade(rub, {"cause": "power_cap", "fix": fix})
    assert crit(right, "fix").points == 10
    assert crit(wrong, "fix").points == 0
    assert "gated by cause" in crit(wrong, "fix").detail


def test_scale_mode_scales_by_the_required_fraction() -> None:
    half = criterion(id="cause", points=10, check={
        "kind": "field", "field": "x", "compare": "numeric", "expected": {"value": 100},
        "rel_tol": 0.01, "partial": [{"error": 0.5, "credit": 0.0}]})
    rub = Rubric.model_validate({"criteria": [half.model_dump(), {
        **criterion(id="fix", check=FIX).model_dump(),
        "requires": [{"criterion": "cause", "mode": "scale", "min_fraction": 1.0}]}]})
    rep = grade(rub, {"x": 125, "fix": "Drain node-17 at once and swap its fans at 91 C."})
    cause = crit(rep, "cause").points
    assert 0 < cause < 10
    assert crit(rep, "fix").points == pytest.approx(cause, abs=1e-3)


def test_requires_must_name_an_earlier_criterion() -> None:
    with pytest.raises(ValueError, match="not an earlier criterion"):
        Rubric.model_validate({"criteria": [
            {**criterion(id="fix", check=FIX).model_dump(),
             "requires": [{"criterion": "cause"}]}, CAUSE.model_dump()]})


def test_naming_the_wrong_node_is_evidence_against() -> None:
    rub = rubric(criterion(id="fix", check=FIX))
    rep = grade(rub, {"fix": "Drain the node node-03 at once: it is at 91 C."})
    c = crit(rep, "fix")
    assert c.points == 0
    assert "node-03" in c.evidence[0].value["against"]
    assert "contradicted" in c.detail


def test_manual_criterion_leaves_the_report_provisional_with_its_range() -> None:
    rep = grade(rubric(CAUSE, MANUAL), {"cause": "thermal_throttle"})
    assert rep.score == 100  # the automated part
    assert rep.status == "needs_review"
    assert (rep.score_min, rep.score_max) == (50, 100)
    assert crit(rep, "quality").review_state == "needs_review"
    full = combine([rep])
    assert full.status == "needs_review" and (full.score_min, full.score_max) == (50, 100)
    done = apply_manual(full, [ManualGrade(scenario_id="scn", criterion_id="quality",
                                           user_id="u1", level="good")])
    assert done.status == "final" and done.score == done.score_min == done.score_max == 100


def test_all_automated_and_confident_is_final() -> None:
    rep = grade(rubric(CAUSE), {"cause": "thermal_throttle"})
    assert rep.status == "final" and crit(rep, "cause").review_state == "final"
    assert rep.score_min == rep.score_max == 100


@pytest.mark.skipif(not semantic.available(), reason="embedding model not installed")
def test_low_confidence_concept_keeps_its_automated_points_and_a_range() -> None:
    chk = {"kind": "concepts", "field": "t", "concepts": [
        {"id": "tp", "phrasings": ["tensor parallel within a node"],
         "exemplars": ["Tensor parallelism stays inside one server so its all-reduces use "
                       "NVLink."]},
        {"id": "drain", "phrasings": ["drain"]}]}
    rep = grade(rubric(criterion(id="c", check=chk)),
                {"t": "We drain the bad host. Tensor parallel groups are chosen per model "
                      "family and moved between machines as needed."})
    c = crit(rep, "c")
    assert c.points > 0  # not a zero
    lo, hi = c.reach()
    assert lo == c.points and hi >= c.points


def test_old_stored_reports_still_load() -> None:
    old = {"scenario_id": "s", "seed": 1, "score": 50.0, "dimensions": {}, "criteria": [
        {"scenario_id": "s", "criterion_id": "c", "dimension": "debugging", "points": 5,
         "max_points": 10, "scorer": "check:field", "confidence": 1.0, "needs_review": False,
         "status": "graded"}], "pending_review": []}
    rep = ScenarioReport.model_validate(old)
    assert rep.status == "final" and rep.criteria[0].review_state == "final"
    assert rep.criteria[0].reach() == (5, 5)
