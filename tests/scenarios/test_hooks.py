"""scenarios/hooks.py: a scenario's files reach their siblings, and the self-check hooks'
grading shortcut (write-ups stood in for when the cause is wrong) gives the engine's score."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scenarios.hooks import STAND_IN, SelfCheck, ShortcutTally, sibling
from tests.scenarios.factory import graded

WRITE_UP = {"evidence": "Per-rank timings and the logs; the decoys are ruled out on every host.",
            "fix": "Drain the host, replace the part, and rerun the job.",
            "verification": "Rerun the acceptance test and compare with the baseline."}


def _wrong_answers(sid: str, v: Any, grep: Any) -> list[dict[str, Any]]:
    if sid == "debug-slow-run":
        return [grep.solve(v.artifacts, v.params["slowdown_words"])]
    if sid == "fabric-bring-up":
        return [grep.solve(v.artifacts, job_hosts_only=True)]
    return [grep.solve(v.artifacts, name) for name, _ in grep.SHORTCUTS]


@pytest.mark.parametrize(("sid", "key"), [("debug-slow-run", "cause_family"),
                                          ("fabric-bring-up", "cause_family"),
                                          ("silent-data-corruption", "culprit_node")])
def test_the_hook_shortcut_gives_the_engine_score(shipped_bank: Any, sid: str, key: str) -> None:
    scenario = shipped_bank.get(sid)
    hook = scenario.load_check("checks/selftest.py")
    grep = scenario.load_check("checks/grep_solver.py")
    wrong_seen = 0
    for seed in range(3):
        v = scenario.render(seed)
        for ans in _wrong_answers(sid, v, grep):
            ans = {**ans, **WRITE_UP}
            wrong_seen += ans[key] != v.params[key]
            full, _ = graded(scenario, v, ans)
            assert hook.grade(v, ans) == pytest.approx(full.score or 0.0), (seed, ans[key])
    assert wrong_seen > 0  # the stand-in path was taken


def test_a_blank_write_up_stays_blank(shipped_bank: Any) -> None:
    """The stand-in replaces only what the candidate wrote: a blank field stays blank."""
    scenario = shipped_bank.get("debug-slow-run")
    check = SelfCheck(scenario.path / "checks" / "selftest.py")
    v = scenario.render(0)
    seen: list[dict[str, Any]] = []

    import graders.engine as engine
    real = engine.grade_scenario

    def spy(rubric: Any, answer: dict[str, Any], *a: Any, **k: Any) -> Any:
        seen.append(dict(answer))
        return real(rubric, answer, *a, **k)

    engine.grade_scenario = spy  # type: ignore[assignment]
    try:
        check.grade(v, {"cause_family": "not-it", "evidence": "  ", "fix": "drain it"},
                    key="cause_family", text_fields=("evidence", "fix"))
    finally:
        engine.grade_scenario = real  # type: ignore[assignment]
    assert seen == [{"cause_family": "not-it", "evidence": "  ", "fix": STAND_IN}]


def test_sibling_loads_a_file_relative_to_its_anchor(tmp_path: Path) -> None:
    (tmp_path / "checks").mkdir()
    (tmp_path / "formats.py").write_text("WHO = 'formats'\n")
    (tmp_path / "checks" / "cases.py").write_text("WHO = 'cases'\n")
    anchor = tmp_path / "generate.py"
    assert sibling(anchor, "formats.py").WHO == "formats"
    assert sibling(anchor, "checks/cases.py").WHO == "cases"
    assert sibling(tmp_path / "checks" / "x.py", "../formats.py").WHO == "formats"
    with pytest.raises(FileNotFoundError):
        sibling(anchor, "missing.py")


def test_shortcut_tally_reports_and_flags_the_bounded_shortcut() -> None:
    tally = ShortcutTally({"grep": "grep-only solver", "loose": "loose grep (not bounded)"},
                          bounded="grep", max_mean=30.0, full_label="cause+node")
    for score, right in ((40.0, True), (30.0, False)):
        tally.record("grep", score, right, full_right=False)
        tally.record("loose", 90.0, True)
    tally.decoy("a", True)
    tally.decoy("a", False)
    tally.decoy("b", True)
    lines = tally.lines()
    assert lines[0] == ("grep-only solver: mean score 35.0 over 2 seeds, cause found on 1/2, "
                        "cause+node on 0/2")
    assert lines[1] == "PROBLEM: grep-only solver mean 35.0 is not under 30"
    assert lines[2] == "loose grep (not bounded): mean score 90.0 over 2 seeds, cause found on 2/2"
    assert not any(line.startswith("PROBLEM: loose") for line in lines)  # not bounded
    assert lines[3].endswith("lowest a 50%, b 100%")
    tally.reset()
    assert tally.lines() == []
    with pytest.raises(ValueError, match="bounded"):
        ShortcutTally({"grep": "g"}, bounded="nope", max_mean=1.0)
