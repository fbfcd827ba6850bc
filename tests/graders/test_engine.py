"""The pipeline: partial credit survives failing checks, scores, combine, human grades."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graders.engine import (
    GradeError,
    ManualGrade,
    apply_manual,
    combine,
    grade_scenario,
    restore,
    sanitize,
)
from graders.report import GRADER_VERSION, Report, ScenarioReport
from graders.rubric import Rubric
from tests.graders.factory import ProcessRunner, check_modules, criterion, rubric, variant

LEVELS = [{"score": 0, "label": "weak", "descriptor": "no"},
          {"score": 0.5, "label": "ok", "descriptor": "some"},
          {"score": 1, "label": "strong", "descriptor": "yes"}]


def make_rubric() -> Rubric:
    return rubric(
        criterion(id="cause", points=30, dimension="debugging",
                  check={"kind": "field", "field": "cause", "expected": {"param": "cause"}}),
        criterion(id="slowdown", points=10, dimension="hardware_awareness",
                  check={"kind": "field", "field": "pct", "compare": "numeric",
                         "expected": {"param": "pct"}, "abs_tol": 2}),
        criterion(id="key", points=10, dimension="debugging",
                  check={"kind": "field", "field": "node", "expected": {"key": "node"}}),
        criterion(id="writeup", points=10, dimension="communication",
                  check={"kind": "manual", "fields": ["notes"]}, levels=LEVELS),
        answer_key="checks/key.py",
    )


V = variant(params={"cause": "thermal", "pct": 30.0, "node": "n7"}, scenario_id="dbg")


def grade(answer: dict[str, Any], tmp: Path, key_src: str | None = None) -> ScenarioReport:
    load = check_modules(tmp, {"checks/key.py": key_src or """
        def answer_key(params):
            return {"node": params["node"]}
    """})
    return grade_scenario(make_rubric(), answer, V, load_check=load)


def test_scores_weighted_by_points_and_manual_pending(tmp_path: Path) -> None:
    rep = grade({"cause": "thermal", "pct": 31, "node": "n3", "notes": "x"}, tmp_path)
    assert rep.score == pytest.approx(100 * 40 / 50)  # writeup pending: out of the score
    assert rep.dimensions == {"debugging": pytest.approx(75.0), "hardware_awareness": 100.0}
    assert rep.pending_review == ["writeup"]
    assert rep.grader_version == GRADER_VERSION
    assert [c.scorer for c in rep.criteria] == ["check:field"] * 3 + ["check:manual"]
    assert all(c.evidence for c in rep.criteria)


def test_broken_hidden_check_does_not_sink_the_other_criteria(tmp_path: Path) -> None:
    # notes answered: a blank manual field would score 0 (unanswered) instead of waiting.
    rep = grade({"cause": "thermal", "pct": 30, "node": "n7", "notes": "x"}, tmp_path,
                key_src="def answer_key(params):\n    raise RuntimeError('bug')\n")
    by_id = {c.criterion_id: c for c in rep.criteria}
    assert by_id["key"].status == "infra_error" and by_id["key"].gradable is False
    assert "bug" in by_id["key"].detail
    assert by_id["cause"].points == 30 and by_id["slowdown"].points == 10
    assert rep.score == 100.0  # infra errors are pending, not zero
    assert "key" in rep.pending_review


def test_grading_twice_gives_the_identical_report(tmp_path: Path) -> None:
    answer = {"cause": "Thermal", "pct": 27.5, "node": "n7", "notes": "text"}
    a, b = grade(answer, tmp_path), grade(dict(reversed(list(answer.items()))), tmp_path)
    assert a.model_dump() == b.model_dump()
    assert a.digest() == b.digest()


def test_digest_ignores_resource_use_but_not_scores(tmp_path: Path) -> None:
    load = check_modules(tmp_path, {
        "checks/cases.py": "def cases(params, n):\n    return list(range(n))\n",
        "checks/judge.py": "def judge(case, output, reference):\n    return output == case\n"})
    rub = rubric(criterion(id="code", check={
        "kind": "tests", "field": "code", "cases": "checks/cases.py",
        "judge": "checks/judge.py", "entrypoint": "s.py:f", "num_cases": 3}))
    answer = {"code": {"s.py": "def f(x):\n    return x\n"}}
    a = grade_scenario(rub, answer, V, ProcessRunner(), load_check=load)
    b = grade_scenario(rub, answer, V, ProcessRunner(), load_check=load)
    assert any(e.kind == "resource" for e in a.criteria[0].evidence)  # wall time: varies
    assert a.digest() == b.digest()
    c = grade_scenario(rub, {"code": {"s.py": "def f(x):\n    return 0\n"}}, V, ProcessRunner(),
                       load_check=load)
    assert c.digest() != a.digest()


def test_sanitize_and_restore() -> None:
    clean = restore(sanitize({"a": "x\r\ny\x00z", "b": None, "_grader": 1, "c": [1, "t"]}))
    assert clean == {"a": "x\nyz", "c": [1, "t"]}


def test_combine_weights_scenarios_not_points(tmp_path: Path) -> None:
    a = grade({"cause": "thermal", "pct": 30, "node": "n7", "notes": "x"}, tmp_path)  # 100
    b = grade({}, tmp_path).model_copy(update={"scenario_id": "other"})  # 0
    for c in b.criteria:
        c.scenario_id = "other"
    rep = combine([a, b], {"dbg": 3, "other": 1})
    assert rep.score == pytest.approx(75.0)
    assert [s.score for s in rep.scenarios] == [100.0, 0.0]
    # The answered write-up waits for a person; the blank one scored 0 (unanswered).
    assert "dbg/writeup" in rep.pending_review and "other/writeup" not in rep.pending_review
    assert len(rep.criteria) == 8


def _report(tmp_path: Path) -> Report:
    return combine([grade({"cause": "power", "pct": 30, "node": "n7", "notes": "t"},
                          tmp_path)])


def test_apply_manual_grades_a_manual_criterion(tmp_path: Path) -> None:
    rep = _report(tmp_path)
    assert rep.score == pytest.approx(100 * 20 / 50)
    new = apply_manual(rep, [ManualGrade(scenario_id="dbg", criterion_id="writeup",
                                         user_id="7", level="ok", reason="thin")])
    w = next(c for c in new.criteria if c.criterion_id == "writeup")
    assert (w.points, w.scorer, w.status, w.needs_review) == (5.0, "user:7", "reviewed", False)
    assert w.automated_points == 0.0 and w.automated_scorer == "check:manual"
    assert new.score == pytest.approx(100 * 25 / 60)
    assert new.pending_review == []
    assert rep.score == pytest.approx(40.0)  # the input report is unchanged


def test_override_keeps_the_automated_result_and_needs_a_reason(tmp_path: Path) -> None:
    rep = _report(tmp_path)
    with pytest.raises(GradeError, match="reason"):
        apply_manual(rep, [ManualGrade(scenario_id="dbg", criterion_id="cause", user_id="7",
                                       points=30)])
    new = apply_manual(rep, [ManualGrade(scenario_id="dbg", criterion_id="cause", user_id="7",
                                         points=15, reason="power cap is half right here")])
    c = next(c for c in new.criteria if c.criterion_id == "cause")
    assert (c.points, c.automated_points, c.automated_scorer, c.status) == \
        (15.0, 0.0, "check:field", "overridden")
    again = apply_manual(new, [ManualGrade(scenario_id="dbg", criterion_id="cause",
                                           user_id="8", points=30, reason="on reflection")])
    c2 = next(c for c in again.criteria if c.criterion_id == "cause")
    assert (c2.points, c2.automated_points, c2.scorer) == (30.0, 0.0, "user:8")


@pytest.mark.parametrize("grade_kw", [
    {"criterion_id": "nope", "level": "ok"},
    {"criterion_id": "writeup", "level": "excellent"},
    {"criterion_id": "writeup", "points": 11},
])
def test_bad_human_grades_are_rejected(tmp_path: Path, grade_kw: dict[str, Any]) -> None:
    with pytest.raises(GradeError):
        apply_manual(_report(tmp_path), [ManualGrade(scenario_id="dbg", user_id="1",
                                                     reason="r", **grade_kw)])


def test_manual_grade_needs_exactly_one_of_level_or_points() -> None:
    with pytest.raises(ValueError):
        ManualGrade(scenario_id="s", criterion_id="c", user_id="1")


@pytest.mark.parametrize("value", [None, 1, -1e308, float("nan"), "x" * 5000, [1, {"a": 2}],
                                   {"a": {"b": [1]}}, True, {"planner.py": 5}])
def test_answers_of_the_wrong_type_never_crash_grading(value: Any) -> None:
    from graders.engine import grade_answer
    from scenarios.loader import load_bank

    for sc in load_bank().scenarios.values():
        answer = {f.id: value for f in sc.manifest.answer.fields}
        rep = grade_answer(sc, 3, answer, None)
        ours = [c.criterion_id for c in rep.criteria
                if c.status == "infra_error" and "runner" not in c.detail]
        assert ours == []
        rep.model_dump_json()
