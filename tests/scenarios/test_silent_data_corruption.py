"""silent-data-corruption resists shortcuts: the GPU DCGM failed, the GPU with the most ECC
errors, the first or the last non-finite rank, the largest partial norm, a guessed count or
a textbook answer; and its two kinds of event really have the shapes the prompt implies."""

from __future__ import annotations

import csv
import io
import math
import statistics
from typing import Any

from scenarios.loader import Scenario
from tests.scenarios.factory import graded

SID = "silent-data-corruption"
SEEDS = 30


def _dumps(v: Any) -> dict[int, list[dict[str, str]]]:
    return {int(p.split("_")[1].split(".")[0]): list(csv.DictReader(io.StringIO(
        v.artifacts[p].decode()))) for p in v.artifacts if p.startswith("anomalies/")}


def test_each_shortcut_stays_far_below_passing(scenario: Scenario, variants: list[Any]) -> None:
    hook = scenario.load_check("checks/selftest.py")
    grep = scenario.load_check("checks/grep_solver.py")
    for name, _ in grep.SHORTCUTS:
        scores = [hook.grade(v, grep.solve(v.artifacts, name)) for v in variants]
        assert statistics.mean(scores) < 15, (name, statistics.mean(scores))


def test_first_and_last_non_finite_ranks_are_rarely_the_gpu(variants: list[Any]) -> None:
    """The first and last non-finite steps are bad batches unless every GPU event falls
    outside them (then the GPU's non-finite step can come first or last: ~4% of seeds)."""
    ends = 0
    for v in variants:
        dumps = _dumps(v)
        flagged = [(s, r["rank"]) for s in sorted(dumps) for r in dumps[s] if r["nonfinite"] != "0"]
        culprit = str(v.params["culprit_rank"])
        ends += flagged[0][1] == culprit or flagged[-1][1] == culprit
        assert any(rank == culprit for _, rank in flagged)  # it does go non-finite once
    assert ends <= 0.15 * len(variants), ends


def test_decoys_point_away_from_the_gpu(variants: list[Any]) -> None:
    """DCGM passes on the culprit's host and fails on another; the culprit's ECC is clean."""
    for v in variants:
        host, gpu = v.params["culprit_node"], v.params["culprit_gpu"]
        dcgm = v.artifacts[f"dcgm/{host}.txt"].decode()
        assert "Fail" not in dcgm
        assert any("Fail - GPU" in v.artifacts[p].decode() for p in v.artifacts
                   if p.startswith("dcgm/"))
        ecc = csv.DictReader(io.StringIO(v.artifacts["nvidia-smi/ecc_summary.csv"].decode()))
        mine = next(r for r in ecc if r["host"] == host and r["gpu"] == gpu)
        assert mine["volatile_sbe"] == "0" and mine["volatile_dbe"] == "0"
        assert "OK" in v.artifacts["train/checkpoints.log"].decode()


def test_data_events_raise_whole_replicas_and_gpu_events_one_rank(variants: list[Any]) -> None:
    for v in variants[:8]:
        for rows in _dumps(v).values():
            vals = [float(r["partial_grad_norm"]) for r in rows]
            med = statistics.median(x for x in vals if not math.isnan(x))
            out = [r for r, x in zip(rows, vals, strict=True) if math.isnan(x) or x > 4 * med]
            ranks = {r["rank"] for r in out}
            assert len(ranks) == 1 or len(ranks) >= 32, len(ranks)
            if len(ranks) == 1:
                assert ranks == {str(v.params["culprit_rank"])}


def test_write_ups_and_gpu_fields_are_gated_by_the_host(scenario: Scenario,
                                                        variants: list[Any]) -> None:
    v = variants[0]
    p = v.params
    decoy = p["decoy_nodes"][0]
    answer = {"culprit_node": decoy, "culprit_gpu": p["culprit_gpu"],
              "first_sdc_step": p["first_sdc_step"], "data_spikes": p["data_spikes"],
              "rollback_step": p["rollback_step"],
              "evidence": "One rank alone is far above the others in the dumps, the same rank "
                          "every time, while bad-data steps raise whole replicas.",
              "fix": "Drain the host, restart from the last clean checkpoint, blocklist the shard.",
              "verification": "Replay the step's inputs on that GPU and compare bit for bit."}
    _, crit = graded(scenario, v, answer)
    for cid in ("culprit_node", "culprit_gpu", "first_sdc_step", "rollback_step", "evidence",
                "fix", "verification"):
        assert crit[cid].points == 0, cid
    assert crit["data_spikes"].points == crit["data_spikes"].max_points  # counted on its own


def test_textbook_answer_lands_far_below_passing(scenario: Scenario, variants: list[Any]) -> None:
    """Generic SDC advice with a host picked from DCGM's failure."""
    grep = scenario.load_check("checks/grep_solver.py")
    scores = []
    for v in variants[:12]:
        ans = grep.solve(v.artifacts, "dcgm_fail")
        ans.update(evidence="Silent data corruption shows up as loss spikes and NaNs; DCGM flags "
                            "the failing GPU's memory and ECC errors confirm it.",
                   fix="Drain the node, RMA the GPU, roll back to the last checkpoint and "
                       "add per-rank gradient monitoring.",
                   verification="Rerun DCGM level 3 and replay a step deterministically.")
        scores.append(graded(scenario, v, ans)[0].score or 0.0)
    assert statistics.mean(scores) < 15


def test_reference_solver_finds_everything_on_80_seeds(scenario: Scenario) -> None:
    solve = scenario.load_check("checks/solver.py").solve
    keys = ("culprit_node", "culprit_gpu", "first_sdc_step", "data_spikes", "rollback_step")
    for seed in range(80):  # all 200: burnin scenarios selftest silent-data-corruption --seeds 200
        v = scenario.render(seed)
        assert solve(v.artifacts) == {k: v.params[k] for k in keys}, seed
