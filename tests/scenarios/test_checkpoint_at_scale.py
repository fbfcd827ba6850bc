"""checkpoint-at-scale: the answer key reproduces published figures, and the cheap ways to
fill the numeric fields (echo the prompt's numbers, rules of thumb) land far below passing."""

from __future__ import annotations

import statistics
from typing import Any

import pytest

from graders.engine import grade_answer, score_of
from scenarios.loader import Scenario

SID = "checkpoint-at-scale"
NUMERIC = ["ckpt_size", "sync_write", "async_stall", "job_mtbf", "interval", "lost_time"]


def _key(scenario: Scenario, **params: Any) -> dict[str, Any]:
    from scenarios.loader import load_module
    gen = load_module(scenario.path / "generate.py", "_ckpt_gen_test")
    full = {**params, **gen.generate(0, params)["params"]}
    return dict(scenario.load_check("checks/answer_key.py").answer_key(full))


def test_llama3_scale_figures(scenario: Scenario) -> None:
    # Meta's Llama 3 report: 419 unexpected interruptions in 54 days on 16,384 GPUs, i.e.
    # one every ~3.1 hours for a job on the whole fleet; 405B x 14 B of model state = 5.7 TB.
    key = _key(scenario, model_name="dense-405b", num_gpus=16384, pfs_write_gbs=500,
               node_storage_gbit=100, d2h_gbs=16, fleet_interruptions=419, relaunch_min=10)
    assert key["job_mtbf_h"] == pytest.approx(54 * 24 / 419, rel=1e-3)
    assert key["ckpt_tb"] == pytest.approx(5.683, rel=1e-3)
    assert key["sync_write_s"] == pytest.approx(5683 / 500, rel=1e-3)
    # Half the job, half the interruptions: the MTBF doubles.
    half = _key(scenario, model_name="dense-405b", num_gpus=8192, pfs_write_gbs=500,
                node_storage_gbit=100, d2h_gbs=16, fleet_interruptions=419, relaunch_min=10)
    assert half["job_mtbf_h"] == pytest.approx(2 * key["job_mtbf_h"], rel=1e-3)


def test_slow_node_links_bind_the_write_where_they_are_the_smaller_pipe(
        scenario: Scenario) -> None:
    key = _key(scenario, model_name="dense-70b", num_gpus=2048, pfs_write_gbs=1200,
               node_storage_gbit=25, d2h_gbs=24, fleet_interruptions=300, relaunch_min=4)
    assert key["write_bound"] == "node storage links"
    assert key["sync_write_s"] == pytest.approx(70.6e9 * 14 / (256 * 25 / 8 * 1e9), abs=0.01)


def _echo(params: dict[str, Any]) -> dict[str, Any]:
    """Numbers lifted from the prompt with no derivation."""
    return {"ckpt_tb": params["model"]["params_b"], "sync_write_s": params["pfs_write_gbs"],
            "async_stall_ms": params["d2h_gbs"], "job_mtbf_h": params["fleet_interruptions"],
            "interval_min": params["relaunch_min"], "lost_pct": 1,
            "writeup": {s: "See the numbers above." for s in
                        ("writes", "storage", "failures", "validation")}}


def _rules_of_thumb(params: dict[str, Any]) -> dict[str, Any]:
    """The textbook answer: 2 bytes per parameter, checkpoint every 30 min, 95% goodput."""
    size_tb = params["model"]["params_b"] * 2 / 1000
    return {"ckpt_tb": size_tb, "sync_write_s": size_tb * 1000 / params["pfs_write_gbs"],
            "async_stall_ms": 0, "job_mtbf_h": 24, "interval_min": 30, "lost_pct": 5,
            "writeup": {}}


@pytest.mark.parametrize("shortcut,ceiling", [(_echo, 10), (_rules_of_thumb, 15)])
def test_shortcuts_land_far_below_passing(scenario: Scenario, shortcut: Any,
                                          ceiling: float) -> None:
    scores = []
    for seed in range(50):
        params = scenario.render(seed).params
        report = grade_answer(scenario, seed, shortcut(params), None)
        scores.append(score_of(report.criteria))
    assert statistics.mean(scores) < ceiling, (shortcut.__name__, statistics.mean(scores))
