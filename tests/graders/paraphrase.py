"""Paraphrase calibration: the same facts in other words must score the same (within 5).

A paraphrase file sits beside the answer it rewrites, as `calibration/<name>.paraphrase.json`
(e.g. `reference.paraphrase.json` for `reference.json`):

    {"of": "reference.json", "note": "...", "answers": {"writeup": {...}}}

`answers` overrides the original's fields (usually only the prose); everything else is the
original's. The loader skips these files as calibration cases. `paraphrase_cases(bank)`
finds every pair whose original has role `reference` or `strong*`; `score_shift` grades both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders.engine import grade_answer, score_of
from graders.runner import Runner

SUFFIX = ".paraphrase.json"
MAX_SHIFT = 5.0  # points on the 0-100 scale


@dataclass(frozen=True)
class ParaphraseCase:
    scenario_id: str
    name: str  # the original's file name
    path: Path  # the paraphrase file
    answers: dict[str, Any]  # the original's answers with the paraphrase's overrides


def strong_role(role: str) -> bool:
    return role == "reference" or role.startswith("strong")


def load_paraphrase(path: Path, original: dict[str, Any]) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("answers"), dict):
        raise ValueError(f"{path}: needs an 'answers' object")
    return {**original, **data["answers"]}


def paraphrase_cases(bank: Any, extra: dict[str, Path] | None = None) -> list[ParaphraseCase]:
    """Every strong/reference calibration answer with a paraphrase file.

    extra: scenario id -> a paraphrase file kept outside the scenario folder (the engine's
    own test data), named '<original>.paraphrase.json' after the file it rewrites.
    """
    out: list[ParaphraseCase] = []
    for sid, sc in sorted(bank.scenarios.items()):
        found = {p.name.removesuffix(SUFFIX) + ".json": p
                 for p in sorted((sc.path / "calibration").glob("*" + SUFFIX))}
        if extra and sid in extra:
            p = extra[sid]
            found.setdefault(p.name.split(".")[-3] + ".json", p)
        for name, path in sorted(found.items()):
            case = sc.calibration.get(name)
            if case is None or not strong_role(case.role):
                continue
            out.append(ParaphraseCase(sid, name, path, load_paraphrase(path, case.answers)))
    return out


def score_shift(bank: Any, pc: ParaphraseCase, runner: Runner | None = None
                ) -> tuple[float, float]:
    """(original score, paraphrase score) over the case's scored criteria."""
    sc = bank.scenarios[pc.scenario_id]
    case = sc.calibration[pc.name]

    def score(answers: dict[str, Any]) -> float:
        rep = grade_answer(sc, case.seed, answers, runner)
        crits = [c for c in rep.criteria
                 if case.criteria is None or c.criterion_id in case.criteria]
        s = score_of(crits)
        assert s is not None
        return s

    return score(case.answers), score(pc.answers)
