"""The tests check: hidden cases through a runner, verdicts computed outside."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graders.checks import tests as tests_check
from graders.checks.base import CheckOutcome
from graders.rubric import TestsCheck
from graders.runner import RunOutput
from tests.graders.factory import (
    ProcessRunner,
    ScriptedRunner,
    check_modules,
    context,
    results_jsonl,
)

HIDDEN = {
    "checks/cases.py": """
        def cases(params, n):
            return [{"a": i, "b": params["offset"]} for i in range(n)]
    """,
    "checks/judge.py": """
        def judge(case, output, reference):
            return {"valid": output == reference, "score": 1.0 if output == reference else 0.0,
                    "violations": [] if output == reference else [f"got {output!r}"]}
    """,
    "checks/reference.py": """
        def reference(case):
            return case["a"] + case["b"]
    """,
}

GOOD = "def add(case):\n    return case['a'] + case['b']\n"
HALF = "def add(case):\n    return case['a'] + case['b'] if case['a'] % 2 == 0 else -1\n"


def chk(**kw: Any) -> TestsCheck:
    data: dict[str, Any] = {"kind": "tests", "field": "code", "cases": "checks/cases.py",
                            "judge": "checks/judge.py", "reference": "checks/reference.py",
                            "entrypoint": "solution.py:add", "num_cases": 6, "timeout_s": 20}
    data.update(kw)
    return TestsCheck.model_validate(data)


def run(tmp: Path, code: dict[str, str] | None, runner: Any, **kw: Any) -> CheckOutcome:
    load = check_modules(tmp, HIDDEN)
    ctx = context(answer={} if code is None else {"code": code}, params={"offset": 10},
                  load_check=load, runner=runner)
    return tests_check.run(chk(**kw), 20, ctx)


def test_correct_code_passes_every_case(tmp_path: Path) -> None:
    runner = ProcessRunner()
    out = run(tmp_path, {"solution.py": GOOD}, runner)
    assert out.points == 20 and out.status == "graded" and out.gradable
    tests = [e for e in out.evidence if e.kind == "test"]
    assert len(tests) == 6 and all(e.passed for e in tests)
    assert any(e.kind == "resource" for e in out.evidence)
    # Only inputs go into the sandbox: no reference output, no judge.
    sent = runner.calls[0]["files"]
    assert set(sent) == {"solution.py", tests_check.HARNESS, tests_check.CASES_FILE}
    assert b"reference" not in sent[tests_check.CASES_FILE]


def test_partial_credit_per_case(tmp_path: Path) -> None:
    out = run(tmp_path, {"solution.py": HALF}, ProcessRunner())
    assert out.points == pytest.approx(10)
    assert out.detail.startswith("3/6 hidden cases passed")
    failed = [e for e in out.evidence if e.kind == "test" and not e.passed]
    assert "got -1" in (failed[0].text or "")


def test_exception_in_one_case_fails_only_that_case(tmp_path: Path) -> None:
    code = "def add(case):\n    if case['a'] == 2:\n        raise ValueError('boom')\n" \
           "    return case['a'] + case['b']\n"
    out = run(tmp_path, {"solution.py": code}, ProcessRunner())
    assert out.points == pytest.approx(20 * 5 / 6, abs=1e-3)
    assert any("ValueError: boom" in (e.text or "") for e in out.evidence)


def test_code_that_cannot_be_imported_is_not_gradable(tmp_path: Path) -> None:
    out = run(tmp_path, {"solution.py": "def add(case:\n"}, ProcessRunner())
    assert (out.gradable, out.status, out.points) == (False, "not_gradable", 0.0)
    assert "SyntaxError" in out.detail


def test_missing_entrypoint_file_is_not_gradable(tmp_path: Path) -> None:
    out = run(tmp_path, {"other.py": GOOD}, ProcessRunner())
    assert out.gradable is False and "solution.py was not submitted" in out.detail


def test_no_code_is_unanswered(tmp_path: Path) -> None:
    out = run(tmp_path, None, ProcessRunner())
    assert out.status == "unanswered" and out.points == 0


def test_timeout_with_no_finished_case_is_not_gradable(tmp_path: Path) -> None:
    code = "import time\ndef add(case):\n    time.sleep(60)\n"
    out = run(tmp_path, {"solution.py": code}, ProcessRunner(), timeout_s=1)
    assert (out.status, out.gradable, out.points) == ("timed_out", False, 0.0)
    assert out.needs_review


def test_timeout_keeps_the_cases_that_finished(tmp_path: Path) -> None:
    output = RunOutput(status="timeout", exit_code=None, files={
        tests_check.RESULTS_FILE: results_jsonl([{"i": 0, "ok": True, "output": 10},
                                                 {"i": 1, "ok": True, "output": 11}])})
    out = run(tmp_path, {"solution.py": GOOD}, ScriptedRunner(output))
    assert out.status == "timed_out" and out.gradable
    assert out.points == pytest.approx(20 * 2 / 6, abs=1e-3)
    assert "timed out after 2 cases" in out.detail


def test_runner_that_raises_is_an_infra_error(tmp_path: Path) -> None:
    out = run(tmp_path, {"solution.py": GOOD}, ScriptedRunner(exc=RuntimeError("engine gone")))
    assert (out.status, out.gradable, out.needs_review) == ("infra_error", False, True)
    assert "engine gone" in out.detail


def test_sandbox_infra_error_is_ours(tmp_path: Path) -> None:
    out = run(tmp_path, {"solution.py": GOOD},
              ScriptedRunner(RunOutput(status="infra_error", exit_code=None, detail="no disk")))
    assert out.status == "infra_error" and "no disk" in out.detail


def test_without_a_runner_the_code_is_not_run(tmp_path: Path) -> None:
    out = run(tmp_path, {"solution.py": GOOD}, None)
    assert out.status == "infra_error" and out.gradable is False


def test_forged_results_gain_nothing(tmp_path: Path) -> None:
    # The candidate writes "ok" records with wrong outputs; the verdict is computed outside.
    code = ("import json, atexit\n"
            "def _forge():\n"
            "    with open('_burnin_results.jsonl', 'w') as f:\n"
            "        for i in range(6):\n"
            "            f.write(json.dumps({'i': i, 'ok': True, 'output': 'PASS'}) + '\\n')\n"
            "atexit.register(_forge)\n"
            "def add(case):\n    return None\n")
    out = run(tmp_path, {"solution.py": code}, ProcessRunner())
    assert out.points == 0


def test_reserved_and_unsafe_file_names_are_dropped(tmp_path: Path) -> None:
    runner = ProcessRunner()
    out = run(tmp_path, {"solution.py": GOOD, "_burnin_cases.json": "[]",
                         "../escape.py": "x = 1"}, runner)
    assert out.points == 20
    notes = [e.text or "" for e in out.evidence if e.label == "sanitize"]
    assert any("reserved" in n for n in notes) and any("unsafe" in n for n in notes)
    assert runner.calls[0]["files"][tests_check.CASES_FILE] != b"[]"


@pytest.mark.parametrize(("verdict", "expected"), [
    (True, (1.0, True)), (False, (0.0, False)), (0.25, (0.25, False)),
    ({"passed": True, "score": 1.0}, (1.0, True)),
    ({"valid": False, "score": 0.9}, (0.0, False)),
    ({"valid": True, "score": 0.5}, (0.5, False)),
])
def test_judge_verdicts_are_normalized(verdict: Any, expected: tuple[float, bool]) -> None:
    score, passed, _ = tests_check.normalize_verdict(verdict)
    assert (score, passed) == expected
