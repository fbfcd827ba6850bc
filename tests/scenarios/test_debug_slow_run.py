"""The debug flagship: variants are realistic, consistent with their cause, and solvable."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter

import pytest

SID = "debug-slow-run"
SEEDS = 40

GPU_SCOPE = {"thermal_throttle", "power_cap", "pcie_downtrain", "ib_link_flap", "numa_binding",
             "nvlink_degraded"}


def _rows(v) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return list(csv.DictReader(io.StringIO(v.artifacts["timings/step_times.csv"].decode())))


def test_solver_recovers_the_planted_cause_from_artifacts_alone(scenario, variants) -> None:  # type: ignore[no-untyped-def]
    solve = scenario.load_check("checks/solver.py").solve
    for v in variants:
        got = solve(v.artifacts)
        planted = {k: v.params[k] for k in ("cause_family", "culprit_node", "culprit_gpu")}
        assert got == planted, v.seed


def test_at_least_eight_families_and_a_real_multinode_job(variants) -> None:  # type: ignore[no-untyped-def]
    families = Counter(v.params["cause_family"] for v in variants)
    assert len(families) >= 12, families
    for v in variants:
        assert v.params["num_nodes"] >= 32
        ranks = {r["rank"] for r in _rows(v)}
        assert len(ranks) == v.params["num_nodes"] * 8
        assert len(v.params["red_herrings"]) >= 15
        if v.params["cause_family"] in GPU_SCOPE:
            assert v.params["culprit_gpu"] != "all"
        assert v.params["culprit_node"] not in v.params["decoy_nodes"]


def test_slowdown_varies_and_matches_the_timings(variants) -> None:  # type: ignore[no-untyped-def]
    seen = []
    for v in variants:
        rows = _rows(v)
        steps = {r["step"]: float(r["step_ms"]) for r in rows}
        base = list(csv.DictReader(io.StringIO(
            v.artifacts["timings/baseline_step_times.csv"].decode())))
        cur = statistics.mean(list(steps.values())[1:])
        ref = statistics.mean(float(r["step_ms"]) for r in base[1:])
        measured = (cur / ref - 1) * 100
        assert 12 <= measured <= 50
        assert measured == pytest.approx(v.params["measured_slowdown_pct"], abs=0.1)
        seen.append(measured)
    assert max(seen) - min(seen) > 20  # not one number a candidate can echo


def test_prompt_describes_the_slowdown_in_words_only(scenario) -> None:  # type: ignore[no-untyped-def]
    for seed in range(6):
        view = scenario.candidate_view(seed)
        pct = scenario.render(seed).params["measured_slowdown_pct"]
        assert "%" not in view.prompt_markdown
        assert str(round(pct)) not in view.prompt_markdown.split("slower")[0][-80:]
        assert " slower than its last good run" in view.prompt_markdown


def test_a_straggler_gpu_makes_every_other_rank_wait(variants) -> None:  # type: ignore[no-untyped-def]
    seen = 0
    for v in variants:
        if v.params["cause_family"] not in {"thermal_throttle", "power_cap", "numa_binding"}:
            continue
        seen += 1
        all_rows = _rows(v)
        rows = [r for r in all_rows if r["step"] != all_rows[0]["step"]]
        comm: dict[int, list[float]] = {}
        for r in rows:
            comm.setdefault(int(r["rank"]), []).append(float(r["tp_comm_ms"]) + float(r["dp_comm_ms"]))
        means = {k: statistics.mean(x) for k, x in comm.items()}
        culprit = min(means, key=means.__getitem__)
        host = v.params["culprit_node"]
        assert [r["host"] for r in rows if int(r["rank"]) == culprit][0] == host
        assert culprit % 8 == int(v.params["culprit_gpu"])
        # every other rank waits in collectives for roughly the whole slowdown
        others = statistics.median(means.values())
        assert others - means[culprit] > 0.15 * v.params["baseline_step_s"] * 1000
    assert seen


def test_same_seed_gives_byte_identical_artifacts_and_size_is_modest(scenario) -> None:  # type: ignore[no-untyped-def]
    a, b = scenario.render(11), scenario.render(11)
    assert a.artifacts == b.artifacts
    assert sum(len(x) for x in a.artifacts.values()) < 8 * 1024 * 1024


def test_artifacts_use_real_formats(variants) -> None:  # type: ignore[no-untyped-def]
    v = variants[0]
    host = sorted(p for p in v.artifacts if p.startswith("nvidia-smi/h"))[0]
    smi = v.artifacts[host].decode()
    for field in ("==============NVSMI LOG==============", "Clocks Event Reasons",
                  "HW Thermal Slowdown", "Remapped Rows", "GPU Link Info", "Current Power Limit"):
        assert field in smi
    nccl = "".join(x.decode() for p, x in v.artifacts.items() if p.startswith("nccl/"))
    assert "NCCL INFO ncclCommInitRank" in nccl and "Init COMPLETE" in nccl
    dmesg = "".join(x.decode() for p, x in v.artifacts.items() if p.startswith("dmesg/"))
    assert "NVRM: loading NVIDIA UNIX x86_64 Kernel Module" in dmesg
    host = host.split("/")[1][:-4]
    assert "Device            r/s     rMB/s" in v.artifacts[f"iostat/{host}.txt"].decode()
    assert "current policy: frequency should be within" in v.artifacts[f"cpufreq/{host}.txt"].decode()
    assert "$ nvidia-smi nvlink -s" in v.artifacts[f"nvlink/{host}.txt"].decode()


def test_candidate_view_hides_the_answer(scenario) -> None:  # type: ignore[no-untyped-def]
    view = scenario.candidate_view(7)
    dumped = view.model_dump_json()
    assert "red_herrings" not in dumped and "measured_slowdown_pct" not in dumped
    assert "cordon" not in dumped  # rubric text
    assert not any(p.startswith(("checks", "calibration")) for p in view.artifacts)
    assert "{{" not in view.prompt_markdown
    assert "nodes × 8" in view.prompt_markdown


def test_reference_calibration_matches_the_variant(scenario) -> None:  # type: ignore[no-untyped-def]
    ref = scenario.calibration["reference.json"]
    v = scenario.render(ref.seed)
    for key in ("cause_family", "culprit_node", "culprit_gpu"):
        assert ref.answers[key] == v.params[key]
    assert ref.answers["slowdown_pct"] == pytest.approx(v.params["measured_slowdown_pct"], abs=1)
    wrong = scenario.calibration["wrong.json"]
    assert wrong.answers["cause_family"] != v.params["cause_family"]
