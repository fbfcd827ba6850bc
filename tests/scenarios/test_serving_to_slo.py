"""serving-to-slo: the serving model's figures hold up, every valid design is accepted, and
the cheap ways to fill the form land far below passing (keyword stuffing, a textbook design
that ignores the variant, numbers echoed from the prompt, "all of the above", the right
structured fields with no reasoning).

Few seeds here; `burnin scenarios selftest serving-to-slo --seeds 200` runs the reference
solver on 200 and grades the blind calibration answers (calibration/blind_*.json).
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import pytest

from graders.engine import grade_answer, grade_scenario, score_of
from scenarios.loader import Scenario

SID = "serving-to-slo"
SEEDS = range(4)
GPUS = ("A100-SXM4-80GB", "H100-SXM-80GB", "H200-SXM-141GB")


def _model(scenario: Scenario) -> Any:
    return scenario.load_check("checks/slo_model.py")


def _grade(scenario: Scenario, seed: int, answer: dict[str, Any]) -> tuple[float, dict[str, float]]:
    report = grade_answer(scenario, seed, answer, None)
    return score_of(report.criteria) or 0.0, {c.criterion_id: c.points for c in report.criteria}


def _plan_points(scenario: Scenario, seed: int, answer: dict[str, Any]) -> dict[str, float]:
    """Each criterion's own check, without the rubric's scaling of the own numbers by the
    write-up that derives them (the forms below carry no write-up)."""
    unscaled = scenario.load_check("checks/selftest.py").unscaled(scenario.rubric)
    report = grade_scenario(unscaled, answer, scenario.render(seed),
                            load_check=scenario.load_check)
    return {c.criterion_id: c.points for c in report.criteria}


CALIBRATION = Path(__file__).resolve().parents[2] / "scenarios" / "serving_to_slo" / "calibration"


def _blind(name: str) -> dict[str, Any]:
    return json.loads((CALIBRATION / name).read_text())  # type: ignore[no-any-return]


def _form(best: dict[str, Any], **over: Any) -> dict[str, Any]:
    out = {"gpu": best["gpu"], "tp": best["tp"], "weight_dtype": best["weight_dtype"],
           "kv_dtype": best["kv_dtype"], "concurrency": best["concurrency"],
           "kv_cache_gib": round(best["kv_gib"], 1), "ttft_ms": round(best["ttft_ms"]),
           "replicas": best["replicas_needed"], "total_gpus": best["gpus"],
           "cost_per_mtok": round(best["cost_per_mtok"], 4)}
    out.update(over)
    return out


def _coherent(params: dict[str, Any], gpu: str, tp: int, replicas: int) -> dict[str, Any]:
    gpus = replicas * tp
    cost = gpus * params["prices"][gpu] / (params["rate_rps"] * params["output_len"] * 3600) * 1e6
    return {"replicas": replicas, "total_gpus": gpus, "cost_per_mtok": round(cost, 4)}


# ---- the model's figures -------------------------------------------------------------------

def test_kv_cache_and_demand_follow_the_model_shape(scenario: Scenario) -> None:
    key = scenario.load_check("checks/answer_key.py")
    params = {**scenario.render(0).params}
    params["model"] = {"num_layers": 80, "num_kv_heads": 8, "head_dim": 128}
    # Llama 3 70B: 2 (K, V) x 80 layers x 8 KV heads x 128 dims x 2 bytes = 320 KiB per token.
    assert key.kv_bytes_per_token(params) == 2 * 80 * 8 * 128 * 2 == 320 * 1024
    m = _model(scenario)
    small = {"model_name": "llama3-70b", "prompt_len": 1000, "output_len": 200}
    assert m.kv_gib(small, "bf16", 10) == pytest.approx(10 * 1200 * 320 * 1024 / 2**30)
    assert m.kv_gib(small, "fp8", 10) == pytest.approx(m.kv_gib(small, "bf16", 10) / 2)


def test_concurrency_is_capped_by_the_itl_target_and_grows_with_tp(scenario: Scenario) -> None:
    m = _model(scenario)
    p = {"model_name": "llama3-70b", "prompt_len": 1500, "output_len": 300, "itl_ms": 45,
         "ttft_ms": 800, "rate_rps": 30, "max_util": 0.8,
         "prices": {g: 2.0 for g in GPUS}}
    b2 = m.max_concurrency(p, "H100-SXM-80GB", 2, "fp8", "fp8")
    b4 = m.max_concurrency(p, "H100-SXM-80GB", 4, "fp8", "fp8")
    assert 0 < b2 < b4
    at = m.evaluate(p, "H100-SXM-80GB", 4, "fp8", "fp8", b4, None)
    over = m.evaluate(p, "H100-SXM-80GB", 4, "fp8", "fp8", b4 + 1, None)
    assert at["itl_ms"] <= 45 < over["itl_ms"] or not over["fits"] or over["ttft_ms"] > 800
    # BF16 70B does not fit on one 80 GB GPU: no concurrency at all.
    assert m.max_concurrency(p, "H100-SXM-80GB", 1, "bf16", "bf16") == 0
    # Replicas come from the peak token demand at the utilisation cap.
    assert at["replicas_needed"] == math.ceil(30 * 300 / (0.8 * at["tokens_per_s"]))


# ---- every valid design is accepted --------------------------------------------------------

def test_every_design_meeting_the_slo_is_correct_and_near_cheapest_ones_earn_full(
        scenario: Scenario) -> None:
    m = _model(scenario)
    for seed in (3,):
        params = dict(scenario.render(seed).params)
        rows = m.configs(params)
        best = rows[0]["cost_per_mtok"]
        near = [r for r in rows if r["cost_per_mtok"] <= best / 0.75]
        dear = [r for r in rows if r["cost_per_mtok"] >= best / 0.4]
        assert len({(r["gpu"], r["tp"]) for r in near}) >= 2, seed  # more than one answer
        for r in near[:3] + dear[:1]:
            pts = _plan_points(scenario, seed, _form(r))
            assert pts["sizing"] == pytest.approx(12) and pts["cost_coherence"] == 6
            full = r["cost_per_mtok"] <= best / 0.75 + 1e-9
            assert pts["design"] == pytest.approx(24 if full else 24 * 0.3), (seed, r["gpu"])


def test_a_design_that_misses_the_slo_or_the_peak_is_not_feasible(scenario: Scenario) -> None:
    m = _model(scenario)
    seed = 3
    params = dict(scenario.render(seed).params)
    best = m.cheapest(params)
    overloaded = _form(best, concurrency=best["concurrency"] * 3)
    pts = _plan_points(scenario, seed, overloaded)
    assert pts["design"] == 0
    short = _form(best, **_coherent(params, best["gpu"], best["tp"],
                                    max(1, best["replicas_needed"] // 2)))
    if best["replicas_needed"] >= 3:
        pts = _plan_points(scenario, seed, short)
        assert pts["design"] == 0 and pts["cost_coherence"] == 6  # coherent, still too few


def _share_of_roofline(scenario: Scenario, params: dict[str, Any], best: dict[str, Any],
                       eff: float) -> dict[str, Any]:
    """The form of a planner who prices each decode step at `eff` of the pure roofline
    (weights + KV bytes over the datasheet bandwidth, FLOPs over the peak) plus the step's
    share of chunked prefill, on the cheapest design's GPU / TP / dtypes: the most requests
    in flight their ITL allows, replicas for the peak at their own tokens/s."""
    m = _model(scenario)
    args = (params["model_name"], best["gpu"], best["tp"], best["weight_dtype"],
            best["kv_dtype"])
    p, o = params["prompt_len"], params["output_len"]

    def step(b: int) -> tuple[float, bool]:
        r = m._perf(*args, b, p, o)
        return r.roofline_itl_s / eff + (r.steady_itl_s - r.itl_s), r.fits

    b = 1
    while step(b + 1)[0] <= params["itl_ms"] / 1000 and step(b + 1)[1]:
        b += 1
    replicas = max(1, math.ceil(params["rate_rps"] * o
                                / (params["max_util"] * b / step(b)[0])))
    ev = m.evaluate(params, best["gpu"], best["tp"], best["weight_dtype"], best["kv_dtype"],
                    b, replicas)
    return _form(best, concurrency=b, kv_cache_gib=round(m.kv_gib(params, best["kv_dtype"], b), 1),
                 ttft_ms=round(ev["ttft_ms"]),
                 **_coherent(params, best["gpu"], best["tp"], replicas))


def test_planning_at_a_realistic_share_of_the_roofline_is_not_wrong(scenario: Scenario) -> None:
    """Issue #16: a planner using 60-75% of the roofline for decode keeps the design and
    sizing points (seed 2: TP 4, where the model's step is 58% of the roofline with its
    all-reduces, so 70-75% runs 17-19% over the ITL target and loses a little); one using
    the pure roofline as a stated assumption loses little where the model is within 35% of
    it (seeds 2, 5) and misses only where it is far off (H200 at 578-677 in flight)."""
    m = _model(scenario)
    for seed in (0, 1, 2, 5):
        params = dict(scenario.render(seed).params)
        best = m.cheapest(params)
        for eff in (0.6, 0.7, 0.75):
            pts = _plan_points(scenario, seed, _share_of_roofline(scenario, params, best, eff))
            assert pts["design"] >= 0.9 * 24 and pts["sizing"] == pytest.approx(12), (seed, eff)
        pts = _plan_points(scenario, seed, _share_of_roofline(scenario, params, best, 1.0))
        assert pts["design"] >= 0.75 * 24, seed
    # Past the edge (35% over the ITL target) the design still misses.
    params = dict(scenario.render(2).params)
    best = m.cheapest(params)
    target = params["itl_ms"]
    b = best["concurrency"]
    while m.evaluate(params, best["gpu"], best["tp"], best["weight_dtype"], best["kv_dtype"],
                     b, None)["itl_ms"] <= target * (1 + m.ITL_EDGE):
        b += 4
    far = _form(best, concurrency=b)
    assert _plan_points(scenario, 2, far)["design"] == 0
    assert m.edge_credit(0.10, 0.15, 0.35) == 1.0
    assert m.edge_credit(0.25, 0.15, 0.35) == pytest.approx(0.75)
    assert m.edge_credit(0.36, 0.15, 0.35) == 0.0


def test_cost_is_judged_against_the_candidates_own_configuration(scenario: Scenario) -> None:
    seed = 5
    params = dict(scenario.render(seed).params)
    best = _model(scenario).cheapest(params)
    right = _form(best)
    pts = _plan_points(scenario, seed, right)
    assert pts["cost_coherence"] == 6
    wrong_price = _form(best, cost_per_mtok=right["cost_per_mtok"] * 3)
    pts = _plan_points(scenario, seed, wrong_price)
    assert pts["cost_coherence"] == pytest.approx(3)  # the GPU count still adds up


# ---- shortcuts -----------------------------------------------------------------------------

STUFFED = (
    "memory-bound, HBM bandwidth, tensor parallelism, TP4, TP8, all-reduce per layer, cost per "
    "token, tokens per dollar, continuous batching, chunked prefill, max_num_batched_tokens, "
    "disaggregation, KV transfer, KV pool, FP8 KV cache, preemption, admission control, N+1, "
    "headroom, autoscaling, queue depth, cold start, load test, p99, KV cache usage")


def _stuffed(params: dict[str, Any]) -> dict[str, Any]:
    return {"writeup": {s: STUFFED for s in ("tp_gpu", "batching", "kv_cache", "headroom",
                                               "measure")}}


def _echo(params: dict[str, Any]) -> dict[str, Any]:
    """Numbers lifted from the prompt, no derivation: one replica per request per second."""
    return {"gpu": "H100-SXM-80GB", "tp": 8, "weight_dtype": "bf16", "kv_dtype": "bf16",
            "concurrency": params["rate_rps"], "kv_cache_gib": 80, "ttft_ms": params["ttft_ms"],
            "replicas": params["rate_rps"], "total_gpus": params["rate_rps"] * 8,
            "cost_per_mtok": params["prices"]["H100-SXM-80GB"],
            "writeup": {s: f"The SLO is {params['ttft_ms']} ms TTFT and {params['itl_ms']} ms "
                           f"ITL at {params['rate_rps']} requests/s; we meet it."
                        for s in ("tp_gpu", "batching", "kv_cache", "headroom", "measure")}}


def _textbook(params: dict[str, Any]) -> dict[str, Any]:
    """The recipe recited whatever the variant: H100, BF16, TP8 for 70B / TP1 for 8B, 256
    sequences per replica, replicas = requests/s / 10, with generic serving prose."""
    tp = 8 if params["model"]["params_b"] > 20 else 1
    replicas = max(1, params["rate_rps"] // 10)
    return {"gpu": "H100-SXM-80GB", "tp": tp, "weight_dtype": "bf16", "kv_dtype": "bf16",
            "concurrency": 256, "kv_cache_gib": 40, "ttft_ms": 200,
            **_coherent(params, "H100-SXM-80GB", tp, replicas),
            "writeup": {
                "tp_gpu": "H100 is the standard GPU for serving. We use tensor parallelism "
                          "inside the node so the all-reduce runs on NVLink; decode is "
                          "memory-bound and prefill is compute-bound.",
                "batching": "vLLM's continuous batching with max_num_seqs 256, the default. "
                            "Chunked prefill is on.",
                "kv_cache": "PagedAttention manages the KV cache in blocks and we leave "
                            "gpu_memory_utilization at 0.9.",
                "headroom": "We autoscale on GPU utilisation with some headroom.",
                "measure": "We monitor latency and throughput in Grafana."}}


def _all_of_the_above(params: dict[str, Any]) -> dict[str, Any]:
    every = ("We consider every option: A100, H100 and H200; TP1, TP2, TP4 and TP8; BF16 and "
             "FP8 weights; BF16 and FP8 KV cache; chunked prefill and also prefill/decode "
             "disaggregation; static and continuous batching; all of them have trade-offs and "
             "the right one depends on the workload.")
    return {"gpu": "H200-SXM-141GB", "tp": 8, "weight_dtype": "bf16", "kv_dtype": "bf16",
            "concurrency": 64, "kv_cache_gib": 20, "ttft_ms": 100,
            **_coherent(params, "H200-SXM-141GB", 8, max(1, params["rate_rps"] // 5)),
            "writeup": {s: every for s in ("tp_gpu", "batching", "kv_cache", "headroom",
                                           "measure")}}


def _structured_only(scenario: Scenario, params: dict[str, Any]) -> dict[str, Any]:
    return _form(_model(scenario).cheapest(params))


def _restated_prompt(scenario: Scenario, seed: int) -> dict[str, Any]:
    """The echo with the prompt's own prose (minus the GPU table) pasted as every section of
    the write-up: the engine, the traffic, the cap, the SLO and the list of what to submit."""
    from scenarios.render import build_candidate_view

    prompt = build_candidate_view(scenario, seed).prompt_markdown
    prose = " ".join(ln.strip("-*# ").replace("**", "") for ln in prompt.splitlines()
                     if ln.strip() and not ln.startswith("|"))
    out = _echo(dict(scenario.render(seed).params))
    out["writeup"] = {s: prose for s in ("tp_gpu", "batching", "kv_cache", "headroom",
                                         "measure")}
    return out


# Ceilings are the top of each role's calibration band (keyword_stuffed 15, echo 20,
# textbook 35; "every option" counts as a textbook answer).
@pytest.mark.parametrize("shortcut,ceiling", [(_stuffed, 15), (_echo, 20), (_textbook, 35),
                                              (_all_of_the_above, 35)])
def test_shortcuts_land_below_their_band(scenario: Scenario, shortcut: Any,
                                         ceiling: float) -> None:
    scores = [_grade(scenario, seed, shortcut(dict(scenario.render(seed).params)))[0]
              for seed in SEEDS]
    assert max(scores) < ceiling, (shortcut.__name__, scores)
    assert statistics.mean(scores) < ceiling * 0.8, (shortcut.__name__, scores)


def test_the_prompt_pasted_as_the_write_up_stays_below_a_medium_answer(
        scenario: Scenario) -> None:
    """The prompt's own sentences carry the variant's numbers, so the concepts engine takes
    some for variant-specific assertions; the rubric's negative exemplars restating the
    prompt cut that (37 -> 30 on seed 3). Known limit: it stays above the echo band (20)
    until the engine discounts sentences copied from the candidate's prompt."""
    scores = [_grade(scenario, seed, _restated_prompt(scenario, seed))[0] for seed in (3, 8)]
    assert max(scores) < 33, scores


def test_own_numbers_count_as_far_as_the_write_up_derives_them(scenario: Scenario) -> None:
    """Concurrency, KV, TTFT, GPUs and cost right for the design but no derivation earn the
    design only; the same form with the blind reference's write-up (seed 3) earns them all."""
    seed = 3
    form = _form(_model(scenario).cheapest(dict(scenario.render(seed).params)))
    _, bare = _grade(scenario, seed, form)
    assert bare["design"] == pytest.approx(24)
    assert bare["sizing"] == bare["ttft"] == bare["cost_coherence"] == 0
    writeup = _blind("blind_s3_strong_1.json")["answers"]["writeup"]
    _, full = _grade(scenario, seed, {**form, "writeup": writeup})
    assert (full["sizing"], full["ttft"], full["cost_coherence"]) == (12, 4, 6)


def test_ttft_is_one_prompts_prefill_plus_a_step_not_the_whole_batch(
        scenario: Scenario) -> None:
    """Under chunked prefill a new prompt is prefilled alone (in a chunk or two) beside the
    running decodes: the model's TTFT is that prefill plus one steady step, not the
    calculator's ttft_s, which prefills the whole batch at once. The blind reference read it
    so (28 ms at 428 in flight on seed 3) and earns the TTFT points."""
    m = _model(scenario)
    seed = 3
    params = dict(scenario.render(seed).params)
    best = m.cheapest(params)
    args = (params["model_name"], best["gpu"], best["tp"], best["weight_dtype"],
            best["kv_dtype"])
    b, p, o = best["concurrency"], params["prompt_len"], params["output_len"]
    alone = m._perf(*args, 1, p, o).ttft_s
    whole = m._perf(*args, b, p, o)
    assert best["ttft_ms"] == pytest.approx((alone + whole.steady_itl_s) * 1000)
    assert whole.ttft_s > 20 * best["ttft_ms"] / 1000  # the whole batch at once: seconds
    ref = _blind("blind_s3_strong_1.json")
    assert ref["role"] == "reference" and ref["answers"]["ttft_ms"] == 28
    assert _plan_points(scenario, seed, ref["answers"])["ttft"] == pytest.approx(4)
    # Reading TTFT as the whole batch's prefill is far outside the band.
    whole_reading = {**ref["answers"], "ttft_ms": round(whole.ttft_s * 1000)}
    assert _plan_points(scenario, seed, whole_reading)["ttft"] == 0


@pytest.mark.parametrize("name", sorted(p.name for p in CALIBRATION.glob("blind_*.json")))
def test_blind_answers_are_the_writers_in_the_calibration_format(name: str) -> None:
    doc = _blind(name)
    assert doc["scenario"] == SID and doc["seed"] in (3, 8)
    assert "written blind from the candidate view" in doc["description"]
    role = name.removeprefix(f"blind_s{doc['seed']}_").removesuffix(".json")
    band = {"strong": (80, 100), "medium": (30, 65), "structured_only": (20, 55),
            "textbook": (0, 35), "wrong": (0, 30), "echo": (0, 20),
            "keyword_stuffed": (0, 15)}["strong" if role.startswith("strong") else role]
    assert (doc["band"]["min"], doc["band"]["max"]) == band


def test_right_structured_fields_without_reasoning_stay_below_a_pass(
        scenario: Scenario) -> None:
    for seed in (1,):
        params = dict(scenario.render(seed).params)
        score, pts = _grade(scenario, seed, _structured_only(scenario, params))
        assert pts["design"] == pytest.approx(24)
        assert 20 <= score <= 55, (seed, score)
