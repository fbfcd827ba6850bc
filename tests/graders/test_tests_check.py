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
    res = next(e for e in out.evidence if e.kind == "resource")
    assert res.value["status"] == "ok" and len(res.value["case_wall_s"]) == 6
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
    failed = [e for e in out.evidence if e.kind == "test" and not e.passed]
    assert len(failed) == 1 and failed[0].value == "raised ValueError: boom"


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
    code = "import time\ntime.sleep(60)\ndef add(case):\n    return 0\n"  # hangs on import
    out = run(tmp_path, {"solution.py": code}, ProcessRunner(), timeout_s=1)
    assert (out.status, out.gradable, out.points) == ("timed_out", False, 0.0)
    assert out.needs_review


def test_code_that_hangs_on_every_case_is_stopped_case_by_case(tmp_path: Path) -> None:
    code = "def add(case):\n    while True:\n        pass\n"
    out = run(tmp_path, {"solution.py": code}, ProcessRunner(), timeout_s=4)
    assert (out.status, out.gradable, out.points) == ("graded", True, 0.0)
    assert "6 case(s) stopped at their time share" in out.detail
    assert all("did not finish within its time share" in str(e.value)
               for e in out.evidence if e.kind == "test")


def test_timeout_keeps_the_cases_that_finished(tmp_path: Path) -> None:
    output = RunOutput(status="timeout", exit_code=None, files={
        tests_check.RESULTS_FILE: results_jsonl([{"i": 0, "ok": True, "output": 10},
                                                 {"i": 1, "ok": True, "output": 11}])})
    out = run(tmp_path, {"solution.py": GOOD}, ScriptedRunner(output))
    assert out.status == "timed_out" and out.gradable and not out.needs_review
    assert out.points == pytest.approx(20 * 2 / 6, abs=1e-3)
    assert "timed out after 2 cases (on case 2)" in out.detail
    tests = [e for e in out.evidence if e.kind == "test"]
    assert [e.passed for e in tests] == [True, True, False, False, False, False]
    assert "timed out before this case" in str(tests[2].value)


def test_a_real_hang_on_one_case_keeps_the_others(tmp_path: Path) -> None:
    code = "import time\ndef add(case):\n    if case['a'] == 4:\n        time.sleep(60)\n" \
           "    return case['a'] + case['b']\n"
    out = run(tmp_path, {"solution.py": code}, ProcessRunner(), timeout_s=6)
    # Case 4 is stopped at its time share and case 5 still runs: only case 4 is lost.
    assert out.status == "graded" and out.gradable
    assert out.points == pytest.approx(20 * 5 / 6, abs=1e-3)
    tests = [e for e in out.evidence if e.kind == "test"]
    assert [e.passed for e in tests] == [True, True, True, True, False, True]
    assert "time share" in str(tests[4].value)


def test_case_evidence_shows_input_expected_and_actual(tmp_path: Path) -> None:
    out = run(tmp_path, {"solution.py": HALF}, ProcessRunner())
    tests = [e for e in out.evidence if e.kind == "test"]
    first, second = tests[0], tests[1]
    assert first.label == "case 0" and first.text == 'input: {"a":0,"b":10}'
    assert (first.value, first.expected, first.passed) == ("10", "10", True)
    assert (second.value, second.expected, second.passed) == ("-1", "11", False)
    assert second.text == 'input: {"a":1,"b":10} | got -1'


def test_scenario_summary_and_judge_descriptions_are_used(tmp_path: Path) -> None:
    hidden = dict(HIDDEN)
    hidden["checks/cases.py"] = """
        def cases(params, n):
            return [{"id": f"pair-{i}", "a": i, "b": params["offset"]} for i in range(n)]
        def summary(case):
            return f"add {case['a']} and {case['b']}"
    """
    hidden["checks/judge.py"] = """
        def judge(case, output, reference):
            return {"valid": output == reference, "expected": f"sum {reference}",
                    "actual": f"returned {output}"}
    """
    load = check_modules(tmp_path, hidden)
    ctx = context(answer={"code": {"solution.py": HALF}}, params={"offset": 10},
                  load_check=load, runner=ProcessRunner())
    out = tests_check.run(chk(), 20, ctx)
    case1 = [e for e in out.evidence if e.kind == "test"][1]
    assert case1.label == "case 1: pair-1" and case1.text == "input: add 1 and 10"
    assert (case1.value, case1.expected) == ("returned -1", "sum 11")


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


# -- real sandboxes: the serving scenario's planner, hanging on one hidden case -------------

SERVING = "serving-fleet-planner"
HANG_ON = "case-002"


def _sandbox_runner(kind: str) -> Any:
    from server.notebooks.runner import SandboxRunner
    from tests.sandbox.support import make_bwrap_backend, make_docker_backend

    backend = make_docker_backend() if kind == "docker" else make_bwrap_backend()
    return SandboxRunner(backend)  # type: ignore[arg-type]


def _planner_files(hang: str) -> dict[str, str]:
    """The scenario's own reference planner as the candidate's code, made to hang on the
    hidden case whose id starts with HANG_ON (hang: "" none, "loop" a plain loop that the
    harness can stop, "unstoppable" one that ignores SIGALRM so only the wall clock ends it)."""

    folder = Path(__file__).resolve().parents[2] / "scenarios" / "serving_fleet_planner" / "checks"
    src = (folder / "reference.py").read_text()
    # The reference loads its judge through scenarios.hooks, which exists on the grading host
    # only; a candidate's planner imports its sibling module plainly.
    loader = 'from scenarios.hooks import sibling\n\n_judge = sibling(__file__, "judge.py")\n'
    assert loader in src, "reference.py no longer loads judge.py the way this test rewrites"
    src = src.replace(loader, "import judge as _judge\n")
    hook = {"": "        pass\n", "loop": "        while True:\n            pass\n",
            "unstoppable": "        import signal\n"
                           "        signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                           "        while True:\n            pass\n"}[hang]
    src += ("\n\n_plan = plan\n\n\ndef plan(case):\n"
            f"    if str(case.get('id', '')).startswith({HANG_ON!r}):\n{hook}"
            "    return _plan(case)\n")
    return {"planner.py": src, "judge.py": (folder / "judge.py").read_text()}


def _grade_planner(runner: Any, hang: str, wall_s: float) -> Any:
    from graders.engine import grade_scenario
    from graders.runner import RunLimits
    from scenarios.loader import load_bank

    sc = load_bank().scenarios[SERVING]
    report = grade_scenario(sc.rubric, {"code": _planner_files(hang)}, sc.render(11), runner,
                            load_check=sc.load_check, limits=RunLimits(wall_s=wall_s))
    return next(c for c in report.criteria if c.criterion_id == "planner")


@pytest.mark.parametrize("kind", [pytest.param("docker", marks=pytest.mark.docker),
                                  pytest.param("bwrap", marks=pytest.mark.bwrap)])
def test_a_planner_that_hangs_on_one_hidden_case_keeps_the_others(kind: str) -> None:
    runner = _sandbox_runner(kind)
    good = _grade_planner(runner, "", 30)
    hung = _grade_planner(runner, "loop", 20)
    unstoppable = _grade_planner(runner, "unstoppable", 10)
    cases_good = [e for e in good.evidence if e.kind == "test"]
    n = len(cases_good)
    assert n >= 6 and all(e.passed for e in cases_good), good.detail
    assert good.points == pytest.approx(good.max_points)
    # Stopped at its time share: only the hanging case is lost.
    cases_hung = [e for e in hung.evidence if e.kind == "test"]
    lost = [e.label for e in cases_hung if not e.passed]
    assert len(lost) == 1 and HANG_ON in lost[0], hung.detail
    assert hung.points == pytest.approx(good.max_points * (n - 1) / n, abs=0.01)
    # A hang the harness cannot stop runs into the sandbox's wall clock: the cases finished
    # before it are salvaged from the sandbox and keep their credit.
    assert unstoppable.status == "timed_out" and unstoppable.gradable, unstoppable.detail
    cases_unst = [e for e in unstoppable.evidence if e.kind == "test"]
    assert [e.passed for e in cases_unst[:2]] == [True, True]
    assert not any(e.passed for e in cases_unst[2:])
    assert unstoppable.points == pytest.approx(good.max_points * 2 / n, abs=0.01)
    assert "timed out before this case" in str(cases_unst[2].value)
    assert cases_unst[0].text and cases_unst[0].text.startswith("input: ")


@pytest.mark.docker
def test_a_planner_that_crashes_on_infeasible_instances_loses_those_cases_only() -> None:
    from scenarios.loader import load_bank

    sc = load_bank().scenarios[SERVING]
    cases = sc.load_check("checks/cases.py").cases(sc.render(11).params, 24)
    ref = sc.load_check("checks/reference.py")
    with_infeasible = {i for i, c in enumerate(cases) if ref.reference(c)["infeasible"]}
    assert 0 < len(with_infeasible) < len(cases)
    files = _planner_files("")
    files["planner.py"] += ("\n\n_placed = plan\n\n\ndef plan(case):\n"
                            "    out = _placed(case)\n"
                            "    if out['infeasible']:\n"
                            "        raise ValueError('cannot place ' + out['infeasible'][0]['model'])\n"
                            "    return out\n")
    from graders.engine import grade_scenario
    from graders.runner import RunLimits
    report = grade_scenario(sc.rubric, {"code": files}, sc.render(11), _sandbox_runner("docker"),
                            load_check=sc.load_check, limits=RunLimits(wall_s=30))
    crit = next(c for c in report.criteria if c.criterion_id == "planner")
    tests = [e for e in crit.evidence if e.kind == "test"]
    assert {i for i, e in enumerate(tests) if not e.passed} == with_infeasible
    assert all(str(tests[i].value).startswith("raised ValueError") for i in with_infeasible)
    assert crit.points == pytest.approx(60 * (24 - len(with_infeasible)) / 24, abs=0.01)
    assert crit.status == "graded"


DRIVER = """
    import time
    CLOCK = time.perf_counter  # taken before the candidate's module is imported

    def run(entry, case):
        counter = entry(case["b"])
        return [counter.next() for _ in range(case["a"] + 1)][-1]
"""
COUNTER = ("class Counter:\n    def __init__(self, start):\n        self.v = start - 1\n"
           "    def next(self):\n        self.v += 1\n        return self.v\n")


def test_a_driver_exercises_the_candidates_object(tmp_path: Path) -> None:
    load = check_modules(tmp_path, {**HIDDEN, "checks/driver.py": DRIVER})
    runner = ProcessRunner()
    ctx = context(answer={"code": {"solution.py": COUNTER}}, params={"offset": 10},
                  load_check=load, runner=runner)
    out = tests_check.run(chk(entrypoint="solution.py:Counter", driver="checks/driver.py"),
                          20, ctx)
    assert out.points == 20 and out.status == "graded"
    sent = runner.calls[0]["files"]
    assert set(sent) == {"solution.py", tests_check.HARNESS, tests_check.CASES_FILE,
                         tests_check.DRIVER}
    assert runner.calls[0]["command"][-1] == tests_check.DRIVER


def test_a_driver_cannot_be_replaced_by_the_candidate(tmp_path: Path) -> None:
    load = check_modules(tmp_path, {**HIDDEN, "checks/driver.py": DRIVER})
    ctx = context(answer={"code": {"solution.py": COUNTER,
                                   "_burnin_driver.py": "def run(e, c):\n    return 0\n"}},
                  params={"offset": 10}, load_check=load, runner=ProcessRunner())
    out = tests_check.run(chk(entrypoint="solution.py:Counter", driver="checks/driver.py"),
                          20, ctx)
    assert out.points == 20
    assert any("reserved" in (e.text or "") for e in out.evidence)


def test_a_candidate_module_that_fails_to_import_under_a_driver_is_not_gradable(
        tmp_path: Path) -> None:
    load = check_modules(tmp_path, {**HIDDEN, "checks/driver.py": DRIVER})
    ctx = context(answer={"code": {"solution.py": "raise ImportError('nope')\n"}},
                  params={"offset": 10}, load_check=load, runner=ProcessRunner())
    out = tests_check.run(chk(entrypoint="solution.py:Counter", driver="checks/driver.py"),
                          20, ctx)
    assert out.status == "not_gradable" and "nope" in out.detail
