"""moe-training: the layout is graded against the plan search's wide MoE band and every
number against the model for the candidate's own layout; the layout's throughput credit is
scaled by the layout write-up and each number by the section that derives it. The cheap ways
to fill the form (the textbook "EP = number of experts, TP 8", EP over the whole cluster, the
prompt's numbers echoed, another layout's numbers, keyword lists, a good layout under no
reasoning) land far below the reference; the 20 blind answers rank like an interviewer's."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from graders.engine import grade_answer, score_of
from scenarios.loader import Scenario

SID = "moe-training"
SEEDS = 6
STRUCTURED = ("fit", "plan", "estimates", "all_to_all_numbers", "imbalance_number")
CALIBRATION = Path(__file__).resolve().parents[2] / "scenarios" / "moe_training" / "calibration"
# Blind strong answers the rubric leaves below their band, with the reason in
# docs/scenarios.md (### moe-training): terse notes (clauses under eight words read as
# keyword lists by the concepts check) on a layout at 0.52 of the model's best. A known
# defect, not a judgement: the self-test reports it. (s3 strong_2, CP 2 on 4k sequences at
# 0.32 of the best, is banded 55-80 in its file.)
BELOW_BAND = {"blind_s3_strong_3.json"}
WRITEUP = ("layout", "all_to_all", "memory", "load_balance", "performance")


def _key(scenario: Scenario) -> Any:
    return scenario.load_check("checks/answer_key.py")


def _points(scenario: Scenario, seed: int, answers: dict[str, Any]) -> dict[str, float]:
    report = grade_answer(scenario, seed, answers)
    return {c.criterion_id: c.points for c in report.criteria}


def _share(points: dict[str, float], scenario: Scenario, ids: tuple[str, ...]) -> float:
    top = {c.id: c.points for c in scenario.rubric.criteria}
    return sum(points[i] for i in ids) / sum(top[i] for i in ids)


def _with_numbers(scenario: Scenario, params: dict[str, Any],
                  layout: dict[str, Any]) -> dict[str, Any]:
    own = _key(scenario).own_numbers(params, layout)
    return {**layout, **(own or {})}


def test_variants_cover_models_gpus_fabrics_and_tiers(scenario: Scenario) -> None:
    seen = [scenario.render(s).params for s in range(60)]
    assert {p["model_name"] for p in seen} == {"mixtral-8x22b", "qwen3-235b-a22b",
                                               "dsv3-class-750b"}
    assert {p["gpu"] for p in seen} == {"H100-SXM-80GB", "H200-SXM-141GB", "B200-SXM-180GB"}
    assert {p["fabric"] for p in seen} == {"IB-NDR", "RoCE-400G"}
    assert {p["num_gpus"] for p in seen} == {256, 1024, 4096}
    for p in seen:
        k = p["arch"]["experts_per_token"]
        assert k * p["imbalance"] == round(k * p["imbalance"])
        assert p["global_batch_seqs"] * p["seq_len"] == p["global_batch_mtokens"] * 2**20


def test_reference_layout_with_its_own_numbers_and_no_reasoning_earns_little(
        scenario: Scenario, variants: list[Any]) -> None:
    """The search's best layout with the model's own numbers, no write-up: it fits and its
    numbers match, but throughput and the dispatch and imbalance numbers need the write-up
    that derives them (a copied layout is not a design)."""
    key = _key(scenario)
    for v in variants:
        ref = key.reference(v.params)
        assert ref is not None, v.seed
        pts = _points(scenario, v.seed, _with_numbers(scenario, v.params, ref["answers"]))
        assert pts["fit"] == pytest.approx(3.0), v.seed
        assert pts["estimates"] == pytest.approx(8.0), v.seed
        assert pts["plan"] == pts["all_to_all_numbers"] == pts["imbalance_number"] == 0.0
        assert _share(pts, scenario, STRUCTURED) == pytest.approx(11 / 44), v.seed


def test_reference_answer_earns_every_structured_point(scenario: Scenario) -> None:
    cal = scenario.calibration["reference.json"]
    pts = _points(scenario, cal.seed, dict(cal.answers))
    assert _share(pts, scenario, STRUCTURED) == pytest.approx(1.0)


def test_textbook_ep_equals_experts_tp8_loses_the_plan(scenario: Scenario,
                                                       variants: list[Any]) -> None:
    """Fine-grained experts (128, 256): the textbook layout does not lay out or is far from
    the best (under half the throughput credit, which is none at 40% of the best and full at
    the band's 65%). 8 experts: EP 8 x ETP 1 stays in the node, so it is close to fine (about
    60% of the best) but still below the band."""
    key = _key(scenario)
    fine = 0
    for v in variants:
        res = key.shortcut(v.params, key.textbook_answers(v.params))
        ratio = res["ratio"] if res["status"] == "ok" else 0.0
        if v.params["arch"]["num_experts"] > 8:
            assert ratio < 0.4 + 0.5 * 0.25, v.seed
            fine += 1
        else:
            assert ratio < 0.65, v.seed
    assert fine >= 2


def test_ep_over_the_whole_cluster_is_not_runnable(scenario: Scenario,
                                                   variants: list[Any]) -> None:
    key = _key(scenario)
    for v in variants[:3]:
        answers = key.ep_all_answers(v.params)
        assert key.shortcut(v.params, answers)["status"] == "layout"
        pts = _points(scenario, v.seed, {**answers, "est_memory_gib": 40, "est_step_time_s": 5,
                                         "est_mfu_pct": 40, "est_a2a_mib": 100,
                                         "est_a2a_ms": 2, "est_imbalance_cost_s": 1})
        assert _share(pts, scenario, STRUCTURED) < 0.1, v.seed


def test_echoed_prompt_numbers_earn_little(scenario: Scenario, variants: list[Any]) -> None:
    for v in variants[:3]:
        p = v.params
        arch = p["arch"]
        echo = {"tp": 8, "pp": 1, "cp": 1, "dp": p["num_gpus"] // 8,
                "ep": arch["num_experts"], "etp": 1, "virtual_stages": 1,
                "micro_batch_size": 1, "zero_stage": "1", "recompute": "full",
                "est_memory_gib": p["gpu_spec"]["memory_gb"], "est_step_time_s": p["seq_len"] / 1000,
                "est_mfu_pct": 50, "est_a2a_mib": arch["hidden_size"] / 1024,
                "est_a2a_ms": 400 / 8, "est_imbalance_cost_s": p["imbalance"],
                "writeup": (f"The model has {arch['params_b']}B parameters and "
                            f"{arch['num_experts']} experts with top-{arch['experts_per_token']} "
                            f"routing on {p['num_gpus']} GPUs with {p['gpu_spec']['memory_gb']} GB "
                            f"each. The busiest expert-parallel rank receives {p['imbalance']}x "
                            f"the mean number of tokens. The sequence length is {p['seq_len']} "
                            f"and the global batch is {p['global_batch_seqs']} sequences.")}
        report = grade_answer(scenario, v.seed, echo)
        assert float(score_of(report.criteria) or 0.0) < 20, v.seed


def test_another_layouts_numbers_are_marked_down(scenario: Scenario,
                                                 variants: list[Any]) -> None:
    """The reference layout's numbers stated on a layout whose EP spans twice as many GPUs."""
    key = _key(scenario)
    checked = 0
    for v in variants:
        ref = key.reference(v.params)["answers"]
        other = {**ref, "ep": ref["ep"] * 2}
        if key.shortcut(v.params, other)["status"] != "ok":
            continue
        own, theirs = key.own_numbers(v.params, ref), key.own_numbers(v.params, other)
        if abs(own["est_a2a_ms"] - theirs["est_a2a_ms"]) < 0.7 * theirs["est_a2a_ms"]:
            continue  # the doubled group is not different enough to tell apart
        pts = _points(scenario, v.seed, {**other, **own})
        assert pts["all_to_all_numbers"] < 0.75 * 8, v.seed
        checked += 1
    assert checked >= 2


def test_keyword_lists_earn_little_of_the_write_up(scenario: Scenario) -> None:
    cal = scenario.calibration["keyword_stuffed.json"]
    pts = _points(scenario, cal.seed, dict(cal.answers))
    assert _share(pts, scenario, WRITEUP) < 0.25


def test_dispatch_volume_is_tokens_times_topk_times_hidden(scenario: Scenario,
                                                           variants: list[Any]) -> None:
    """One dispatch sends b*s/(cp*tp) tokens x k copies x hidden x 2 bytes, (ep-1)/ep of it away."""
    from graders.hw import estimate_training

    mi = scenario.load_check("checks/model_input.py")
    for v in variants:
        p, arch = v.params, v.params["arch"]
        layout = _key(scenario).reference(p)["answers"]
        result = estimate_training(mi.training_input(p, layout))
        mib, ms = mi.dispatch(p, layout, result)
        ep, tp, b = layout["ep"], layout["tp"], layout["micro_batch_size"]
        want = (b * p["seq_len"] / layout["cp"] / tp * arch["experts_per_token"] * arch["hidden_size"] * 2
                * (ep - 1) / ep / 2**20) if ep > 1 else 0.0
        assert mib == pytest.approx(want, rel=1e-6), v.seed
        assert (ms > 0) == (ep > 1)


def test_imbalance_cost_grows_with_the_imbalance_and_needs_ep(scenario: Scenario) -> None:
    from graders.hw import estimate_training

    mi = scenario.load_check("checks/model_input.py")
    v = scenario.render(3)
    layout = _key(scenario).reference(v.params)["answers"]
    result = estimate_training(mi.training_input(v.params, layout))
    costs = [mi.imbalance_cost({**v.params, "imbalance": x}, layout, result)
             for x in (1.25, 1.5, 2.0)]
    assert 0 < costs[0] < costs[1] < costs[2]
    assert costs[2] < result.step_time_s  # the busiest rank slows the MoE part, not all of it
    no_ep = {**layout, "ep": 1}
    assert mi.imbalance_cost(v.params, no_ep, result) == 0.0


def test_layout_that_cannot_run_has_no_numbers(scenario: Scenario) -> None:
    from graders.hw import estimate_training

    mi = scenario.load_check("checks/model_input.py")
    v = scenario.render(3)
    oom = {"tp": 1, "pp": 1, "cp": 1, "dp": v.params["num_gpus"], "ep": 1, "etp": 1,
           "virtual_stages": 1, "micro_batch_size": 1, "zero_stage": "0", "recompute": "none"}
    result = estimate_training(mi.training_input(v.params, oom))
    assert not result.fits
    assert all(x is None for x in mi.estimates(v.params, oom, result).values())
    assert math.isclose(_points(scenario, 3, {**oom, "est_memory_gib": 100})["estimates"], 0.0)


def _blind(scenario: Scenario, seed: int) -> dict[str, tuple[float, float, float]]:
    """Role -> (score, band min, band max) of the blind answers of one seed."""
    out: dict[str, tuple[float, float, float]] = {}
    for path in sorted(CALIBRATION.glob(f"blind_s{seed}_*.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        report = grade_answer(scenario, case["seed"], case["answers"], None)
        score = float(score_of(report.criteria) or 0.0)
        role = path.name.removeprefix(f"blind_s{seed}_").removesuffix(".json")
        out[role] = (score, case["band"]["min"], case["band"]["max"])
        if path.name not in BELOW_BAND:
            assert case["band"]["min"] <= score <= case["band"]["max"], (path.name, score)
    return out


@pytest.mark.parametrize("seed", [3, 8])
def test_blind_answers_rank_like_an_interviewer(scenario: Scenario, seed: int) -> None:
    b = _blind(scenario, seed)
    assert len(b) == 10, sorted(b)
    s = {k: v[0] for k, v in b.items()}
    strong = [v for k, v in s.items() if k.startswith("strong")]
    weak = [s[k] for k in ("textbook", "wrong", "echo", "keyword_stuffed")]
    assert max(weak) < 30, s
    assert min(strong) > s["medium"] > s["structured_only"] > max(weak), s
    # The same facts in other words (strong_1's paraphrase) stay in the strong band.
    assert min(s["strong_1"], s["strong_1.paraphrase"]) >= 80, s
