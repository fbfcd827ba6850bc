"""power-and-cooling: the answer key follows the facility model and the prompt's assumptions,
and the cheap ways to fill the form (echo the prompt, TDP-only rules of thumb, no N+1 reserve,
a cap equal to the cooling share, keyword lists) land far below passing."""

from __future__ import annotations

import json
import statistics
from typing import Any

import pytest

from graders.engine import grade_answer, score_of
from scenarios.loader import Scenario

SID = "power-and-cooling"
SEEDS = 30
SECTIONS = ("design", "phasing", "degradation", "energy")
WRITE_UP = ("design", "phasing", "degradation", "energy_writeup")


def _key(scenario: Scenario, seed: int) -> dict[str, Any]:
    return dict(scenario.load_check("checks/answer_key.py").answer_key(
        scenario.render(seed).params))


def _score(scenario: Scenario, seed: int, answer: dict[str, Any]) -> float:
    return float(score_of(grade_answer(scenario, seed, answer, None).criteria) or 0.0)


def _points(scenario: Scenario, seed: int, answer: dict[str, Any], crit: str) -> float:
    report = grade_answer(scenario, seed, answer, None)
    return next(float(c.points or 0.0) for c in report.criteria if c.criterion_id == crit)


def test_key_by_hand_for_an_air_cooled_h100_hall(scenario: Scenario) -> None:
    # seed 1: 100 MW, DGX H100 two per rack (20.4 kW, under the 35 kW air limit), 15 %
    # overhead, air PUE 1.45, six 20 MW transformers, phase 1 energises two.
    p = scenario.render(1).params
    assert (p["system"], p["systems_per_rack"], p["xfmr_units"], p["phase1_units"]) == \
        ("dgx_h100", 2, 6, 2)
    key = _key(scenario, 1)
    assert key["cooling"] == "air"
    per_gpu = 10.2 / 8 * 1.15 * p["pue_air"]
    assert key["kw_per_gpu"] == pytest.approx(per_gpu, rel=1e-3)
    rack_facility = 20.4 * 1.15 * p["pue_air"]
    assert key["total_gpus"] == int(100_000 // rack_facility) * 16
    assert key["phase1_gpus"] == int(20_000 // rack_facility) * 16  # one of two in reserve
    # the cap takes the whole cut from the GPUs' 5.6 of 10.2 kW, overhead untouched
    share = p["cooling_pct"] / 100
    assert key["cooling_cap_pct"] == pytest.approx(
        100 * (1 - (1 - share) * 1.275 * 1.15 / 0.7), rel=1e-3)


def test_every_variant_needs_a_cap_below_the_cooling_share(scenario: Scenario,
                                                           variants: list[Any]) -> None:
    for v in variants:
        key = scenario.load_check("checks/answer_key.py").answer_key(v.params)
        assert 40 < key["cooling_cap_pct"] < v.params["cooling_pct"] - 3, v.seed
        assert key["ups_capped_min"] > key["ups_full_min"] > 2
        assert 0 < key["phase1_gpus"] < key["total_gpus"]


def test_the_view_holds_no_expected_value(scenario: Scenario) -> None:
    for seed in range(5):
        view = json.dumps(scenario.candidate_view(seed).model_dump(mode="json"))
        key = _key(scenario, seed)
        for k in ("total_gpus", "phase1_gpus"):
            assert f"{key[k]:,}" not in view and str(key[k]) not in view


def _echo(p: dict[str, Any]) -> dict[str, Any]:
    """Numbers lifted from the prompt with no derivation."""
    return {"cooling": "air", "kw_per_gpu": p["system_info"]["max_kw"],
            "total_gpus": p["scale_mw"], "phase1_gpus": p["phase1_units"],
            "ups_full_min": p["ups_mwh"], "ups_capped_min": p["ups_cap_pct"],
            "cooling_cap_pct": p["cooling_pct"], "annual_gwh": p["scale_mw"],
            "annual_cost_musd": p["price_usd_mwh"],
            "writeup": {s: "See the numbers above." for s in SECTIONS}}


def _rules_of_thumb(p: dict[str, Any]) -> dict[str, Any]:
    """TDP x 1.5 per GPU, every transformer counted, the cap equal to the cooling share,
    the UPS over the facility load, liquid cooling because it is the modern choice."""
    kw = p["system_info"]["gpu_tdp_w"] / 1000 * 1.5
    it_mw = p["scale_mw"] / 1.5
    return {"cooling": "direct_liquid", "kw_per_gpu": kw,
            "total_gpus": p["xfmr_units"] * p["xfmr_mw"] * 1000 / kw,
            "phase1_gpus": p["phase1_units"] * p["xfmr_mw"] * 1000 / kw,
            "ups_full_min": p["ups_mwh"] / p["scale_mw"] * 60,
            "ups_capped_min": p["ups_mwh"] / (p["scale_mw"] * p["ups_cap_pct"] / 100) * 60,
            "cooling_cap_pct": p["cooling_pct"],
            "annual_gwh": it_mw * 1.5 * 8760 / 1000,
            "annual_cost_musd": it_mw * 1.5 * 8760 * p["price_usd_mwh"] / 1e6,
            "writeup": {}}


def _stuffed(p: dict[str, Any]) -> dict[str, Any]:
    """Every phrasing of the rubric as lists, with the rules-of-thumb numbers."""
    words = ("direct liquid cooling, rear-door heat exchangers, kW per rack, rack density, "
             "all-in, nameplate, peak draw, diversity factor, N+1, firm capacity, held in "
             "reserve, spine, day one, lead time, interconnect, commissioning, burn-in, UPS, "
             "generator start, ride-through, power cap, power limit, non-GPU, only the GPUs, "
             "load shedding, preemptible, thermal mass, throttle, CDU, PPA, hedge, demand "
             "charge, 8760, average IT load, PUE.")
    return dict(_rules_of_thumb(p), writeup={s: words for s in SECTIONS})


@pytest.mark.parametrize("shortcut,ceiling", [(_echo, 8), (_rules_of_thumb, 15),
                                              (_stuffed, 20)])
def test_shortcuts_land_far_below_passing(scenario: Scenario, variants: list[Any],
                                          shortcut: Any, ceiling: float) -> None:
    scores = [_score(scenario, v.seed, shortcut(dict(v.params))) for v in variants]
    assert statistics.mean(scores) < ceiling, (shortcut.__name__, statistics.mean(scores))


def test_keyword_lists_earn_little_of_the_write_up(scenario: Scenario,
                                                   variants: list[Any]) -> None:
    shares = []
    for v in variants:
        report = grade_answer(scenario, v.seed, _stuffed(dict(v.params)), None)
        text = [c for c in report.criteria if c.criterion_id in WRITE_UP]
        shares.append(sum(c.points for c in text) / sum(c.max_points for c in text))
    assert statistics.mean(shares) < 0.12, statistics.mean(shares)


def test_right_numbers_without_reasoning_stay_below_a_pass(scenario: Scenario) -> None:
    solver = scenario.load_check("checks/selftest.py")
    for seed in (3, 8, 11):
        answer = solver.solve(scenario.candidate_view(seed).prompt_markdown)
        assert 30 < _score(scenario, seed, answer) <= 55


def test_design_write_up_earns_nothing_on_the_wrong_cooling(scenario: Scenario) -> None:
    ref = json.loads((scenario.path / "calibration" / "reference.json").read_text())
    answers = ref["answers"]
    assert _points(scenario, 3, answers, "design") > 6
    wrong = dict(answers, cooling="air")
    assert _points(scenario, 3, wrong, "design") == 0


def test_phase_write_up_scales_with_the_n_plus_1_figure(scenario: Scenario) -> None:
    ref = json.loads((scenario.path / "calibration" / "reference.json").read_text())
    answers = ref["answers"]
    full = _points(scenario, 3, answers, "phasing")
    no_reserve = dict(answers, phase1_gpus=answers["phase1_gpus"] * 5 / 4)
    assert _points(scenario, 3, no_reserve, "phasing") < 0.5 * full
