from __future__ import annotations

from typing import Any

import pytest

from graders.checks import concepts
from graders.checks.base import CheckOutcome
from graders.rubric import ConceptsCheck

PARAMS = {"culprit_node": "node-17", "cause": "thermal_throttle", "baseline_step_s": 8.17}
ARTIFACTS = {"nvidia-smi/node-17.txt": "GPU Current Temp : 91 C\nClocks SM : 1410 MHz\n"
                                       "Max Clocks SM : 1980 MHz\n"}


def check(**kw: Any) -> ConceptsCheck:
    data: dict[str, Any] = {"kind": "concepts", "field": "notes", "concepts": [
        {"id": "thermal", "phrasings": ["thermal slowdown", "throttling"],
         "contradicts": ["power cap is the cause"]},
        {"id": "culprit", "phrasings": ["{{ culprit_node }}"]},
        {"id": "fix", "phrasings": ["drain"]},
    ]}
    data.update(kw)
    return ConceptsCheck.model_validate(data)


def grade(text: str | dict[str, str], chk: ConceptsCheck | None = None,
          params: dict[str, Any] | None = None) -> CheckOutcome:
    from tests.graders.factory import context

    ctx = context(answer={"notes": text}, params=params or PARAMS, artifacts=ARTIFACTS)
    return concepts.run(chk or check(), 10, ctx)


def credit(out: CheckOutcome, concept: str) -> float:
    return next(e.credit or 0.0 for e in out.evidence if e.label == concept)


def test_concepts_in_variant_specific_sentences_earn_full_credit() -> None:
    out = grade("GPU 3 of node-17 shows a thermal slowdown at 91 C with the SM clock at "
                "1410 MHz, so we drain node-17 and restart from the checkpoint.")
    assert out.points == pytest.approx(10)
    assert out.needs_review is False
    quotes = [e for e in out.evidence if e.kind == "quote"]
    assert {e.label for e in quotes} == {"thermal", "culprit", "fix"}
    assert all("1410 MHz" in (e.text or "") for e in quotes)
    assert "1410 MHz" in quotes[0].value["anchors"]


def test_keyword_stuffing_earns_little_and_asks_for_review() -> None:
    out = grade("thermal slowdown throttling drain node-17 NCCL straggler DCGM power cap")
    assert out.points <= 1.5
    assert out.needs_review is True
    assert all(e.value["basis"] == "list of keywords" for e in out.evidence if e.kind == "quote")


def test_keywords_strung_together_with_and_are_still_a_list() -> None:
    out = grade("We drain and throttling and thermal slowdown and node-17 and DCGM and NCCL "
                "and Kubernetes and Slurm and InfiniBand.")
    assert out.points <= 1.5


def test_short_specific_sentence_is_not_a_list() -> None:
    out = grade("Drain node-17 now and replace its fans.")
    assert credit(out, "fix") == concepts.CREDIT_ANCHORED


def test_generic_prose_without_variant_detail_earns_a_little() -> None:
    out = grade("The GPU is throttling under load, so we should drain the host and move on "
                "to other work.")
    assert credit(out, "thermal") == concepts.CREDIT_BARE
    assert credit(out, "fix") == concepts.CREDIT_BARE
    assert credit(out, "culprit") == 0.0
    assert out.points < 3.5


def test_own_phrasing_does_not_anchor_its_concept() -> None:
    out = grade("The GPU is throttling because of a thermal slowdown in the rack, as usual.")
    assert credit(out, "thermal") == concepts.CREDIT_BARE


def test_neighbour_of_a_specific_sentence_earns_most() -> None:
    out = grade("node-17 runs at 91 C while the others stay cool. Its fans failed, so the "
                "GPU keeps throttling hard under load all day.")
    assert credit(out, "culprit") == concepts.CREDIT_ANCHORED
    assert credit(out, "thermal") == concepts.CREDIT_NEAR


def test_negated_phrasings_earn_nothing() -> None:
    out = grade("We would not drain node-17 at 91 C, and node-17 is not throttling at "
                "1410 MHz either.")
    assert credit(out, "fix") == 0.0
    assert credit(out, "thermal") == 0.0
    assert "negated" in out.detail
    neg = next(e for e in out.evidence if e.label == "fix")
    assert neg.value["negated"] == "drain" and "would not drain" in (neg.text or "")
    assert neg.value["looked_for"]["phrasings"] == ["drain"]


def test_negation_after_the_phrase() -> None:
    out = grade("The throttling on node-17 at 91 C is not the problem here at all.")
    assert credit(out, "thermal") == 0.0


def test_phrasing_that_carries_its_own_negation_still_counts() -> None:
    chk = check(concepts=[{"id": "herrings", "phrasings": ["not the cause"]}])
    out = grade("The Xid 63 on node-17 at 91 C is old and not the cause.", chk)
    assert out.points == pytest.approx(10)


def test_contradiction_cancels_the_concept_and_lowers_confidence() -> None:
    out = grade("The power cap is the cause on node-17: throttling at 1410 MHz.")
    assert credit(out, "thermal") == 0.0
    assert out.confidence < grade("node-17 throttling at 1410 MHz.").confidence


def test_concepts_that_do_not_apply_to_the_variant_are_dropped() -> None:
    chk = check(concepts=[
        {"id": "thermal", "phrasings": ["throttling"],
         "applies_if": {"param": "cause", "one_of": ["thermal_throttle"]}},
        {"id": "power", "phrasings": ["power limit"],
         "applies_if": {"param": "cause", "one_of": ["power_cap"]}},
    ])
    out = grade("node-17 is throttling at 1410 MHz instead of 1980 MHz.", chk)
    assert out.points == pytest.approx(10)
    assert [e.label for e in out.evidence] == ["thermal"]


def test_section_scope_keeps_the_old_wall() -> None:
    chk = check(section="fix", scope="section")
    out = grade({"evidence": "The GPU on node-17 is throttling at 1410 MHz all the time.",
                 "fix": "Drain node-17 now and replace its fans."}, chk)
    assert credit(out, "fix") == 1.0 and credit(out, "thermal") == 0.0


def test_section_is_a_hint_concepts_count_anywhere_in_the_field() -> None:
    chk = check(section="fix")
    out = grade({"evidence": "The GPU on node-17 is throttling at 1410 MHz all the time.",
                 "fix": "Drain node-17 now and replace its fans."}, chk)
    assert credit(out, "fix") == 1.0 and credit(out, "thermal") == 1.0
    thermal = next(e for e in out.evidence if e.label == "thermal")
    assert thermal.value["section"] == "evidence"


def test_empty_text_is_unanswered() -> None:
    out = grade("   ")
    assert (out.points, out.status, out.needs_review) == (0.0, "unanswered", False)


def test_long_text_matching_nothing_asks_for_review() -> None:
    text = ("The slowdown comes from one host whose accelerator overheats under sustained "
            "load, so its kernels take longer and every collective waits for it; replacing "
            "the cooling and excluding that machine from the job would restore the speed.")
    out = grade(text)
    assert out.points == 0 and out.needs_review is True


def test_same_text_same_outcome() -> None:
    text = "node-17 throttling at 1410 MHz; drain it. Then verify 8.17 s steps."
    assert grade(text) == grade(text)


def test_sentence_split_keeps_abbreviations_and_numbers() -> None:
    parts = concepts.split_sentences("Fixed sizes (e.g. 1g.10gb on H100). Step is 8.17 s. Next")
    assert [p.text for p in parts] == ["Fixed sizes (e.g. 1g.10gb on H100).", "Step is 8.17 s.",
                                       "Next"]
