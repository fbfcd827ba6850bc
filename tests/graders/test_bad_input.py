"""Bad input to the grader: huge texts, binary, every field empty, numbers like 1e400 and
NaN, broken Unicode. Each gets a zero with a reason or is read up to a cap; none crashes
and none becomes an infra_error of ours."""

from __future__ import annotations

import json
from typing import Any

import pytest

from graders.engine import grade_scenario, sanitize
from graders.report import ScenarioReport
from tests.graders.factory import criterion, rubric, variant

RUBRIC = rubric(
    criterion(id="num", check={"kind": "field", "field": "n", "compare": "numeric",
                               "expected": {"value": 53}, "rel_tol": 0.1}),
    criterion(id="pick", check={"kind": "field", "field": "c",
                                "expected": {"value": "thermal"}}),
    criterion(id="text", check={"kind": "concepts", "field": "t", "concepts": [
        {"id": "drain", "phrasings": ["drain the node"],
         "exemplars": ["Take the broken host out of the job before restarting."]}]}),
)


def grade(answer: dict[str, Any]) -> ScenarioReport:
    rep = grade_scenario(RUBRIC, answer, variant(params={"node": "node-17"}))
    assert [c.criterion_id for c in rep.criteria if c.status == "infra_error"] == []
    json.loads(rep.model_dump_json())  # the report always serializes (no inf/NaN inside)
    return rep


def points(rep: ScenarioReport, cid: str) -> float:
    return next(c.points for c in rep.criteria if c.criterion_id == cid)


def test_every_field_empty_is_a_zero_with_a_reason() -> None:
    for answer in ({}, {"n": None, "c": "", "t": "   "}, {"t": {"a": "", "b": " "}}):
        rep = grade(answer)
        assert rep.score == 0
        assert all(c.status == "unanswered" and c.detail for c in rep.criteria)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), 10**400,
                                   json.loads("1e400"), "1e400", "NaN"])
def test_numbers_like_1e400_and_nan_score_zero(value: Any) -> None:
    rep = grade({"n": value, "c": value, "t": str(value)})
    assert points(rep, "num") == 0
    assert rep.score == 0


def test_non_finite_numbers_are_dropped_by_sanitize() -> None:
    assert sanitize({"a": float("nan"), "b": float("inf"), "c": [1.5, float("-inf")],
                     "d": 10**400}) == {"a": None, "b": None, "c": [1.5, None], "d": None}


def test_huge_text_is_capped_and_said_so() -> None:
    text = "We drain the node at once and restart from the checkpoint. " * 200_000  # 12 MB
    rep = grade({"t": text})
    c = next(c for c in rep.criteria if c.criterion_id == "text")
    assert c.points > 0
    assert "only the first" in c.detail and c.confidence <= 0.5


def test_one_huge_sentence_and_a_single_huge_word() -> None:
    for text in ("drain the node " + "x" * 99_000, "a, " * 40_000):
        rep = grade({"t": text})
        assert rep.criteria[2].status == "graded"


@pytest.mark.parametrize("value", [b"\x00\xff\xfe binary", bytearray(b"\x89PNG\r\n"),
                                   "\x00\x01\x02\x7f drain the node", "\ud800\udfff lone surrogates",
                                   "\u202e\u200b bidi and zero-width drain the node",
                                   {"nested": {"deep": {"deeper": {"deepest": {"x": "y"}}}}},
                                   [["a"] * 5000], object()])
def test_binary_and_odd_values_never_crash(value: Any) -> None:
    rep = grade({"n": value, "c": value, "t": value})
    assert rep.score is not None
