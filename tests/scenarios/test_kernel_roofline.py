"""kernel-roofline: the hidden profiles tell the prompt's roofline from the usual shortcuts
(everything memory-bound, the profile's own times, no launch floor, L2 bytes, a BF16 ridge
for FP8 kernels, FP8 on a GPU without it, every proposal in the ranking, the given profile's
answer hard-coded), and the write-up's cheap answers (keyword lists, the prompt echoed,
"all of them") land far below a real one.

The analyses run in-process through the driver and judge the sandbox uses; the rubric tests
run the code through a plain subprocess runner (tests/graders/factory.py)."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from typing import Any

import pytest

from scenarios.loader import Scenario
from tests.graders.factory import ProcessRunner

SID = "kernel-roofline"
SEEDS = [3, 8, 21]
WRITEUPS = ["priorities", "fusion", "fp8", "limits"]
WRITEUP_POINTS = 52
N = 18

Analyse = Callable[[dict[str, Any], dict[str, Any]], Any]


def _mods(scenario: Scenario) -> dict[str, Any]:
    return {n: scenario.load_check(f"checks/{n}.py")
            for n in ("cases", "judge", "reference", "driver", "solution", "shortcuts")}


def _scores(scenario: Scenario, variant: Any, analyse: Analyse) -> dict[str, list[float]]:
    """Case scores by kind, through the sandbox's driver and the judge, in this process."""
    m = _mods(scenario)
    out: dict[str, list[float]] = {}
    for case in m["cases"].cases(variant.params, N):
        try:
            data = json.loads(json.dumps(m["driver"].run(analyse, case)))
            score = float(m["judge"].judge(case, data, m["reference"].reference(case))["score"])
        except Exception:  # noqa: BLE001 - a crash is that case's zero, as in the sandbox
            score = 0.0
        out.setdefault(case["id"].split("-", 2)[2], []).append(score)
    return out


def _mean(scores: dict[str, list[float]], kinds: set[str] | None = None) -> float:
    return statistics.mean(s for k, v in scores.items() if kinds is None or k in kinds
                           for s in v)


def test_reference_is_the_roofline_by_hand(scenario: Scenario) -> None:
    """One kernel of the given profile, from the prompt's definitions and the data sheet."""
    v = scenario.render(3)
    given = json.loads(v.artifacts["profile/input.json"])
    ref = _mods(scenario)["reference"].analyse(given["profile"], given["gpu"])
    gemm = next(k for k in given["profile"]["kernels"] if k["name"] == "gemm_mlp_up_fwd")
    got = next(k for k in ref["kernels"] if k["name"] == "gemm_mlp_up_fwd")
    peak = given["gpu"]["tensor_tflops"]["bf16"] * 1e12
    assert given["gpu"]["tensor_tflops"]["bf16"] == 1307.4  # MI300X data sheet, dense
    assert got["intensity"] == pytest.approx(gemm["flops"] / gemm["dram_bytes"])
    assert got["bound"] == "compute"
    assert got["attainable_us"] == pytest.approx(gemm["flops"] / peak * 1e6)
    assert got["fraction"] == pytest.approx(got["attainable_us"] / gemm["total_us"])
    tiny = next(k for k in ref["kernels"] if k["name"] == "fill_zero_grad")
    row = next(k for k in given["profile"]["kernels"] if k["name"] == "fill_zero_grad")
    assert tiny["bound"] == "launch"
    assert tiny["attainable_us"] == pytest.approx(row["count"] * given["gpu"]["launch_floor_us"])


def test_solution_scores_full_and_starter_zero(scenario: Scenario, variants: list[Any]) -> None:
    from scenarios.pymodule import load_module

    starter = load_module(scenario.path / "starter" / "roofline.py", "_kr_starter")
    sol = _mods(scenario)["solution"]
    for v in variants:
        assert _mean(_scores(scenario, v, sol.analyse)) == 1.0
        assert _mean(_scores(scenario, v, starter.analyse)) == 0.0


@pytest.mark.parametrize(("name", "kinds", "limit"), [
    ("all_memory", None, 0.4),          # GEMMs and attention are compute-bound
    ("own_times", None, 0.6),           # the measured time is not the roof
    ("l2_bytes", None, 0.35),           # reuse in L2 is not DRAM traffic
    ("bf16_ridge", {"fp8_mix"}, 0.75),  # FP8 kernels have their own ridge
    ("no_launch_floor", {"small"}, 0.85),
    ("no_fp8_check", {"tf32"}, 0.9),    # A100: no FP8 tensor cores, the gain is 0
    ("rank_all", None, 0.95),           # proposals that lose are not opportunities
])
def test_shortcuts_score_below_the_solution(scenario: Scenario, variants: list[Any], name: str,
                                            kinds: set[str] | None, limit: float) -> None:
    f = _mods(scenario)["shortcuts"].SHORTCUTS[name]
    for v in variants:
        assert _mean(_scores(scenario, v, f), kinds) < limit, (name, v.seed)


def test_tensor_peak_for_vector_kernels_gets_the_vector_kernel_wrong(
        scenario: Scenario, variants: list[Any]) -> None:
    m = _mods(scenario)
    f = m["shortcuts"].SHORTCUTS["tensor_for_vector"]
    for v in variants:
        for case in m["cases"].cases(v.params, N):
            if not case["id"].endswith("-vector"):
                continue
            verdict = m["judge"].judge(case, f(case["profile"], case["gpu"]),
                                       m["reference"].reference(case))
            assert any(s.startswith("rope_cos_sin_fp32: bound") for s in verdict["violations"])


def test_hard_coding_the_given_profile_fails_the_hidden_ones(scenario: Scenario,
                                                             variants: list[Any]) -> None:
    m = _mods(scenario)
    for v in variants:
        given = json.loads(v.artifacts["profile/input.json"])
        canned = m["solution"].analyse(given["profile"], given["gpu"])

        def hard_coded(profile: dict[str, Any], gpu: dict[str, Any], c: Any = canned) -> Any:
            return c

        assert _mean(_scores(scenario, v, hard_coded)) < 0.2


def test_best_change_follows_the_gpu(scenario: Scenario) -> None:
    """No FP8 on the A100: the best change there is a fusion; elsewhere it varies."""
    best: dict[str, set[str]] = {}
    for seed in range(40):
        v = scenario.render(seed)
        best.setdefault(v.params["gpu"], set()).add(v.params["best_change"])
        assert 0 < v.params["best_saving_pct"] < 50
    assert all(b.startswith("fuse-") for b in best["A100-SXM4-80GB"])
    assert len(set().union(*best.values())) >= 3


# --- write-ups, graded with the code run ------------------------------------------------------

def _grade(scenario: Scenario, seed: int, answers: dict[str, Any]) -> dict[str, float]:
    from graders.engine import grade_scenario

    report = grade_scenario(scenario.rubric, answers, scenario.render(seed), ProcessRunner(),
                            load_check=scenario.load_check)
    return {c.criterion_id: c.points for c in report.criteria}


def _reference(scenario: Scenario) -> dict[str, Any]:
    return scenario.calibration["reference.json"].answers


def _writeup_points(points: dict[str, float]) -> float:
    return sum(points[w] for w in WRITEUPS)


def test_reference_gets_the_writeup_points(scenario: Scenario) -> None:
    pts = _grade(scenario, 3, _reference(scenario))
    assert pts["analysis"] == 30.0
    assert _writeup_points(pts) >= 0.85 * WRITEUP_POINTS


@pytest.mark.parametrize("kind", ["keywords", "echo"])
def test_cheap_writeups_with_working_code_stay_low(scenario: Scenario, kind: str) -> None:
    ans = dict(_reference(scenario))
    prompt = scenario.candidate_view(3).prompt_markdown
    if kind == "keywords":
        text = ("Roofline, arithmetic intensity, ridge point, compute-bound, memory-bound, "
                "launch-bound, Amdahl, headroom, CUDA graphs, multi-tensor, fusion, "
                "intermediates, HBM, FP8, E4M3, E5M2, amax, cast, Transformer Engine, L2, "
                "cache, NCCL, overlap, Nsight Compute, rocprof, BabelStream, data-sheet.")
        ans["writeup"] = {w: text for w in WRITEUPS}
    else:
        paras = [p for p in prompt.split("\n\n") if len(p) > 200]
        ans["writeup"] = {w: paras[i % len(paras)] for i, w in enumerate(WRITEUPS)}
    pts = _grade(scenario, 3, ans)
    assert _writeup_points(pts) <= 0.3 * WRITEUP_POINTS, (kind, {w: pts[w] for w in WRITEUPS})


def test_all_of_them_is_not_an_answer(scenario: Scenario) -> None:
    ans = dict(_reference(scenario))
    v = scenario.render(3)
    ans["first_change"] = ", ".join(v.params["proposal_ids"])
    pts = _grade(scenario, 3, ans)
    assert pts["first_change"] == 0 and pts["first_saving"] == 0 and pts["priorities"] == 0


@pytest.mark.parametrize("output", [
    None, "all", 42, [], {"kernels": "x"}, {"kernels": [None, 3, {"name": 5}]},
    {"kernels": [], "proposals": [{"id": "fp8-mlp-up-fwd", "gain_us": float("nan")}],
     "ranking": "fp8-mlp-up-fwd"},
    {"kernels": [{"name": "gemm_qkv_fwd", "intensity": True, "bound": None,
                  "attainable_us": "1", "fraction": float("inf")}], "proposals": None},
])
def test_judge_takes_any_output_without_crashing(scenario: Scenario, output: Any) -> None:
    m = _mods(scenario)
    case = m["cases"].cases(scenario.render(3).params, 1)[0]
    verdict = m["judge"].judge(case, output, m["reference"].reference(case))
    assert verdict["score"] == 0.0 and verdict["violations"]
