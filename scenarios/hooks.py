"""What a scenario's own Python files share: loading a file of the same folder, the scenario
they belong to, and grading an answer with its rubric (hidden self-checks).

A scenario folder is not a package (its files are executed by path, scenarios/pymodule.py),
so a generator or a check reaches its siblings through `sibling`, and a self-check through one
`SelfCheck`, instead of each file carrying its own importlib block.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from scenarios.pymodule import load_module

if TYPE_CHECKING:
    from scenarios.loader import Scenario
    from scenarios.render import Variant

STAND_IN = "(write-up)"


def sibling(anchor: str | Path, relpath: str) -> ModuleType:
    """Execute the Python file at relpath, relative to the folder of anchor (pass `__file__`),
    as a fresh module: `sibling(__file__, "formats.py")`, `sibling(__file__, "checks/cases.py")`."""
    path = (Path(anchor).resolve().parent / relpath).resolve()
    return load_module(path, f"_scenario_{path.parent.name}_{path.stem}")


class SelfCheck:
    """The shared part of a self-check hook: its siblings loaded once, its scenario loaded once,
    and the rubric score of an answer."""

    def __init__(self, anchor: str | Path) -> None:
        self._anchor = Path(anchor).resolve()
        self._modules: dict[str, ModuleType] = {}
        self._scenario: Scenario | None = None

    def module(self, relpath: str) -> ModuleType:
        """A sibling of the hook's file (see `sibling`), executed on first use only."""
        if relpath not in self._modules:
            self._modules[relpath] = sibling(self._anchor, relpath)
        return self._modules[relpath]

    def scenario(self) -> Scenario:
        """The scenario whose checks/ folder holds the hook."""
        if self._scenario is None:
            from scenarios.loader import load_scenario

            scenario, errors = load_scenario(self._anchor.parent.parent)
            if scenario is None:
                raise RuntimeError(f"scenario does not load: {errors[:3]}")
            self._scenario = scenario
        return self._scenario

    def solver_problems(self, variant: Variant, keys: Iterable[str]) -> list[str]:
        """The reference solver (checks/solver.py, reading the artifacts only) must find the
        planted value of every key: [] when it does, else the one problem."""
        planted = {k: variant.params[k] for k in keys}
        found = self.module("solver.py").solve(variant.artifacts)
        if found != planted:
            return [f"reference solver found {found or 'nothing'}, planted {planted}"]
        return []

    def grade(self, variant: Variant, answer: Mapping[str, Any], *, key: str | None = None,
              text_fields: Iterable[str] = ()) -> float:
        """The rubric score of answer.

        With `key`, a scenario whose every text criterion requires the planted `key` (the
        cause) saves the embedding work when the answer's key is wrong: each non-blank write-up
        becomes a one-word stand-in. It is not blank, so a manual write-up criterion still waits
        for a reviewer as it would for the full answer (a blank one scores 0), and the score is
        the engine's (tests/scenarios/test_hooks.py checks it per scenario)."""
        from graders.engine import grade_scenario

        s = self.scenario()
        fields = set(text_fields)
        if key is not None and answer.get(key) != variant.params[key]:
            answer = {k: (STAND_IN if k in fields and str(v or "").strip() else v)
                      for k, v in answer.items()}
        report = grade_scenario(s.rubric, dict(answer), variant, load_check=s.load_check)
        return float(report.score or 0.0)


class ShortcutTally:
    """A debug self-check's shortcut figures over the seeds it checked: per shortcut solver its
    mean rubric score, how often it names the planted cause (and, with `full_label`, everything
    planted), and how often each cause family's signature turns up on seeds where that family is
    not the cause (the decoys). `lines()` is the hook's summary(); a mean of the `bounded`
    shortcut at or above `max_mean` is a self-test problem (a line starting with "PROBLEM:").
    With `figure` = (label, format) it also prints the median per cause family of a variant
    figure recorded with `figure_of` (how large the planted effect is)."""

    def __init__(self, labels: Mapping[str, str], *, bounded: str, max_mean: float,
                 full_label: str | None = None,
                 figure: tuple[str, str] | None = None) -> None:
        if bounded not in labels:
            raise ValueError(f"bounded shortcut {bounded!r} is not one of {sorted(labels)}")
        self.labels, self.bounded, self.max_mean = dict(labels), bounded, max_mean
        self.full_label, self.figure = full_label, figure
        self.figures: dict[str, list[float]] = {}
        self.scores: dict[str, list[float]] = {k: [] for k in labels}
        self.cause: dict[str, list[bool]] = {k: [] for k in labels}
        self.full: dict[str, list[bool]] = {k: [] for k in labels}
        self.decoys: dict[str, list[bool]] = {}

    def record(self, key: str, score: float, cause_right: bool,
               full_right: bool | None = None) -> None:
        self.scores[key].append(score)
        self.cause[key].append(cause_right)
        if full_right is not None:
            self.full[key].append(full_right)

    def decoy(self, family: str, found: bool) -> None:
        self.decoys.setdefault(family, []).append(found)

    def figure_of(self, family: str, value: float) -> None:
        self.figures.setdefault(family, []).append(value)

    def lines(self) -> list[str]:
        import statistics

        out = []
        for key, label in self.labels.items():
            n = len(self.scores[key])
            if not n:
                continue
            mean = statistics.mean(self.scores[key])
            line = f"{label}: mean score {mean:.1f} over {n} seeds, cause found on " \
                   f"{sum(self.cause[key])}/{n}"
            if self.full_label and self.full[key]:
                line += f", {self.full_label} on {sum(self.full[key])}/{len(self.full[key])}"
            out.append(line)
            if key == self.bounded and mean >= self.max_mean:
                out.append(f"PROBLEM: {label} mean {mean:.1f} is not under {self.max_mean:g}")
        if self.decoys:
            share = {f: sum(v) / len(v) for f, v in self.decoys.items()}
            low = sorted(share, key=share.__getitem__)[:3]
            out.append("each family's grep signature also on decoys when it is not the cause: "
                       "lowest " + ", ".join(f"{f} {share[f]:.0%}" for f in low))
        if self.figure and self.figures:
            label, fmt = self.figure
            out.append(f"{label}, median per family: " + ", ".join(
                f"{f} {fmt.format(statistics.median(v))}" for f, v in sorted(self.figures.items())))
        return out

    def reset(self) -> None:
        """Forget the figures (a test that runs the hook twice in one process)."""
        self.decoys.clear()
        self.figures.clear()
        for d in (self.scores, self.cause, self.full):
            for v in d.values():
                v.clear()
