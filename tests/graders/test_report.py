"""The report contract the server stores: names and the determinism digest."""

from __future__ import annotations

from graders.report import GRADER_VERSION, CriterionResult, Evidence, Report, ScenarioReport


def _crit(**kw: object) -> CriterionResult:
    data: dict[str, object] = {
        "scenario_id": "s", "criterion_id": "c", "dimension": "coding", "points": 1.0,
        "max_points": 2.0,
        "evidence": [Evidence(kind="test", label="case 0", passed=True),
                     Evidence(kind="resource", label="run", value={"wall_s": 0.5})],
        "scorer": "check:tests", "confidence": 1.0, "needs_review": False, "status": "graded"}
    data.update(kw)
    return CriterionResult.model_validate(data)


def test_contract_field_names() -> None:
    assert {"score", "dimensions", "criteria", "grader_version", "pending_review"} <= set(
        Report.model_fields)
    assert {"scenario_id", "criterion_id", "dimension", "points", "max_points", "evidence",
            "scorer", "confidence", "needs_review", "gradable", "status", "detail",
            "automated_points"} <= set(CriterionResult.model_fields)


def test_digest_ignores_resource_evidence_only() -> None:
    def rep(c: CriterionResult) -> ScenarioReport:
        return ScenarioReport(scenario_id="s", seed=1, score=50.0, dimensions={"coding": 50.0},
                              criteria=[c], pending_review=[])

    a = rep(_crit())
    slower = _crit(evidence=[Evidence(kind="test", label="case 0", passed=True),
                             Evidence(kind="resource", label="run", value={"wall_s": 9.0})])
    failed = _crit(evidence=[Evidence(kind="test", label="case 0", passed=False),
                             Evidence(kind="resource", label="run", value={"wall_s": 0.5})])
    assert a.digest() == rep(slower).digest()
    assert a.digest() != rep(failed).digest()
    assert a.grader_version == GRADER_VERSION


def test_pending_statuses() -> None:
    assert _crit(status="pending_review").pending and _crit(status="infra_error").pending
    assert not _crit(status="not_gradable").pending and not _crit(status="timed_out").pending
