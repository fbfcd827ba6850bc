"""The real grade function: the scenario bank and the grading library, wired for workers.

Written against the grading library's contract (graders.engine.grade_scenario, combine;
Report with score, dimensions, criteria, grader_version, pending_review). Until that
library is installed in this checkout, `load_grade_fn()` returns None and the embedded
pool does not start: jobs stay queued (nothing is lost) until a worker that has it runs."""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

from server.grading.worker import GradeFn

log = logging.getLogger("burnin.grading")


def import_grade_fn(spec: str) -> GradeFn:
    """`package.module:attribute` -> the callable (for `burnin worker --grade-fn`)."""
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise ValueError(f"--grade-fn wants module:attribute, not {spec!r}")
    fn = getattr(import_module(module), attr)
    if not callable(fn):
        raise ValueError(f"{spec} is not callable")
    return fn  # type: ignore[no-any-return]


def load_grade_fn(root: Any = None) -> GradeFn | None:
    """The grade function workers use: each scenario of the attempt graded against its rubric
    for the attempt's variant seed (code through a fresh sandbox), then combined by weight."""
    try:
        engine = import_module("graders.engine")
        loader = import_module("scenarios.loader")
    except ImportError as exc:
        log.warning("grading library not available; grading jobs stay queued",
                    extra={"error": str(exc)})
        return None
    bank = loader.load_bank(root)
    runner_box: dict[str, Any] = {}

    def runner() -> Any:
        # Built on first use, so a bank without code scenarios needs no sandbox at all; a
        # missing sandbox makes tests checks infra_error (retried), never a wrong score.
        if "runner" not in runner_box:
            from server.grading_runner import try_build_runner

            runner_box["runner"], why = try_build_runner()
            if why:
                log.warning("no sandbox for hidden checks", extra={"reason": why})
        return runner_box["runner"]

    def grade_attempt(snapshot: dict[str, Any]) -> Any:
        reports, weights = [], {}
        for entry in snapshot["scenarios"]:
            sid = entry["scenario_id"]
            scenario = bank.scenarios.get(sid)
            if scenario is None:
                raise LookupError(f"scenario {sid!r} is not in the bank")
            answer = snapshot["answers"].get(sid, {}).get("content", {})
            needs_code = any(c.check.kind == "tests" for c in scenario.rubric.criteria)
            reports.append(engine.grade_answer(scenario, int(snapshot["seeds"].get(sid, 0)),
                                               answer, runner() if needs_code else None))
            weights[sid] = float(entry["weight"])
        return engine.combine(reports, weights)

    return grade_attempt
