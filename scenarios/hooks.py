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
