from __future__ import annotations

from graders.checks import manual
from graders.rubric import Level, ManualCheck
from tests.graders.factory import context

LEVELS = [Level(score=1, label="clear", descriptor="A reader can act on it."),
          Level(score=0, label="missing", descriptor="No usable write-up.")]


def test_manual_gives_no_points_and_waits_for_a_person() -> None:
    out = manual.run(ManualCheck(kind="manual", fields=["notes", "fix"]), LEVELS,
                     context(answer={"notes": {"a": "first", "b": "second"}}))
    assert (out.points, out.needs_review, out.status) == (0.0, True, "pending_review")
    levels = [e for e in out.evidence if e.kind == "level"]
    assert [(e.label, e.value) for e in levels] == [("missing", 0), ("clear", 1)]
    quotes = {e.label: e for e in out.evidence if e.kind == "quote"}
    assert quotes["notes"].text == "[a] first\n\n[b] second"
    assert quotes["fix"].text is None and quotes["fix"].value == "not answered"


def test_a_blank_answer_scores_zero_with_a_reason_and_does_not_wait_for_a_person() -> None:
    for blank in ({}, {"notes": "", "fix": "   "}, {"notes": {"a": ""}}):
        out = manual.run(ManualCheck(kind="manual", fields=["notes", "fix"]), LEVELS,
                         context(answer=blank))
        assert (out.points, out.needs_review, out.status) == (0.0, False, "unanswered"), blank
        assert "no answer" in out.detail
    half = manual.run(ManualCheck(kind="manual", fields=["notes", "fix"]), LEVELS,
                      context(answer={"notes": "", "fix": "restart the job"}))
    assert half.needs_review and half.status == "pending_review"


def test_a_manual_criterion_on_no_field_still_waits() -> None:
    out = manual.run(ManualCheck(kind="manual"), LEVELS, context(answer={}))
    assert out.needs_review and out.status == "pending_review"
