"""The plan check, with the real hardware models (graders.hw)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graders.checks import plan as plan_check
from graders.checks.base import CheckOutcome
from graders.hw import TrainingInput, estimate_training
from graders.rubric import PlanCheck
from tests.graders.factory import check_modules, context

MODEL_INPUT = {"checks/model_input.py": """
    def training_input(params, plan):
        return {"model": params["model"],
                "cluster": {"gpu": params["gpu"], "num_gpus": params["num_gpus"]},
                "plan": {"tp": int(plan["tp"]), "pp": int(plan["pp"]), "dp": int(plan["dp"]),
                         "micro_batch_size": int(plan.get("mbs", 1)),
                         "recompute": plan.get("recompute", "none"),
                         "zero_stage": int(plan.get("zero_stage", 1)),
                         "global_batch_size": params["gbs"], "seq_len": params["seq"]}}
"""}
PARAMS = {"model": "llama2-7b", "gpu": "H100-SXM-80GB", "num_gpus": 16, "gbs": 64, "seq": 4096}


def chk(**kw: Any) -> PlanCheck:
    data: dict[str, Any] = {
        "kind": "plan", "model_input": "checks/model_input.py",
        "fields": {"tp": "tp", "pp": "pp", "dp": "dp", "micro_batch_size": "mbs",
                   "recompute": "recompute", "zero_stage": "zero_stage"},
        "estimates": {"memory_gib": "est_mem", "step_time_s": "est_step"}}
    data.update(kw)
    return PlanCheck.model_validate(data)


def grade(tmp: Path, answer: dict[str, Any], **kw: Any) -> CheckOutcome:
    ctx = context(answer=answer, params=PARAMS, load_check=check_modules(tmp, MODEL_INPUT))
    return plan_check.run(chk(**kw), 10, ctx)


def model(answer: dict[str, Any]) -> Any:
    return estimate_training(TrainingInput.model_validate({
        "model": "llama2-7b", "cluster": {"gpu": "H100-SXM-80GB", "num_gpus": 16},
        "plan": {"tp": answer["tp"], "pp": answer["pp"], "dp": answer["dp"],
                 "micro_batch_size": answer.get("mbs", 1), "global_batch_size": 64,
                 "seq_len": 4096, "zero_stage": answer.get("zero_stage", 1)}}))


def ev(out: CheckOutcome, label: str) -> Any:
    return next(e for e in out.evidence if e.label == label)


def test_good_plan_with_right_estimates_earns_everything(tmp_path: Path) -> None:
    answer: dict[str, Any] = {"tp": 1, "pp": 1, "dp": 16, "zero_stage": 3}
    r = model(answer)
    answer.update(est_mem=r.memory_gib.total, est_step=r.step_time_s)
    out = grade(tmp_path, answer)
    assert out.points == pytest.approx(10)
    assert ev(out, "feasible").passed is True
    assert ev(out, "tokens_per_s").credit == 1.0
    assert ev(out, "estimate:step_time_s").passed is True


def test_slower_plan_gets_partial_throughput_credit(tmp_path: Path) -> None:
    out = grade(tmp_path, {"tp": 8, "pp": 2, "dp": 1})
    tput = ev(out, "tokens_per_s")
    assert ev(out, "feasible").passed is True
    assert 0 <= tput.credit < 1 and "of the realistic best searched plan" in tput.text
    assert "below the band of plans within 20% of it" in tput.text
    assert tput.value < tput.expected
    # feasible 0.4 + throughput share, estimates missing
    assert 4 <= out.points < 8


def test_plan_that_does_not_fit_says_why(tmp_path: Path) -> None:
    out = grade(tmp_path, {"tp": 1, "pp": 1, "dp": 16, "mbs": 4, "zero_stage": 0})
    feasible = ev(out, "feasible")
    assert feasible.passed is False and "does not fit" in feasible.text
    assert out.points <= 2  # only estimates could earn anything


def test_plan_that_cannot_be_laid_out_says_why(tmp_path: Path) -> None:
    out = grade(tmp_path, {"tp": 2, "pp": 1, "dp": 4})
    assert out.points == 0
    assert "must equal cluster.num_gpus" in ev(out, "feasible").text


def test_incomplete_plan(tmp_path: Path) -> None:
    out = grade(tmp_path, {"tp": 2})
    assert out.points == 0 and "plan incomplete" in ev(out, "feasible").text


def test_estimates_far_off_earn_nothing(tmp_path: Path) -> None:
    answer: dict[str, Any] = {"tp": 1, "pp": 1, "dp": 16, "zero_stage": 3}
    r = model(answer)
    answer.update(est_mem=r.memory_gib.total * 3, est_step=r.step_time_s * 1.4)
    out = grade(tmp_path, answer)
    assert ev(out, "estimate:memory_gib").credit == 0.0
    assert ev(out, "estimate:step_time_s").credit == 0.5  # within twice the tolerance
    assert out.points == pytest.approx(10 * (0.4 + 0.4 + 0.2 * 0.25))


def test_no_plan_is_unanswered(tmp_path: Path) -> None:
    out = grade(tmp_path, {})
    assert out.status == "unanswered" and out.points == 0


def test_plan_inside_the_band_earns_full_throughput_credit(tmp_path: Path) -> None:
    # 2/1/8 with b=1 is ~7% behind the search's best for this job: inside the 20% band.
    out = grade(tmp_path, {"tp": 2, "pp": 1, "dp": 8})
    tput = ev(out, "tokens_per_s")
    assert 0.8 <= tput.value / tput.expected < 1.0
    assert tput.credit == 1.0 and "inside the band" in tput.text
    assert "keeping 10% of memory free" in tput.text


def test_moe_jobs_have_a_wider_band_and_say_so(tmp_path: Path) -> None:
    from graders.hw import search_training

    dense = search_training("llama2-7b", {"gpu": "H100-SXM-80GB", "num_gpus": 16}, 64, 4096,
                            top=1)
    moe = search_training("mixtral-8x7b", {"gpu": "H100-SXM-80GB", "num_gpus": 16}, 64, 4096,
                          top=1)
    assert dense.confidence == "high" and dense.band_tolerance == 0.2
    assert moe.confidence == "low" and moe.band_tolerance == 0.35
    assert "mixture-of-experts" in moe.confidence_note
    assert dense.feasible[0].headroom_gib >= 0.1 * 79.19
