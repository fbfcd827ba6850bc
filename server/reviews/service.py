"""What hiring managers read: an assessment's dashboard, comparisons, exports."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from server.grading import scoring
from server.models import Attempt, AuditEvent, Candidate, CellRun
from server.notebooks.service import cell_runs
from server.reviews import repository as repo

DIMENSIONS = ["systems_design", "hardware_awareness", "debugging", "coding", "communication"]


@dataclass
class Row:
    attempt_id: int
    name: str
    email: str
    status: str
    submitted_at: Any
    score: float | None
    dimensions: dict[str, float]
    pending: int
    flags: list[str] = field(default_factory=list)
    # Provisional while a criterion waits for a person: the range reviews can still move
    # the score in (None when final, or for reports stored without it).
    score_min: float | None = None
    score_max: float | None = None


def dashboard(session: Session, org_id: int, assessment_id: int) -> list[Row]:
    rows = []
    found = repo.dashboard_rows(session, org_id, assessment_id)
    ids = [a.id for a, _, _ in found]
    signals: dict[int, Counter[str]] = {i: Counter() for i in ids}
    for s in repo.signals_of(session, ids):
        signals[s.attempt_id][s.kind] += 1
    for attempt, candidate, row in found:
        report = None if row is None else scoring.stored(row)
        counts = signals[attempt.id]
        flags = []
        if counts.get("similarity"):
            flags.append("similar submission")
        if counts.get("paste"):
            flags.append(f"{counts['paste']} pastes")
        if counts.get("focus_loss"):
            flags.append(f"left tab {counts['focus_loss']}×")
        if report is None:
            rows.append(Row(attempt.id, candidate.name, candidate.email, attempt.status.value,
                            attempt.submitted_at, None, {}, 0, flags))
            continue
        provisional = report.review_state == "needs_review"
        rows.append(Row(attempt.id, candidate.name, candidate.email,
                        "needs_review" if provisional else "graded", attempt.submitted_at,
                        report.score, dict(report.report.dimensions), len(report.pending),
                        flags, report.report.score_min if provisional else None,
                        report.report.score_max if provisional else None))
    return rows


def export_csv(rows: list[Row]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["attempt_id", "name", "email", "status", "submitted_at", "score",
                *DIMENSIONS, "pending_review", "flags"])
    for r in rows:
        w.writerow([r.attempt_id, _cell(r.name), _cell(r.email), r.status,
                    r.submitted_at.isoformat() if r.submitted_at else "",
                    "" if r.score is None else f"{r.score:.1f}",
                    *["" if r.dimensions.get(d) is None else f"{r.dimensions[d]:.1f}"
                      for d in DIMENSIONS], r.pending, "; ".join(r.flags)])
    return out.getvalue()


def _cell(value: str) -> str:
    """Neutralize spreadsheet formulas in text that came from candidates."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def answers(session: Session, attempt_id: int) -> dict[str, dict[str, Any]]:
    return repo.answers(session, attempt_id)


def cells(session: Session, attempt_id: int) -> dict[str, list[CellRun]]:
    out: dict[str, list[CellRun]] = {}
    for c in cell_runs(session, attempt_id):
        out.setdefault(c.scenario_id, []).append(c)
    return out


def audit_trail(session: Session, org_id: int, attempt_id: int) -> list[AuditEvent]:
    return repo.audit_trail(session, org_id, attempt_id)


def attempt_with_candidate(session: Session, org_id: int,
                           attempt_id: int) -> tuple[Attempt, Candidate]:
    """The attempt (of the caller's organization: else 404) and its candidate."""
    attempt = repo.attempt_in_org(session, org_id, attempt_id)
    return attempt, repo.candidate(session, attempt.candidate_id)


def candidates_of(session: Session, attempt_ids: list[int]) -> dict[int, Candidate]:
    """attempt id -> candidate, for attempts already known to be the caller's."""
    return {aid: repo.candidate(session, repo.attempt(session, aid).candidate_id)
            for aid in dict.fromkeys(attempt_ids)}


def histogram(scores: list[float], bins: int = 10) -> list[int]:
    counts = [0] * bins
    for s in scores:
        counts[min(bins - 1, max(0, int(s // (100 / bins))))] += 1
    return counts
