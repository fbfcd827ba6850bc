"""The real grade function: the scenario bank, the grading library and the sandbox runner,
wired for workers. `burnin worker --grade-fn module:attr` can replace it (tests, benches)."""

from __future__ import annotations

import logging
from importlib import import_module
from typing import TYPE_CHECKING, Any

from server.config import Settings
from server.grading.errors import BadGradeFn, ScenarioNotInBank
from server.grading.worker import GradeFn

if TYPE_CHECKING:
    from graders.report import Report
    from graders.runner import Runner
    from scenarios.loader import Bank

log = logging.getLogger("burnin.grading")


def import_grade_fn(spec: str) -> GradeFn:
    """`package.module:attribute` -> the callable (for `burnin worker --grade-fn`)."""
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise BadGradeFn(f"--grade-fn wants module:attribute, not {spec!r}")
    fn = getattr(import_module(module), attr)
    if not callable(fn):
        raise BadGradeFn(f"{spec} is not callable")
    return fn  # type: ignore[no-any-return]


def make_grade_fn(bank: Bank, runner: Runner | None) -> GradeFn:
    """grade_fn(snapshot) -> graders.report.Report for one attempt: each scenario's answer
    graded against its variant (seed drawn at start), combined with the assessment's
    weights. Candidate code runs through `runner` (None: tests checks are infra_error,
    which the worker retries and finally leaves pending for a person)."""
    from graders import engine

    def grade_attempt(snapshot: dict[str, Any]) -> Report:
        reports, weights = [], {}
        for entry in snapshot["scenarios"]:
            sid = entry["scenario_id"]
            if sid not in bank.scenarios:
                raise ScenarioNotInBank(f"scenario {sid!r} is not in the bank "
                                  f"({'; '.join(map(str, bank.errors_for(sid))) or 'missing'})")
            seed = int(snapshot["seeds"].get(sid, 0))
            answer = snapshot["answers"].get(sid, {}).get("content", {})
            reports.append(engine.grade_answer(bank.scenarios[sid], seed, answer, runner))
            weights[sid] = float(entry["weight"])
        return engine.combine(reports, weights)

    return grade_attempt


def load_grade_fn(settings: Settings, bank: Bank | None = None) -> GradeFn | None:
    """The production grade function on `bank` (default: the bank under
    settings.scenarios_root) and the sandbox `settings` name; None when the grading
    library is not installed. The app passes its own bank, so an app made with another
    scenarios root grades against that root."""
    try:
        from scenarios.loader import load_bank
        from server.notebooks.runner import try_build_runner
    except ImportError as exc:
        log.warning("grading library not available; grading jobs stay queued",
                    extra={"error": str(exc)})
        return None
    if bank is None:
        bank = load_bank(settings.scenarios_root)
    runner, why = try_build_runner(settings=settings)
    if runner is None:
        log.warning("no sandbox: code checks will be retried, then left for a person",
                    extra={"reason": why})
    return make_grade_fn(bank, runner)
