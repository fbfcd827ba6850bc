"""fault-tolerance-16k: the model reproduces the Llama 3 figures and the Poisson spare count,
the candidate's own choices set the consequences, and the cheap answers (echo the prompt's
figures, echo the published Llama 3 MTBF, the textbook "10% spares, checkpoint more often from
storage", keyword stuffing) land far below passing; every calibration answer (the 20 blind
ones included) sits in its band."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest

from graders.engine import grade_answer, score_of
from graders.hw import reliability
from scenarios.loader import Scenario

SID = "fault-tolerance-16k"
SECTIONS = ("health", "detection", "restart", "scale")
CALIBRATION = Path(__file__).resolve().parents[2] / "scenarios" / "fault_tolerance_16k" / "calibration"


def _model(scenario: Scenario) -> Any:
    return scenario.load_check("checks/ft_model.py")


def _params(scenario: Scenario, seed: int) -> dict[str, Any]:
    return dict(scenario.render(seed).params)


def test_llama3_figures() -> None:
    # 419 unexpected interruptions in 54 days on 16,384 GPUs: one every ~3.1 h for the
    # whole fleet (FORMULAS.md derives 3.09 h); a job on half the GPUs sees half as many.
    full = reliability.job_mtbf_h(419, 54, 16384, 16384)
    assert full == pytest.approx(54 * 24 / 419, rel=1e-9)
    assert full == pytest.approx(3.09, abs=0.01)
    assert reliability.job_mtbf_h(419, 54, 16384, 8192) == pytest.approx(2 * full)


@pytest.mark.parametrize("mean,target", [(0.5, 0.01), (12.1, 0.01), (12.1, 0.001),
                                         (40.0, 0.005)])
def test_spares_are_the_poisson_quantile(mean: float, target: float) -> None:
    s = reliability.spares_needed(mean, target)
    assert reliability.poisson_sf(s, mean) <= target
    assert reliability.poisson_sf(s - 1, mean) > target
    # P(X > 0) = 1 - e^-mean
    assert reliability.poisson_sf(0, mean) == pytest.approx(1 - 2.718281828459045 ** -mean)


def test_spare_count_is_far_below_ten_percent(scenario: Scenario) -> None:
    for seed in range(40):
        p = _params(scenario, seed)
        need = _model(scenario).spares_needed(p)
        assert 0 < need < 0.1 * p["num_nodes"] / 2, (seed, need, p["num_nodes"])


def test_restart_path_and_watchdog_set_the_consequences(scenario: Scenario) -> None:
    plan_input = scenario.load_check("checks/plan_input.py")
    for seed in range(20):
        p = _params(scenario, seed)
        best = _model(scenario).best(p)
        good = plan_input.assess(p, {"restart_path": best["restart_path"],
                                     "watchdog_min": best["watchdog_min"] + 2,
                                     "interval_min": best["interval_min"]})
        assert good["feasible"] and good["quality"] > 0.9, (seed, good["quality_text"])
        # The textbook plan: reload from the file system, checkpoint "more often" (5 min).
        textbook = plan_input.assess(p, {"restart_path": "storage", "watchdog_min": 30,
                                         "interval_min": 5})
        assert textbook["quality"] == 0.0, (seed, textbook["quality_text"])
        assert textbook["metrics"]["lost_pct"] > good["metrics"]["lost_pct"]
        # A watchdog below the longest legitimate wait kills healthy restarts.
        short = plan_input.assess(p, {"restart_path": "memory",
                                      "watchdog_min": p["longest_wait_min"] - 1,
                                      "interval_min": best["interval_min"]})
        assert not short["feasible"]
        # Twice the GPUs, same choices: more lost.
        assert good["metrics"]["lost_pct_2x"] > good["metrics"]["lost_pct"]


def _echo(p: dict[str, Any]) -> dict[str, Any]:
    return {"job_mtbf_h": p["fleet_days"], "spare_nodes": p["fleet_interruptions"],
            "restart_path": "storage", "watchdog_min": 30, "interval_min": p["relaunch_min"],
            "lost_per_interruption_min": p["relaunch_min"], "lost_pct": p["hang_pct"],
            "lost_pct_2x": p["hw_pct"],
            "writeup": {s: (f"The fleet has {p['fleet_gpus']} GPUs and recorded "
                            f"{p['fleet_interruptions']} interruptions in {p['fleet_days']} "
                            f"days; relaunch takes {p['relaunch_min']} minutes.")
                        for s in SECTIONS}}


def _llama_echo(p: dict[str, Any]) -> dict[str, Any]:
    """The published Llama 3 MTBF (3.1 h) whatever the job's size, with a sound plan."""
    return {"job_mtbf_h": 3.1, "spare_nodes": 20, "restart_path": "memory",
            "watchdog_min": 10, "interval_min": 10, "lost_per_interruption_min": 15,
            "lost_pct": 8, "lost_pct_2x": 16,
            "writeup": {s: "Llama 3 saw 419 interruptions in 54 days, one every 3.1 hours."
                        for s in SECTIONS}}


def _textbook(p: dict[str, Any]) -> dict[str, Any]:
    return {"job_mtbf_h": 24, "spare_nodes": p["num_nodes"] // 10, "restart_path": "storage",
            "watchdog_min": 30, "interval_min": 5, "lost_per_interruption_min": 30,
            "lost_pct": 10, "lost_pct_2x": 20,
            "writeup": {
                "health": "Run DCGM diagnostics and NCCL tests on the nodes and monitor errors.",
                "detection": "The NCCL watchdog catches hangs; the default timeout is fine.",
                "restart": "Keep 10% of the nodes as spares and restart from the last "
                           "checkpoint on the parallel file system.",
                "scale": "Larger jobs fail more often, so checkpoint more often to keep the "
                         "lost work small."}}


def _stuffed(p: dict[str, Any]) -> dict[str, Any]:
    words = ("Poisson, hot spare, DCGM level 3, burn-in, nccl-tests, Xid, ECC errors, "
             "row remapping, NCCL timeout, watchdog, flight recorder, heartbeat, in-memory "
             "checkpoint, peer copy, cordon, drain, Young, Daly, MTBF, goodput.")
    return {"job_mtbf_h": 5, "spare_nodes": 100, "restart_path": "memory",
            "watchdog_min": 30, "interval_min": 10, "lost_per_interruption_min": 10,
            "lost_pct": 10, "lost_pct_2x": 20, "writeup": {s: words for s in SECTIONS}}


@pytest.mark.parametrize("shortcut,ceiling", [(_echo, 5), (_llama_echo, 20),
                                              (_textbook, 20), (_stuffed, 15)])
def test_shortcuts_land_far_below_passing(scenario: Scenario, shortcut: Any,
                                          ceiling: float) -> None:
    scores: list[float] = []
    for seed in range(30):
        report = grade_answer(scenario, seed, shortcut(_params(scenario, seed)), None)
        scores.append(score_of(report.criteria) or 0.0)
    assert statistics.mean(scores) < ceiling, (shortcut.__name__, statistics.mean(scores))


def test_ten_percent_spares_earn_almost_nothing(scenario: Scenario) -> None:
    for seed in range(30):
        p = _params(scenario, seed)
        report = grade_answer(scenario, seed, {**_textbook(p), "job_mtbf_h": round(
            _model(scenario).mtbf_s(p) / 3600, 2)}, None)
        spares = next(c for c in report.criteria if c.criterion_id == "spares")
        assert spares.points <= 0.1 * spares.max_points + 1e-9, (seed, spares.detail)


@pytest.mark.parametrize("bad", [{"spare_nodes": "lots", "restart_path": "tape",
                                  "watchdog_min": -3, "interval_min": "often"},
                                 {"spare_nodes": 2.5, "restart_path": None,
                                  "watchdog_min": float("nan"), "interval_min": 0}])
def test_bad_plan_values_score_zero_not_an_error(scenario: Scenario,
                                                 bad: dict[str, Any]) -> None:
    report = grade_answer(scenario, 3, bad, None)
    for c in report.criteria:
        if c.criterion_id in ("spares", "plan", "consequences"):
            assert c.points == 0.0, (c.criterion_id, c.detail)


def _blind(scenario: Scenario, seed: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for path in sorted(CALIBRATION.glob(f"blind_s{seed}_*.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        report = grade_answer(scenario, case["seed"], case["answers"], None)
        out[path.name.removeprefix(f"blind_s{seed}_").removesuffix(".json")] = \
            score_of(report.criteria) or 0.0
    return out


@pytest.mark.parametrize("seed", [3, 8])
def test_blind_answers_rank_like_an_interviewer(scenario: Scenario, seed: int) -> None:
    s = _blind(scenario, seed)
    assert len(s) == 10, sorted(s)
    strong = [v for k, v in s.items() if k.startswith("strong")]
    weak = [s[k] for k in ("textbook", "wrong", "echo", "keyword_stuffed")]
    assert min(strong) >= 80 and max(weak) < 35, s
    assert min(strong) > s["medium"] > max(weak), s
    assert min(strong) > s["structured_only"] > max(weak), s
    # The same facts in other words (strong_1's paraphrase) move the score by at most 5.
    assert abs(s["strong_1"] - s["strong_1.paraphrase"]) <= 5, s
