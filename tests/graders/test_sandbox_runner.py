"""server/notebooks/runner.py: the tests check through the real Docker sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from graders.checks import tests as tests_check
from graders.rubric import TestsCheck
from graders.runner import RunLimits
from tests.graders.factory import check_modules, context

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def runner():  # type: ignore[no-untyped-def]
    from server.notebooks.runner import try_build_runner

    built, why = try_build_runner("docker")
    if built is None:
        pytest.skip(f"no Docker sandbox: {why}")
    return built


def test_adapter_returns_status_and_output_files(runner) -> None:  # type: ignore[no-untyped-def]
    out = runner.run({"a.py": b"open('out.txt','w').write('hi')\nprint('done')\n"},
                     ["python3", "a.py"], RunLimits(wall_s=20), ["out.txt", "missing.txt"])
    assert out.status == "ok" and out.exit_code == 0 and "done" in out.stdout
    assert out.files["out.txt"] == b"hi" and out.files["missing.txt"] is None


def test_adapter_reports_timeout(runner) -> None:  # type: ignore[no-untyped-def]
    out = runner.run({"a.py": b"import time\ntime.sleep(30)\n"}, ["python3", "a.py"],
                     RunLimits(wall_s=1), [])
    assert out.status == "timeout"


def test_tests_check_in_the_sandbox(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    load = check_modules(tmp_path, {
        "checks/cases.py": "def cases(params, n):\n    return list(range(n))\n",
        "checks/judge.py": "def judge(case, output, reference):\n    return output == case * 2\n",
    })
    check = TestsCheck.model_validate({
        "kind": "tests", "field": "code", "cases": "checks/cases.py", "judge": "checks/judge.py",
        "entrypoint": "s.py:f", "num_cases": 4, "timeout_s": 30})
    ctx = context(answer={"code": {"s.py": "def f(x):\n    return x * 2 if x < 3 else 0\n"}},
                  load_check=load, runner=runner)
    out = tests_check.run(check, 8, ctx)
    assert out.points == 6 and out.detail.startswith("3/4 hidden cases passed")
    assert any(e.kind == "resource" for e in out.evidence)
