"""Paraphrasing a strong answer's prose (same facts, other words) moves its score by at most
5 points: every calibration answer with role reference/strong* that has a
calibration/<name>.paraphrase.json, plus the engine's own paraphrase of the
train-large-dense reference (tests/graders/data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from graders import semantic
from scenarios.loader import load_bank
from tests.graders.paraphrase import MAX_SHIFT, ParaphraseCase, paraphrase_cases, score_shift

BANK = load_bank()
DATA = Path(__file__).parent / "data"
EXTRA = {"train-large-dense": DATA / "train_large_dense.reference.paraphrase.json"}
CASES = paraphrase_cases(BANK, EXTRA)
NEEDS_CODE = {sid for sid, sc in BANK.scenarios.items()
              if any(c.check.kind == "tests" for c in sc.rubric.criteria)}


def _params() -> list[object]:
    return [pytest.param(pc, id=f"{pc.scenario_id}/{pc.name}",
                         marks=[pytest.mark.docker] if pc.scenario_id in NEEDS_CODE else [])
            for pc in CASES]


@pytest.mark.skipif(not semantic.available(), reason="embedding model not installed")
@pytest.mark.parametrize("pc", _params())
def test_paraphrase_moves_the_score_by_at_most_5_points(pc: ParaphraseCase) -> None:
    runner = None
    if pc.scenario_id in NEEDS_CODE:
        from server.notebooks.runner import try_build_runner

        runner, why = try_build_runner("docker")
        if runner is None:
            pytest.skip(f"no Docker sandbox: {why}")
    original, paraphrased = score_shift(BANK, pc, runner)
    assert abs(original - paraphrased) <= MAX_SHIFT, (pc.path, original, paraphrased)


def test_the_engines_own_paraphrase_is_found() -> None:
    assert any(pc.scenario_id == "train-large-dense" and pc.name == "reference.json"
               for pc in CASES)
