from __future__ import annotations

from pathlib import Path

import pytest

from graders.checks import field
from graders.checks.base import CheckSetupError
from graders.rubric import FieldCheck
from tests.graders.factory import check_modules, context


def fc(**kw: object) -> FieldCheck:
    return FieldCheck.model_validate({"kind": "field", "field": "f", **kw})


def test_exact_matches_text_ignoring_case_and_spaces() -> None:
    out = field.run(fc(expected={"param": "cause"}), 10,
                    context(answer={"f": "  Thermal_Throttle "}, params={"cause": "thermal_throttle"}))
    assert out.points == 10
    assert out.evidence[0].passed is True and out.evidence[0].expected == "thermal_throttle"


def test_exact_mismatch_earns_nothing() -> None:
    out = field.run(fc(expected={"param": "cause"}), 10,
                    context(answer={"f": "power_cap"}, params={"cause": "thermal_throttle"}))
    assert out.points == 0 and out.status == "graded" and out.evidence[0].passed is False


def test_exact_accepts_any_of_an_expected_list() -> None:
    check = fc(expected={"value": ["all", "cluster-wide"]})
    assert field.run(check, 4, context(answer={"f": "cluster-wide"})).points == 4


def test_unanswered_is_zero_and_certain() -> None:
    out = field.run(fc(expected={"value": "x"}), 5, context(answer={}))
    assert (out.points, out.status, out.confidence, out.needs_review) == (0, "unanswered", 1.0,
                                                                          False)


def test_set_gives_overlap_credit() -> None:
    check = fc(compare="set", expected={"value": ["a", "b", "c"]})
    out = field.run(check, 10, context(answer={"f": ["a", "b"]}))
    assert out.points == pytest.approx(10 * 2 / 3, abs=1e-3)
    assert "missing ['c']" in (out.evidence[0].text or "")
    assert field.run(check, 10, context(answer={"f": ["c", "b", "a"]})).points == 10


@pytest.mark.parametrize(("got", "credit"), [
    (100.0, 1.0),  # exact
    (104.0, 1.0),  # inside rel_tol 5%
    (110.0, 0.5),  # half-way between 5% (1.0) and 15% (0.0)
    (115.0, 0.0),
    (80.0, 0.0),
])
def test_numeric_tolerance_and_partial_curve(got: float, credit: float) -> None:
    check = fc(compare="numeric", expected={"value": 100}, rel_tol=0.05,
               partial=[{"error": 0.15, "credit": 0.0}])
    out = field.run(check, 10, context(answer={"f": got}))
    assert out.points == pytest.approx(10 * credit, abs=1e-3)


def test_numeric_partial_curve_with_several_points() -> None:
    check = fc(compare="numeric", expected={"value": 100}, abs_tol=1,
               partial=[{"error": 0.25, "credit": 0.5}, {"error": 0.5, "credit": 0.0}])
    assert field.run(check, 10, context(answer={"f": 125})).points == pytest.approx(5)
    assert field.run(check, 10, context(answer={"f": 62.5})).points == pytest.approx(2.5)
    assert field.run(check, 10, context(answer={"f": 40})).points == 0


def test_numeric_answer_that_is_not_a_number() -> None:
    check = fc(compare="numeric", expected={"value": 3}, abs_tol=1)
    out = field.run(check, 10, context(answer={"f": "about three"}))
    assert out.points == 0 and out.evidence[0].text == "not a number"


def test_expected_value_from_the_answer_key(tmp_path: Path) -> None:
    load = check_modules(tmp_path, {"checks/key.py": """
        def answer_key(params):
            return {"interval_min": params["mtbf_h"] * 2}
    """})
    check = fc(compare="numeric", expected={"key": "interval_min"}, rel_tol=0.1)
    ctx = context(answer={"f": 41}, params={"mtbf_h": 20}, load_check=load,
                  answer_key="checks/key.py")
    out = field.run(check, 10, ctx)
    assert out.points == 10 and out.evidence[0].expected == 40


def test_missing_parameter_is_our_error_not_the_candidates() -> None:
    with pytest.raises(CheckSetupError):
        field.run(fc(expected={"param": "nope"}), 10, context(answer={"f": "x"}))
