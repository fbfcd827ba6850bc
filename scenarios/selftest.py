"""Self-test of scenarios: files valid, generator deterministic, variants solvable.

Hooks a scenario may ship under checks/ (both optional, both hidden):
  solver.py    solve(artifacts: dict[str, bytes]) -> dict[str, Any]; every returned key must
               equal the variant parameter of that name (proves the variant is solvable from
               the artifacts alone and unambiguous).
  selftest.py  check(variant) -> list[str]; problems found in one variant (e.g. the code
               scenario runs its reference solver and judge on the hidden cases). An
               optional summary() -> list[str] in the same module is called after the last
               seed; its lines are printed as notes (figures over the seeds checked), a
               line starting with "PROBLEM: " is a self-test problem.
Calibration answers are validated against the form at load time, then graded with the
rubric engine (graders.engine): each must land in its band (over its `criteria` when the
file names some). Code is run through the runner the caller passes (the CLI builds one from
the sandbox); without a runner a scenario with tests checks cannot prove its bands.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graders.engine import grade_answer, score_of
from graders.runner import Runner
from scenarios.loader import Scenario
from scenarios.render import RenderError, build_candidate_view, render_variant


@dataclass
class CalibrationScore:
    file: str
    role: str
    score: float | None
    band_min: float
    band_max: float
    criteria: list[str] | None

    @property
    def ok(self) -> bool:
        return self.score is not None and self.band_min <= self.score <= self.band_max

    def __str__(self) -> str:
        got = "-" if self.score is None else f"{self.score:.1f}"
        over = f" over {','.join(self.criteria)}" if self.criteria else ""
        return (f"{self.file} ({self.role}): {got} in [{self.band_min:g}, {self.band_max:g}]"
                f"{over} {'ok' if self.ok else 'OUT OF BAND'}")


@dataclass
class SelftestResult:
    scenario_id: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seeds_rendered: int = 0
    seeds_solved: int = 0
    seeds_solver: int = 0
    seeds_checked: int = 0
    calibration: list[CalibrationScore] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def run_selftest(scenario: Scenario, *, seeds: int = 200, determinism_seeds: int = 3,
                 view_seeds: int = 10, progress: Callable[[str], None] | None = None,
                 runner: Runner | None = None, grade: bool = False) -> SelftestResult:
    res = SelftestResult(scenario.id)
    say = progress or (lambda _msg: None)
    t0 = time.monotonic()

    for seed in range(determinism_seeds):
        try:
            a, b = render_variant(scenario, seed), render_variant(scenario, seed)
        except RenderError as exc:
            res.problems.append(f"seed {seed}: {exc}")
            return res
        if a.params != b.params:
            res.problems.append(f"seed {seed}: parameters differ between two runs")
        if a.artifacts != b.artifacts:
            diff = sorted(k for k in set(a.artifacts) | set(b.artifacts)
                          if a.artifacts.get(k) != b.artifacts.get(k))
            res.problems.append(f"seed {seed}: artifacts differ between two runs: {diff[:5]}")
    if determinism_seeds:
        res.notes.append(f"generator deterministic on seeds 0..{determinism_seeds - 1}")
    mismatches = reference_field_mismatches(scenario)
    res.problems.extend(mismatches)
    if scenario.calibration and not mismatches:
        res.notes.append("reference answers agree with their variants on every field check")

    for seed in range(view_seeds):
        try:
            build_candidate_view(scenario, seed)
        except RenderError as exc:
            res.problems.append(f"seed {seed}: candidate view: {exc}")

    if scenario.manifest.scale is not None:
        check_scale(scenario, res, seeds)

    solver = _hook(scenario, "checks/solver.py", "solve", res)
    checker = _hook(scenario, "checks/selftest.py", "check", res)
    if solver or checker:
        for seed in range(seeds):
            try:
                variant = render_variant(scenario, seed)
            except RenderError as exc:
                res.problems.append(f"seed {seed}: {exc}")
                continue
            res.seeds_rendered += 1
            if solver:
                res.seeds_solver += 1
                try:
                    found: dict[str, Any] = solver(variant.artifacts)
                except Exception as exc:
                    res.problems.append(f"seed {seed}: solver crashed: {type(exc).__name__}: {exc}")
                    found = {}
                wrong = {k: (v, variant.params.get(k)) for k, v in found.items()
                         if variant.params.get(k) != v}
                if found and not wrong:
                    res.seeds_solved += 1
                elif found:
                    res.problems.append(f"seed {seed}: solver found {found}, planted "
                                        f"{ {k: variant.params.get(k) for k in found} }")
            if checker:
                try:
                    issues = checker(variant)
                except Exception as exc:
                    issues = [f"check crashed: {type(exc).__name__}: {exc}"]
                res.seeds_checked += 1
                res.problems.extend(f"seed {seed}: {p}" for p in issues)
            if seed and seed % 50 == 0:
                say(f"{scenario.id}: {seed} seeds")
    if solver:
        res.notes.append(f"solver: {res.seeds_solved}/{res.seeds_solver} seeds solved")
    if checker:
        res.notes.append(f"checks/selftest.py: {res.seeds_checked} seeds checked")
        summary = getattr(checker, "__globals__", {}).get("summary")
        if callable(summary):
            try:
                for line in map(str, summary()):
                    if line.startswith("PROBLEM: "):  # a figure out of its band
                        res.problems.append(f"checks/selftest.py: {line[9:]}")
                    else:
                        res.notes.append(line)
            except Exception as exc:
                res.problems.append(f"checks/selftest.py: summary() crashed: "
                                    f"{type(exc).__name__}: {exc}")
    if grade:
        grade_calibration(scenario, res, runner)
        good = sum(1 for c in res.calibration if c.ok)
        res.notes.append(f"calibration: {good}/{len(res.calibration)} answers in their bands")
    else:
        res.notes.append(f"calibration: {len(scenario.calibration)} answers valid against the "
                         "form (not graded)")
    res.notes.append(f"{time.monotonic() - t0:.1f}s")
    return res


def check_scale(scenario: Scenario, res: SelftestResult, seeds: int) -> None:
    """Every variant's scale lies in a declared tier, and a pin reaches every declared tier."""
    from scenarios.scale import TierUnavailable, scenario_tiers, seed_for_tier, variant_tier

    declared = scenario_tiers(scenario)
    seen: dict[str, int] = {}
    for seed in range(seeds):
        try:
            tier = variant_tier(scenario, seed)
        except (RenderError, ValueError) as exc:
            res.problems.append(f"seed {seed}: scale: {exc}")
            continue
        if tier not in declared:
            res.problems.append(f"seed {seed}: scale tier {tier!r} is not in the declared "
                                f"tiers {declared}")
        seen[str(tier)] = seen.get(str(tier), 0) + 1
    for tier in declared:
        try:
            pinned = seed_for_tier(scenario, 0, tier)
        except TierUnavailable as exc:
            res.problems.append(f"scale: {exc}")
            continue
        if variant_tier(scenario, pinned) != tier:
            res.problems.append(f"scale: pinned seed {pinned} is not in tier {tier!r}")
    res.notes.append("scale tiers over the seeds: " + ", ".join(
        f"{t} {seen.get(t, 0)}" for t in declared) + "; a pin reaches each")


def reference_field_mismatches(scenario: Scenario) -> list[str]:
    """Reference calibration answers must agree with the variant on every field check whose
    expected value is a parameter or an answer-key value (a cheap check before the engine)."""
    from scenarios.models import ExpectedKey, ExpectedParam, FieldCheck

    out: list[str] = []
    for name, case in scenario.calibration.items():
        if case.role != "reference":
            continue
        try:
            params = render_variant(scenario, case.seed).params
        except RenderError as exc:
            out.append(f"calibration/{name}: seed {case.seed}: {exc}")
            continue
        key: dict[str, Any] = {}
        if scenario.rubric.answer_key:
            key = scenario.load_check(scenario.rubric.answer_key).answer_key(params)
        for crit in scenario.rubric.criteria:
            chk = crit.check
            if not isinstance(chk, FieldCheck) or chk.field not in case.answers:
                continue
            if isinstance(chk.expected, ExpectedParam):
                want = params.get(chk.expected.param)
            elif isinstance(chk.expected, ExpectedKey):
                want = key.get(chk.expected.key)
            else:
                want = chk.expected.value
            got: Any = case.answers[chk.field]
            if want is None:
                out.append(f"calibration/{name}: {crit.id}: no expected value for this variant")
                continue
            if chk.compare == "numeric":
                tol = max(chk.abs_tol or 0.0, (chk.rel_tol or 0.0) * abs(float(want)))
                ok = abs(float(got) - float(want)) <= tol
            elif chk.compare == "set":
                ok = set(got) == set(want)
            else:
                ok = str(got).strip().lower() == str(want).strip().lower()
            if not ok:
                out.append(f"calibration/{name}: criterion {crit.id}: answer {got!r}, variant "
                           f"expects {want!r}")
    return out


def _hook(scenario: Scenario, rel: str, name: str, res: SelftestResult) -> Any:
    if not (scenario.path / rel).is_file():
        return None
    try:
        fn = getattr(scenario.load_check(rel), name, None)
    except Exception as exc:
        res.problems.append(f"{rel}: import failed: {type(exc).__name__}: {exc}")
        return None
    if not callable(fn):
        res.problems.append(f"{rel} defines no {name}()")
        return None
    return fn


def grade_calibration(scenario: Scenario, res: SelftestResult, runner: Runner | None) -> None:
    """Grade every calibration answer; a score outside its band is a problem."""
    for name, case in sorted(scenario.calibration.items()):
        try:
            report = grade_answer(scenario, case.seed, case.answers, runner)
        except RenderError as exc:
            res.problems.append(f"calibration/{name}: seed {case.seed}: {exc}")
            continue
        crits = [c for c in report.criteria
                 if case.criteria is None or c.criterion_id in case.criteria]
        unknown = set(case.criteria or []) - {c.criterion_id for c in report.criteria}
        if unknown:
            res.problems.append(f"calibration/{name}: unknown criteria {sorted(unknown)}")
        for c in crits:
            if c.status == "infra_error":
                res.problems.append(f"calibration/{name}: {c.criterion_id} could not be "
                                    f"graded: {c.detail}")
        cal = CalibrationScore(name, case.role, score_of(crits), case.band.min, case.band.max,
                               case.criteria)
        res.calibration.append(cal)
        if not cal.ok:
            res.problems.append(f"calibration/{cal}")
