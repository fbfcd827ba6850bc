"""Every shipped calibration answer lands in its band when the rubric engine grades it."""

from __future__ import annotations

import pytest

from scenarios.loader import load_bank
from scenarios.selftest import run_selftest


def _bands(sid: str, runner: object | None = None) -> list[str]:
    res = run_selftest(load_bank().get(sid), seeds=0, determinism_seeds=0, view_seeds=0,
                       runner=runner, grade=True)  # type: ignore[arg-type]
    assert {c.role for c in res.calibration} >= {"reference", "empty", "wrong",
                                                 "keyword_stuffed"}
    return [str(c) for c in res.calibration if not c.ok] + res.problems


@pytest.mark.parametrize("sid", ["debug-slow-run", "train-large-dense"])
def test_calibration_answers_land_in_their_bands(sid: str) -> None:
    assert _bands(sid) == []


@pytest.mark.slow
def test_code_scenario_calibration_in_bands_with_the_sandbox() -> None:
    from server.notebooks.runner import try_build_runner

    runner, why = try_build_runner()
    if runner is None:
        pytest.skip(f"no sandbox backend here: {why}")
    assert _bands("serving-fleet-planner", runner) == []


def test_a_reference_answer_with_the_wrong_culprit_leaves_its_band() -> None:
    s = load_bank().get("debug-slow-run")
    from graders.engine import grade_answer, score_of

    case = s.calibration["reference.json"]
    answers = {**case.answers, "cause_family": "power_cap", "culprit_gpu": "6"}
    report = grade_answer(s, case.seed, answers, None)
    assert score_of(report.criteria) < case.band.min
