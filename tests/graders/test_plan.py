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


def test_unknown_training_plan_key_is_our_error_not_the_candidates(tmp_path: Path) -> None:
    from graders.checks.base import CheckSetupError

    ctx = context(answer={"tp": 1, "pp": 1, "dp": 16, "gpu": "H100"}, params=PARAMS,
                  load_check=check_modules(tmp_path, MODEL_INPUT))
    check = chk(fields={"tp": "tp", "pp": "pp", "dp": "dp", "gpu": "gpu"})
    with pytest.raises(CheckSetupError, match="unknown plan keys"):
        plan_check.run(check, 10, ctx)


ASSESS = {"checks/model_input.py": """
    def assess(params, plan):
        n = int(plan["replicas"])
        if n > 100:
            raise ValueError("too many replicas to lay out")
        ok = n * params["per_replica"] >= params["demand"]
        return {"feasible": ok, "reason": "carries the peak" if ok else "too few replicas",
                "quality": min(1.0, params["best"] / n), "quality_text": f"{n} replicas",
                "metrics": {"gpus": 2.0 * n, "latency_ms": None}, "values": {"n": n}}
"""}
ASSESS_PARAMS = {"per_replica": 10, "demand": 40, "best": 4}


def assess_grade(tmp: Path, answer: dict[str, Any], **kw: Any) -> CheckOutcome:
    data: dict[str, Any] = {"kind": "plan", "model_input": "checks/model_input.py",
                            "fields": {"replicas": "replicas"},
                            "weights": {"feasible": 0.5, "throughput": 0.5}}
    data.update(kw)
    ctx = context(answer=answer, params=ASSESS_PARAMS, load_check=check_modules(tmp, ASSESS))
    return plan_check.run(PlanCheck.model_validate(data), 10, ctx)


def test_assess_module_judges_its_own_plan_keys(tmp_path: Path) -> None:
    best = assess_grade(tmp_path, {"replicas": 4})
    assert best.points == pytest.approx(10)
    assert ev(best, "feasible").passed and ev(best, "model").value == {"n": 4}
    over = assess_grade(tmp_path, {"replicas": 8})
    assert over.points == pytest.approx(5 + 5 * 0.5)
    assert "50% quality credit" in over.detail


def test_assess_infeasible_plan_earns_no_quality_and_says_why(tmp_path: Path) -> None:
    out = assess_grade(tmp_path, {"replicas": 2})
    assert out.points == 0
    assert "too few replicas" in out.detail
    laid = assess_grade(tmp_path, {"replicas": 500})
    assert laid.points == 0 and "cannot be laid out: too many replicas" in laid.detail


def test_assess_estimates_are_judged_against_the_candidates_own_plan(tmp_path: Path) -> None:
    kw = {"estimates": {"gpus": "gpus", "latency_ms": "lat"}, "estimate_rel_tol": 0.1,
          "weights": {"estimates": 1.0}}
    out = assess_grade(tmp_path, {"replicas": 8, "gpus": 16, "lat": 30}, **kw)
    assert ev(out, "estimate:gpus").credit == 1.0
    assert ev(out, "estimate:latency_ms").text == "no model value for this plan"
    assert out.points == pytest.approx(5)
    half = assess_grade(tmp_path, {"replicas": 8, "gpus": 19}, **kw)
    assert ev(half, "estimate:gpus").credit == 0.5
