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
    return CheckOutcome(0.0, evidence, confidence=0.0, needs_review=True,
                        status="pending_review", detail="waits for a human grader")


def _as_text(value: object) -> str:
    if is_blank(value):
        return ""
    if isinstance(value, dict):
        return "\n\n".join(f"[{k}] {v}" for k, v in value.items() if isinstance(v, str))
    return str(value)
