"""Shared parts of the training-plan design scenarios (train-large-dense, moe-training).

Both grade a parallelism plan with the hardware models' plan search (graders.hw, imported
inside functions so the bank loads without it): `search` runs it once per job (a pure
function of its input, cached), `plan_answers` turns a searched PlanSpec back into the
form's plan fields, and `ratio_to_best` says how a plan compares with the search's best.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

# Problems of the training model that make a plan unrunnable (the plan check's list).
UNRUNNABLE = frozenset({"precision_unsupported", "uneven_pipeline", "interleave_microbatches",
                        "cp_seq_divisibility", "out_of_memory"})


@lru_cache(maxsize=128)
def _search(key: str) -> Any:
    from graders.hw import ModelSpec, search_training

    job = json.loads(key)
    return search_training(ModelSpec.model_validate(job["model"]), job["cluster"],
                           job["gbs"], job["seq"], top=5)


def search(model: dict[str, Any], cluster: dict[str, Any], gbs: int, seq: int) -> Any:
    """graders.hw.search_training for the job (BF16, top 5), cached per job."""
    return _search(json.dumps({"model": model, "cluster": cluster, "gbs": gbs, "seq": seq},
                              sort_keys=True))


def plan_answers(plan: Any) -> dict[str, Any]:
    """A graders.hw PlanSpec -> form plan fields (ep/etp only when they are not neutral)."""
    out = {"tp": plan.tp, "pp": plan.pp, "dp": plan.dp, "cp": plan.cp,
           "virtual_stages": plan.virtual_stages, "micro_batch_size": plan.micro_batch_size,
           "zero_stage": str(plan.zero_stage), "recompute": plan.recompute,
           "sequence_parallel": "yes" if plan.sequence_parallel else "no",
           "precision": plan.precision}
    if plan.ep > 1:
        out["ep"] = plan.ep
    if plan.etp is not None:
        out["etp"] = plan.etp
    return out


def runnable(result: Any) -> bool:
    """The plan fits and lays out (no unrunnable problem)."""
    return bool(result.fits) and not any(p.code in UNRUNNABLE for p in result.problems)


def ratio_to_best(build: Any, answers: dict[str, Any], best_tokens_per_s: float) -> dict[str, Any]:
    """How the plan `answers` fares against the search's best: status (layout / oom / ok),
    tokens/s ratio (0 unless ok), reason. `build(answers)` returns the TrainingInput."""
    from graders.hw import estimate_training

    try:
        result = estimate_training(build(answers))
    except (ValueError, KeyError) as exc:  # pydantic ValidationError included
        lines = [ln.strip() for ln in str(exc).splitlines()
                 if ln.strip() and "errors.pydantic.dev" not in ln and "validation error" not in ln]
        return {"status": "layout", "ratio": 0.0,
                "reason": lines[0].removeprefix("Value error, ") if lines else "layout"}
    blocking = [p.code for p in result.problems if p.code in UNRUNNABLE]
    status = "oom" if "out_of_memory" in blocking else "layout" if blocking else "ok"
    best = max(best_tokens_per_s, result.tokens_per_s)
    ratio = result.tokens_per_s / best if status == "ok" and best else 0.0
    return {"status": status, "ratio": ratio, "reason": ", ".join(blocking),
            "memory_gib": result.memory_gib.total, "step_time_s": result.step_time_s,
            "tokens_per_s": result.tokens_per_s}
