"""manual: graded by a person with the level descriptors; no automatic points."""

from __future__ import annotations

from graders.checks.base import CheckContext, CheckOutcome, is_blank
from graders.report import Evidence
from graders.rubric import Level, ManualCheck

QUOTE_CHARS = 2000


def run(check: ManualCheck, levels: list[Level], ctx: CheckContext) -> CheckOutcome:
    evidence = [
        Evidence(kind="level", label=lv.label, value=lv.score, text=lv.descriptor)
        for lv in sorted(levels, key=lambda lv: lv.score)
    ]
    for fid in check.fields:
        value = ctx.answer.get(fid)
        text = _as_text(value)
        evidence.append(Evidence(
            kind="quote", label=fid, text=text[:QUOTE_CHARS] if text else None,
            value=None if text else "not answered"))
    if check.fields and all(is_blank(ctx.answer.get(fid)) for fid in check.fields):
        # Nothing for a person to read: a blank answer scores 0 now instead of waiting in
        # the review queue.
        return CheckOutcome(0.0, evidence, confidence=1.0, needs_review=False,
                            status="unanswered",
                            detail="no answer: the candidate left this blank (0 points)")
    return CheckOutcome(0.0, evidence, confidence=0.0, needs_review=True,
                        status="pending_review", detail="waits for a human grader")


def _as_text(value: object) -> str:
    if is_blank(value):
        return ""
    if isinstance(value, dict):
        return "\n\n".join(f"[{k}] {v}" for k, v in value.items() if isinstance(v, str))
    return str(value)
