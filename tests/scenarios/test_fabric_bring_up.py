"""fabric-bring-up resists shortcuts: a grep for each family's signature, a cluster-wide
guess, numbers echoed from the prompt, a textbook checklist, a right-sounding fix on a wrong
diagnosis; its expected bandwidths are the collective model's and match published figures."""

from __future__ import annotations

import re
import statistics
from typing import Any

import pytest

from scenarios.loader import Scenario
from tests.scenarios.factory import graded

SID = "fabric-bring-up"
SEEDS = 48
LOCAL = {"gdr_off", "rail_miswired", "pcie_acs", "mtu_mismatch"}


def test_expected_bandwidth_matches_published_nccl_figures(scenario: Scenario) -> None:
    key = scenario.load_check("checks/answer_key.py").answer_key
    # H100 + 8 x NDR: NVLink-bound ~370 GB/s (NCCL maintainers, nccl-tests #212);
    # DGX A100 + 8 x HDR: 192 GB/s (24 GB/s per NIC).
    h100 = key({"gpu_model": "H100-SXM-80GB", "num_nodes": 64, "measured_busbw_gbs": 200})
    a100 = key({"gpu_model": "A100-SXM4-80GB", "num_nodes": 32, "measured_busbw_gbs": 96})
    assert 360 <= h100["expected_busbw_gbs"] <= 372
    assert 185 <= a100["expected_busbw_gbs"] <= 192
    assert a100["shortfall_pct"] == pytest.approx(50, abs=1)


def test_measured_figure_is_the_logs_mean_at_8_gib(scenario: Scenario, variants: list[Any]) -> None:
    for v in variants[:6]:
        log = v.artifacts["nccl-tests/all_reduce_full.log"].decode()
        rows = re.findall(r"^\s+8589934592\s+\d+\s+float\s+sum\s+-1\s+\S+\s+\S+\s+(\S+)", log,
                          re.M)
        assert len(rows) == 3
        mean = statistics.mean(float(x) for x in rows)
        assert v.params["measured_busbw_gbs"] == pytest.approx(mean, abs=0.02)


def test_grep_only_solver_scores_under_30(scenario: Scenario, variants: list[Any]) -> None:
    hook = scenario.load_check("checks/selftest.py")
    grep = scenario.load_check("checks/grep_solver.py")
    scores, causes = [], 0
    for v in variants:
        for only_job in (False, True):
            ans = grep.solve(v.artifacts, job_hosts_only=only_job)
            scores.append(hook.grade(v, ans))
            causes += ans["cause_family"] == v.params["cause_family"]
    assert statistics.mean(scores) < 30, statistics.mean(scores)
    assert causes < 0.3 * len(scores)


def test_every_family_signature_also_sits_on_a_decoy(scenario: Scenario,
                                                     variants: list[Any]) -> None:
    grep = scenario.load_check("checks/grep_solver.py")
    for family, find in grep.ORDER:
        others = [v for v in variants if v.params["cause_family"] != family]
        hits = sum(find(v.artifacts, None) is not None for v in others)
        assert hits == len(others), (family, hits, len(others))


def test_cluster_wide_guess_earns_nothing_for_a_local_cause(scenario: Scenario,
                                                            variants: list[Any]) -> None:
    local = [v for v in variants if v.params["cause_family"] in LOCAL][:6]
    assert len(local) == 6
    for v in local:
        _, crit = graded(scenario, v, {"cause_family": v.params["cause_family"],
                                       "culprit_node": "all", "culprit_hca": "all"})
        assert crit["culprit_node"].points == 0 and crit["culprit_hca"].points == 0


def _echo(v: Any) -> dict[str, Any]:
    """Numbers lifted from the prompt: the HCA rate, the node and GPU counts."""
    rate = int(re.search(r"(\d+) Gb/s", v.params["nic"]).group(1))  # type: ignore[union-attr]
    return {"cause_family": "gdr_off", "culprit_node": "all", "culprit_hca": "all",
            "measured_busbw": v.params["num_nodes"] * 8, "expected_busbw": rate,
            "evidence": f"{v.params['num_nodes']} nodes, {rate} Gb/s HCAs.",
            "fix": "Fix the fabric.", "verification": "Rerun the test."}


def _textbook(v: Any) -> dict[str, Any]:
    """The checklist answer: the most common cause, line rate as the target, every fix."""
    return {"cause_family": "gdr_off", "culprit_node": "all", "culprit_hca": "all",
            "measured_busbw": 200, "expected_busbw": 400,
            "evidence": "Low NCCL bandwidth on a new cluster is usually GPUDirect RDMA not "
                        "working: nvidia_peermem is not loaded, so NCCL copies through host "
                        "memory. Other usual suspects are ACS, the MTU and NCCL_IB_HCA.",
            "fix": "Load nvidia_peermem with modprobe on every node, disable ACS in the BIOS, "
                   "set the MTU to 4096, list all HCAs in NCCL_IB_HCA, enable adaptive "
                   "routing, and add a preflight check.",
            "verification": "Rerun all_reduce_perf and ib_write_bw and compare busbw."}


@pytest.mark.parametrize("shortcut,ceiling", [(_echo, 12), (_textbook, 25)])
def test_shortcuts_land_far_below_passing(scenario: Scenario, variants: list[Any],
                                          shortcut: Any, ceiling: float) -> None:
    scores = [(graded(scenario, v, shortcut(v))[0].score or 0.0) for v in variants[:24]]
    assert statistics.mean(scores) < ceiling, (shortcut.__name__, statistics.mean(scores))


def test_write_ups_are_gated_by_the_cause(scenario: Scenario, variants: list[Any]) -> None:
    v = next(v for v in variants if v.params["cause_family"] == "pcie_acs")
    p = v.params
    answer = {"cause_family": "mtu_mismatch", "culprit_node": p["culprit_node"],
              "culprit_hca": "all", "measured_busbw": p["measured_busbw_gbs"],
              "evidence": f"The two pairs with {p['culprit_node']} are slow in pairs.txt, "
                          "single-node runs are fine, so that host drags the ring down.",
              "fix": f"Fix {p['culprit_node']} and add a bring-up check.",
              "verification": "Rerun all_reduce_perf at full scale and the pair sweep."}
    _, crit = graded(scenario, v, answer)
    for cid in ("cause", "culprit_node", "culprit_hca", "evidence", "fix", "verification"):
        assert crit[cid].points == 0, cid
    assert crit["measured"].points == crit["measured"].max_points


def test_naming_a_spare_in_the_fix_earns_less(scenario: Scenario, variants: list[Any]) -> None:
    v = next(v for v in variants if v.params["cause_family"] == "gdr_off")
    p = v.params
    spare = "gpu-su1-n17"
    base = {"cause_family": "gdr_off", "culprit_node": p["culprit_node"], "culprit_hca": "all"}
    right = {**base, "fix": f"Rebuild nvidia_peermem against the installed OFED on "
                            f"{p['culprit_node']} and modprobe it."}
    wrong = {**base, "fix": f"Rebuild nvidia_peermem against the installed OFED on {spare} "
                            "and modprobe it."}
    _, good = graded(scenario, v, right)
    _, bad = graded(scenario, v, wrong)
    assert good["fix"].points > 0
    assert bad["fix"].points < good["fix"].points


def test_reference_solver_finds_cause_node_and_hca_on_200_seeds(scenario: Scenario) -> None:
    solve = scenario.load_check("checks/solver.py").solve
    for seed in range(200):
        v = scenario.render(seed)
        want = {k: v.params[k] for k in ("cause_family", "culprit_node", "culprit_hca")}
        assert solve(v.artifacts) == want, seed
