"""cooling-incident resists shortcuts: a grep of the event logs for each cause's signature, a
grep of the DCGM throttle bits, a textbook "check the cooling" answer, numbers echoed from the
first lines, a write-up that names every cause, keyword stuffing; its clocks are the throttle
model's (graders.hw.facility) and its blast radius and step time are consistent."""

from __future__ import annotations

import csv
import io
import json
import statistics
from pathlib import Path
from typing import Any

import pytest

from graders.engine import grade_answer, score_of
from graders.hw.facility import step_time_ratio
from scenarios.loader import Scenario
from tests.scenarios.factory import graded

SID = "cooling-incident"
SEEDS = 30
CALIBRATION = Path(__file__).resolve().parents[2] / "scenarios" / "cooling_incident" / "calibration"
TEXT = ("evidence", "mitigation", "fix")


def _rows(v: Any, path: str) -> list[dict[str, str]]:
    text = v.artifacts[path].decode()
    return list(csv.DictReader(io.StringIO(
        "\n".join(ln for ln in text.splitlines() if not ln.startswith("#")))))


def _max_clock(v: Any) -> float:
    import re

    m = re.search(r"gpu_max_sm_clock_mhz: (\d+)", v.artifacts["inventory/hall.yaml"].decode())
    assert m
    return float(m.group(1))


def _throttled_now(v: Any) -> list[dict[str, str]]:
    return [r for r in _rows(v, "telemetry/dcgm_now.csv")
            if int(r["DCGM_FI_DEV_CLOCK_THROTTLE_REASONS"])]


def test_every_family_is_drawn_and_the_bits_match_the_family(variants: list[Any]) -> None:
    want = {"cdu_pump_degraded": {0x20}, "facility_supply_temp": {0x20},
            "cold_plate_fault": {0x68, 0x20}, "rack_power_cap": {0x4},
            "psu_power_brake": {0x88}}
    seen = set()
    for v in variants:
        fam = v.params["cause_family"]
        seen.add(fam)
        bits = {int(r["DCGM_FI_DEV_CLOCK_THROTTLE_REASONS"]) for r in _throttled_now(v)}
        assert bits and bits <= want[fam], (v.seed, fam, bits)
    assert seen == set(want)


def test_blast_radius_is_the_culprits(variants: list[Any]) -> None:
    for v in variants:
        p = v.params
        thr = _throttled_now(v)
        racks = {r["rack"] for r in thr}
        hosts = {r["Hostname"] for r in thr}
        fam = p["cause_family"]
        if fam in ("cold_plate_fault", "psu_power_brake"):
            assert hosts == {p["culprit"]}, v.seed
        elif fam == "rack_power_cap":
            assert racks == {p["culprit"]}
            n = sum(r["rack"] == p["culprit"] for r in _rows(v, "telemetry/dcgm_now.csv"))
            assert len(thr) == n  # every GPU of the rack is capped
        elif fam == "cdu_pump_degraded":
            assert racks == set(p["affected_racks"])  # every rack on the CDU, no other
        else:
            assert racks <= set(p["affected_racks"]) and len(thr) >= 1


def test_capped_gpus_sit_at_their_limit_and_run_cooler(variants: list[Any]) -> None:
    for v in variants:
        if v.params["cause_family"] != "rack_power_cap":
            continue
        rows = _rows(v, "telemetry/dcgm_now.csv")
        capped = [r for r in rows if r["rack"] == v.params["culprit"]]
        other = [r for r in rows if r["rack"] != v.params["culprit"]]
        for r in capped:
            assert float(r["DCGM_FI_DEV_POWER_USAGE"]) == pytest.approx(
                float(r["DCGM_FI_DEV_POWER_MGMT_LIMIT"]), rel=0.02)
        assert statistics.mean(float(r["DCGM_FI_DEV_GPU_TEMP"]) for r in capped) < \
            statistics.mean(float(r["DCGM_FI_DEV_GPU_TEMP"]) for r in other) - 3
        feeds = [r for r in _rows(v, "power/pdu_hourly.csv")
                 if r["rack"] == v.params["culprit"] and r["hour_start"].endswith("07:00:00Z")]
        assert sum(r["state"] == "OPEN" for r in feeds) == 1


def test_step_time_follows_the_slowest_rank(variants: list[Any]) -> None:
    for v in variants:
        base = _rows(v, "train/rank_timings_baseline.csv")
        now = _rows(v, "train/rank_timings_now.csv")
        step_b = statistics.median(float(r["step_ms"]) for r in base)
        step_n = statistics.median(float(r["step_ms"]) for r in now)
        # The per-rank window and the step log's last hour agree with each other ...
        assert step_n / step_b == pytest.approx(
            1 + v.params["step_time_increase_pct"] / 100, rel=0.012), v.seed
        # ... and with the throttle model: the slowest clock stretches the clock-bound part.
        ratio = v.params["slowest_clock_mhz"] / _max_clock(v)
        # (0.7-0.84 of the compute is clock-bound; compute is 90-94 % of a step)
        assert step_time_ratio(ratio, 0.62) - 0.02 <= step_n / step_b <= \
            step_time_ratio(ratio, 0.8) + 0.01, v.seed


def test_decoys_sit_on_every_seed(variants: list[Any]) -> None:
    for v in variants:
        p = v.params
        hourly = _rows(v, "telemetry/dcgm_hourly.csv")
        test = [r for r in hourly if r["rack"] == p["test_rack"]
                and r["hour_start"].endswith("T02:00:00Z")]
        assert test and all(int(r["throttle_reasons_or"], 16) & 0x4 for r in test)
        # The test window closed: nothing of the test rack is power-capped now.
        assert not any(r["rack"] == p["test_rack"]
                       and int(r["DCGM_FI_DEV_CLOCK_THROTTLE_REASONS"]) & 0x4
                       for r in _throttled_now(v))
        assert any(int(r["throttle_reasons_or"], 16) & 0x80 for r in hourly
                   if r["Hostname"] in p["decoy_nodes"])
        sel = v.artifacts["bmc/sel.log"].decode()
        assert "Power Brake | State Deasserted" in sel and "Upper Non-critical" in sel
        bms = v.artifacts["facility/bms_alarms.log"].decode()
        assert "Pump fault" in bms and "Facility water supply temp high warning" in bms


def test_grep_solvers_score_under_their_ceilings(scenario: Scenario,
                                                 variants: list[Any]) -> None:
    hook = scenario.load_check("checks/selftest.py")
    grep = scenario.load_check("checks/grep_solver.py")
    naive, bits, causes = [], [], 0
    for v in variants:
        for skip in (0, 2):
            ans = grep.solve(v.artifacts, skip_first=skip)
            naive.append(hook.grade(v, ans))
            causes += ans["cause_family"] == v.params["cause_family"]
        bits.append(hook.grade(v, grep.solve_bits(v.artifacts)))
    assert statistics.mean(naive) < 20, statistics.mean(naive)
    assert causes < 0.35 * len(naive)
    # Reading the hourly bits finds the node-level causes (it is the first step of a real
    # diagnosis); without the facility data and the write-up it stays a medium-low answer.
    assert statistics.mean(bits) < 40, statistics.mean(bits)


def test_every_log_signature_also_sits_on_a_decoy(scenario: Scenario,
                                                  variants: list[Any]) -> None:
    grep = scenario.load_check("checks/grep_solver.py")
    for family, find in grep.ORDER:
        others = [v for v in variants if v.params["cause_family"] != family]
        assert all(find(v.artifacts) is not None for v in others), family


def _textbook(v: Any) -> dict[str, Any]:
    """The checklist answer: a slow liquid-cooled run is the cooling, every fix listed."""
    return {"cause_family": "cdu_pump_degraded", "culprit": "all", "slowest_clock_mhz": 1500,
            "step_time_increase_pct": 10,
            "evidence": "When a liquid-cooled cluster slows down it is usually cooling: GPUs "
                        "overheat and thermal throttle. Check the CDU flow, the facility water, "
                        "the cold plates and the power caps.",
            "mitigation": "Check cooling, lower the power limits and drain hot nodes.",
            "fix": "Fix the cooling, add alerts on GPU temperature and throttling."}


def _echo(v: Any) -> dict[str, Any]:
    """Numbers lifted from the first lines: the first GPU's clock, first vs last step."""
    first = _rows(v, "telemetry/dcgm_now.csv")[0]
    steps = v.artifacts["train/steps.log"].decode().splitlines()
    a = float(steps[0].split("step_time_ms=")[1].split()[0])
    b = float(steps[-1].split("step_time_ms=")[1].split()[0])
    return {"cause_family": "facility_supply_temp", "culprit": first["Hostname"],
            "slowest_clock_mhz": int(first["DCGM_FI_DEV_SM_CLOCK"]),
            "step_time_increase_pct": round(b / a * 100 - 100, 1),
            "evidence": f"The step time went from {a:.0f} ms to {b:.0f} ms.",
            "mitigation": "Restart the job.", "fix": "Check the hardware."}


def _every_family(v: Any) -> dict[str, Any]:
    """The right cause picked, then a write-up that asserts every cause at once."""
    return {"cause_family": v.params["cause_family"], "culprit": "all",
            "evidence": "The CDU pump lost flow and the standby pump did not start, the "
                        "facility water supply rose after a chiller trip, a cold plate is "
                        "fouled on one node, a rack lost a feed and its GPUs are power capped "
                        "with SW_POWER_CAP, and a PSU failure asserted the power brake. The "
                        "slowest rank sets the pace of the synchronous job.",
            "mitigation": "Fail over to the standby pump, lower the power limits, drain the "
                          "hot nodes and close the feed.",
            "fix": "Repair the pump, the chiller, the cold plate, the feed and the PSU, and "
                   "add alerts on throttle reasons."}


def _stuffed(v: Any) -> dict[str, Any]:
    return {"cause_family": v.params["cause_family"], "culprit": "all",
            "evidence": "SW_POWER_CAP HW_POWER_BRAKE SW thermal slowdown flow lpm VFD HAND "
                        "standby pump FWS chiller W32 cold plate quick disconnect RMA power "
                        "limit budget feed OPEN tap-off PSU redundancy lost straggler "
                        "synchronous comm_wait demand-response hot aisle data loader diurnal",
            "mitigation": "fail over P2 drain cordon spare power limit chiller feed checkpoint",
            "fix": "PSU VFD cold plate chiller tap-off alert monitor baseline throttle clock"}


@pytest.mark.parametrize("shortcut,ceiling", [(_echo, 12), (_textbook, 15),
                                              (_every_family, 45), (_stuffed, 25)])
def test_shortcuts_land_far_below_passing(scenario: Scenario, variants: list[Any],
                                          shortcut: Any, ceiling: float) -> None:
    scores = [(graded(scenario, v, shortcut(v))[0].score or 0.0) for v in variants[:15]]
    assert statistics.mean(scores) < ceiling, (shortcut.__name__, statistics.mean(scores))


def test_write_ups_are_gated_by_the_cause(scenario: Scenario, variants: list[Any]) -> None:
    v = next(v for v in variants if v.params["cause_family"] == "rack_power_cap")
    p = v.params
    answer = {"cause_family": "facility_supply_temp", "culprit": p["culprit"],
              "slowest_clock_mhz": p["slowest_clock_mhz"],
              "evidence": f"Rack {p['culprit']} lost a feed, its budget dropped and its GPUs "
                          "show SW_POWER_CAP at the lower power limit.",
              "mitigation": "Close the feed again or drain the rack.",
              "fix": "Finish the tap-off work and restore the budget; alert on throttling."}
    _, crit = graded(scenario, v, answer)
    for cid in ("cause", "culprit", "evidence", "mitigation", "fix"):
        assert crit[cid].points == 0, cid
    assert crit["slowest_clock"].points == crit["slowest_clock"].max_points


def test_the_right_cause_with_its_evidence_beats_the_cause_alone(
        scenario: Scenario, variants: list[Any]) -> None:
    v = next(v for v in variants if v.params["cause_family"] == "psu_power_brake")
    p = v.params
    bare = {"cause_family": "psu_power_brake", "culprit": p["culprit"]}
    full = {**bare,
            "evidence": f"{p['culprit']}'s BMC logged a PSU failure after another PSU had lost "
                        "AC, redundancy was lost and the GPU power brake asserted; since then "
                        f"its GPUs run at {p['slowest_clock_mhz']} MHz with throttle reasons "
                        "0x88 (HW slowdown + power brake), at low power and cool. The job is "
                        "synchronous, so every other rank waits for that node at each "
                        "all-reduce and their comm_wait grew.",
            "mitigation": "Drain the node, swap in a spare and restart from the last "
                          "checkpoint; the restart costs the steps since the checkpoint.",
            "fix": "Replace the failed PSU and restore AC to the other one so redundancy is "
                   "back; verify the GPUs are at full clock with no throttle bits and the step "
                   "time is back to the baseline; alert on redundancy-degraded SEL events."}
    low = graded(scenario, v, bare)[0].score or 0.0
    high = graded(scenario, v, full)[0].score or 0.0
    # `full` rules out no decoy and compares no option in numbers: about half the write-up
    # points (53 of 100 measured), far above the cause alone.
    assert low <= 25 and high >= low + 30, (low, high)


def test_reference_solver_finds_the_cause_on_every_seed(scenario: Scenario,
                                                        variants: list[Any]) -> None:
    solve = scenario.load_check("checks/solver.py").solve
    keys = ("cause_family", "culprit", "slowest_clock_mhz", "step_time_increase_pct")
    for v in variants:
        assert solve(v.artifacts) == {k: v.params[k] for k in keys}, v.seed


def _blind(scenario: Scenario, seed: int) -> dict[str, tuple[float, float]]:
    """Each blind answer of the seed: (score, points of the write-up criteria)."""
    out: dict[str, tuple[float, float]] = {}
    for path in sorted(CALIBRATION.glob(f"blind_s{seed}_*.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        report = grade_answer(scenario, case["seed"], case["answers"], None)
        text = sum(c.points for c in report.criteria if c.criterion_id in TEXT)
        out[path.name.removeprefix(f"blind_s{seed}_").removesuffix(".json")] = \
            (score_of(report.criteria) or 0.0, text)
    return out


@pytest.mark.parametrize("seed", [3, 8])
def test_blind_answers_rank_like_an_interviewer(scenario: Scenario, seed: int) -> None:
    """Written blind from the candidate view. The echo and keyword-stuffed answers carry the
    right findings (the writer knew them), so their write-ups are what is tested: restating the
    artifacts or stuffing buzzwords earns at most a few points over one-line notes."""
    s = _blind(scenario, seed)
    assert len(s) == 10, sorted(s)
    score = {k: v[0] for k, v in s.items()}
    strong = [v for k, v in score.items() if k.startswith("strong")]
    assert min(strong) >= 80, score
    assert min(strong) > score["medium"] > score["structured_only"], score
    assert score["structured_only"] > max(score["textbook"], score["wrong"]), score
    assert max(score["textbook"], score["wrong"]) < 35, score
    for role in ("echo", "keyword_stuffed"):
        assert s[role][1] <= s["structured_only"][1] + 6, (role, s)
        assert score[role] < score["medium"] - 10, (role, score)
    assert abs(score["strong_1"] - score["strong_1.paraphrase"]) <= 5, score
