"""network-design: the design is graded on its own consequences, and the cheap ways to fill
the form (the textbook 1:1 tree, the prompt's numbers echoed, the widest oversubscription,
a design the radix cannot wire, keyword lists) land far below the reference."""

from __future__ import annotations

from typing import Any

import pytest

from graders.engine import grade_answer, score_of
from scenarios.loader import Scenario

SID = "network-design"
SEEDS = 16
STRUCTURED = ("design", "switch_counts", "cabling", "allreduce_time", "alltoall_time")
WRITEUP = ("topology", "rails", "collectives", "operations")


def grade_score(report: Any) -> float:
    return float(score_of(report.criteria) or 0.0)


def _points(scenario: Scenario, seed: int, answers: dict[str, Any]) -> dict[str, float]:
    report = grade_answer(scenario, seed, answers)
    return {c.criterion_id: c.points for c in report.criteria}


def _share(points: dict[str, float], scenario: Scenario, ids: tuple[str, ...]) -> float:
    top = {c.id: c.points for c in scenario.rubric.criteria}
    return sum(points[i] for i in ids) / sum(top[i] for i in ids)


def _numbers(scenario: Scenario, params: dict[str, Any], design: dict[str, Any]) -> dict[str, Any]:
    """The design's own counts and times, as an engineer computing correctly would give."""
    m = scenario.load_check("checks/fabric_model.py")
    tiers = int(design["tiers"])
    tree = m.design(params, tiers, design["leaf_down"],
                    design["spine_down"] if tiers == 3 else None)
    coll = m.collectives(params, tree)
    return {**design, "leaf_switches": tree.leaves, "spine_switches": tree.spines,
            "core_switches": tree.cores, "transceivers": tree.transceivers,
            "fabric_cost_musd": m.cost_musd(params, tree.switches, tree.transceivers),
            "bisection_tbps": tree.bisection_tbps, "allreduce_ms": coll["allreduce_ms"],
            "alltoall_ms": coll["alltoall_ms"]}


def test_reference_solver_earns_every_structured_point(scenario: Scenario,
                                                       variants: list[Any]) -> None:
    solve = scenario.load_check("checks/selftest.py").solve
    for v in variants:
        pts = _points(scenario, v.seed, solve(v.params))
        assert _share(pts, scenario, STRUCTURED) == pytest.approx(1.0), v.seed


def test_textbook_full_tree_loses_the_cost_where_oversubscription_was_allowed(
        scenario: Scenario, variants: list[Any]) -> None:
    st = scenario.load_check("checks/selftest.py")
    hit = 0
    for v in variants:
        ref = st.solve(v.params)
        if ref["leaf_down"] == v.params["radix"] // 2 and ref["spine_down"] in (
                v.params["radix"], v.params["radix"] // 2):
            continue  # the requirement forces 1:1 on this seed
        full = _numbers(scenario, v.params, st.full_tree(v.params))
        report = grade_answer(scenario, v.seed, full)
        by_id = {c.criterion_id: c for c in report.criteria}
        # Feasible, and its own counts and times are right for its design ...
        for cid in ("switch_counts", "allreduce_time", "alltoall_time"):
            credits = [e.credit for e in by_id[cid].evidence
                       if e.label.startswith("estimate:")]
            assert credits and all(c == 1.0 for c in credits), (v.seed, cid)
        # ... but where a taper was allowed and much cheaper, the design and with it the
        # numbers keep only part of their points.
        assert by_id["design"].points <= 18
        if by_id["design"].points <= 0.6 * 18:  # the taper saved more than ~15%
            hit += 1
            assert by_id["switch_counts"].points < 6, v.seed
            assert grade_score(report) <= 35, v.seed
    assert hit >= SEEDS // 4


def test_oversubscribed_choice_is_graded_on_its_own_numbers(scenario: Scenario,
                                                            variants: list[Any]) -> None:
    st = scenario.load_check("checks/selftest.py")
    for v in variants:
        ref = st.solve(v.params)
        if ref["tiers"] != "3" or ref["spine_down"] == v.params["radix"] // 2:
            continue
        # The full tree's all-to-all time on the oversubscribed design is wrong for it.
        full = _numbers(scenario, v.params, st.full_tree(v.params))
        wrong_times = {**ref, "alltoall_ms": full["alltoall_ms"]}
        assert _points(scenario, v.seed, wrong_times)["alltoall_time"] < 5, v.seed


def test_a_design_the_radix_cannot_wire_earns_nothing_for_its_counts(
        scenario: Scenario, variants: list[Any]) -> None:
    for v in variants:
        k = v.params["radix"]
        if v.params["num_gpus"] <= k * k // 2:
            continue
        two = _numbers(scenario, v.params, {"tiers": "2", "leaf_down": k // 2, "spine_down": k})
        pts = _points(scenario, v.seed, two)
        assert _share(pts, scenario, STRUCTURED) == 0.0, v.seed


def test_widest_oversubscription_and_echoed_numbers_fail(scenario: Scenario,
                                                         variants: list[Any]) -> None:
    for v in variants:
        p = v.params
        k = p["radix"]
        widest = {"tiers": "3", "leaf_down": k - 1, "spine_down": k - 1}
        assert _points(scenario, v.seed, widest)["design"] == 0.0
        echo = {"tiers": "3", "leaf_down": k // 2, "spine_down": k // 2,
                "leaf_switches": p["num_nodes"], "spine_switches": k, "core_switches": k,
                "transceivers": p["num_gpus"], "fabric_cost_musd": p["switch_price_k"],
                "bisection_tbps": p["num_gpus"], "allreduce_ms": p["grad_gb"],
                "alltoall_ms": p["a2a_mib"]}
        pts = _points(scenario, v.seed, echo)
        # (a count may match by chance: k cores is right for some sizes)
        assert sum(pts[c] for c in ("switch_counts", "cabling", "allreduce_time",
                                    "alltoall_time")) <= 3.0


def test_keyword_lists_earn_little_of_the_write_up(scenario: Scenario) -> None:
    import json
    doc = json.loads((scenario.path / "calibration" / "keyword_stuffed.json").read_text())
    ref = json.loads((scenario.path / "calibration" / "reference.json").read_text())
    stuffed = _points(scenario, ref["seed"], {**ref["answers"], "writeup":
                                              doc["answers"]["writeup"]})
    strong = _points(scenario, ref["seed"], ref["answers"])
    assert _share(stuffed, scenario, WRITEUP) <= 0.2
    assert _share(strong, scenario, WRITEUP) >= 0.8


@pytest.mark.parametrize("plan", [
    {"tiers": "3", "leaf_down": 32},                       # spine_down missing
    {"tiers": "3", "leaf_down": 127, "spine_down": 128},   # more ports than the switch has
    {"tiers": "2", "leaf_down": 0},
    {"tiers": "3", "leaf_down": 32, "spine_down": 4},      # under one leaf per rail
])
def test_impossible_plans_score_zero_without_errors(scenario: Scenario, plan: dict[str, Any]) -> None:
    pts = _points(scenario, 8, plan)
    assert pts["design"] == 0.0
    assert _share(pts, scenario, STRUCTURED) == 0.0
