"""Hiring-manager pages: dashboard, report with grading in place, compare, export, queue."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from server.accounts import service as accounts
from server.assessments import service as assessments
from server.deps import BankDep, CurrentStaff, ObjectId, ReviewerStaff, SessionDep, Staff
from server.errors import AppError
from server.grading import service as grading
from server.grading.schemas import CriterionView, ReportView
from server.kit.templating import render
from server.models import Candidate, Role
from server.reviews import service, writeup
from server.reviews.errors import BadAttemptId

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Compared:
    report: ReportView
    candidate: Candidate

SORTABLE = {"score", "name", "status", "submitted_at", "pending", *service.DIMENSIONS}


@router.get("/assessments/{assessment_id}/dashboard")
def dashboard(request: Request, assessment_id: ObjectId, staff: CurrentStaff,
              session: SessionDep, sort: str = "score", desc: bool = True,
              status: str | None = Query(None, max_length=20),
              flagged: bool = False) -> Response:
    assessment = assessments.get(session, staff.org_id, assessment_id)
    rows = service.dashboard(session, staff.org_id, assessment.id)
    if status:
        rows = [r for r in rows if r.status == status]
    if flagged and staff.user.role in (Role.admin, Role.hiring_manager):
        rows = [r for r in rows if r.flags or r.pending]
    reviewer = staff.user.role in (Role.admin, Role.hiring_manager)
    key = sort if sort in SORTABLE else "score"
    if not reviewer and key not in ("score", "name", "status", "submitted_at"):
        key = "score"  # recruiters get what the API gives them: status and overall score

    def k(r: service.Row) -> tuple[bool, Any]:
        v = r.dimensions.get(key) if key in service.DIMENSIONS else getattr(r, key)
        return (v is None, v if v is not None else 0)

    rows.sort(key=k, reverse=desc)
    if desc:  # keep rows without a value last either way
        rows.sort(key=lambda r: k(r)[0])
    return render(request, "dashboard.html", {
        "staff": staff, "assessment": assessment, "rows": rows, "sort": key, "desc": desc,
        "status": status, "flagged": flagged, "dims": service.DIMENSIONS, "reviewer": reviewer})


@router.get("/assessments/{assessment_id}/export.csv")
def export(assessment_id: ObjectId, staff: ReviewerStaff, session: SessionDep) -> Response:
    assessment = assessments.get(session, staff.org_id, assessment_id)
    rows = service.dashboard(session, staff.org_id, assessment.id)
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0)))
    return Response(service.export_csv(rows), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="assessment-{assessment.id}.csv"'})


def _report_context(session: SessionDep, staff: Staff, bank: BankDep, attempt_id: int
                    ) -> dict[str, Any]:
    report = grading.report_view(session, staff.org_id, attempt_id, full=True)
    attempt, candidate = service.attempt_with_candidate(session, staff.org_id, attempt_id)
    assessment = assessments.get(session, staff.org_id, attempt.assessment_id)
    answers = service.answers(session, attempt.id)
    by_scenario: dict[str, list[CriterionView]] = {}
    for item in report.criteria or []:
        by_scenario.setdefault(item.scenario_id, []).append(item)
    scenarios = []
    for entry in assessment.entries:
        try:
            view = bank.view(entry.scenario_id, int(attempt.seeds.get(entry.scenario_id, 0)))
            fields = view.form_json()["fields"]
            title = view.title
        except AppError:
            fields, title = [], entry.scenario_id
        criteria = by_scenario.get(entry.scenario_id, [])
        answer = answers.get(entry.scenario_id, {})
        scenarios.append({"id": entry.scenario_id, "title": title, "fields": fields,
                          "answer": answer, "criteria": criteria,
                          **_written(entry.scenario_id, fields, answer, criteria)})
    cohort = grading.cohort_scores(session, attempt.assessment_id)
    return {"staff": staff, "report": report, "attempt": attempt, "candidate": candidate,
            "assessment": assessment, "scenarios": scenarios,
            "cells": service.cells(session, attempt.id),
            "trail": service.audit_trail(session, staff.org_id, attempt.id),
            "cohort_histogram": service.histogram(cohort), "cohort_n": len(cohort),
            # Small cohorts read as a rank ("2 of 3"); a percentile needs a crowd.
            "cohort_rank": 1 + sum(1 for x in cohort if report.score is not None
                                   and x > report.score),
            "dims": service.DIMENSIONS, "people": accounts.scorer_names(session, staff.org_id),
            "humanize": writeup.humanize, "value_text": writeup.value_text,
            "quote_facts": writeup.quote_facts, "case_input": writeup.case_input}


def _written(scenario_id: str, fields: list[dict[str, Any]], answer: dict[str, Any],
             criteria: list[CriterionView]) -> dict[str, Any]:
    """Written answers as rendered Markdown with the credited sentences marked, the write-up
    sections under their titles, and per criterion the anchors of its marked sentences."""
    highlights: list[writeup.Highlight] = []
    anchors: dict[tuple[str, int], writeup.Highlight] = {}
    for c in criteria:
        for i, e in enumerate(c.evidence):
            if e.kind == "quote" and e.text and len(e.text) <= 600 and (e.credit or 0) > 0:
                h = writeup.Highlight(e.text, f"q-{scenario_id}-{c.criterion_id}-{i}",
                                      f"{c.title or c.criterion_id}: {writeup.humanize(e.label)}")
                highlights.append(h)
                anchors[(c.criterion_id, i)] = h
    rendered: dict[str, Any] = {}
    for f in fields:
        v = answer.get(f.get("id", ""))
        if f.get("type") != "long_text" or not v:
            continue
        if isinstance(v, dict):
            titles = {sec["id"]: sec.get("title") or sec["id"] for sec in f.get("sections") or []}
            rendered[f["id"]] = [(titles.get(k, writeup.humanize(k)),
                                  writeup.render_markdown(str(t), highlights))
                                 for k, t in v.items() if str(t).strip()]
        else:
            rendered[f["id"]] = writeup.render_markdown(str(v), highlights)
    return {"rendered": rendered,
            "marks": {k: h.anchor for k, h in anchors.items() if h.found}}


@router.get("/attempts/{attempt_id}")
def report_page(request: Request, attempt_id: ObjectId, staff: ReviewerStaff,
                session: SessionDep, bank: BankDep, print: bool = False) -> Response:
    ctx = _report_context(session, staff, bank, attempt_id)
    return render(request, "report.html", {**ctx, "printing": print})


@router.post("/attempts/{attempt_id}/grade")
def grade(request: Request, attempt_id: ObjectId, staff: ReviewerStaff, session: SessionDep,
          bank: BankDep, scenario_id: Annotated[str, Form(max_length=100)],
          criterion_id: Annotated[str, Form(max_length=100)],
          kind: Annotated[str, Form(pattern="^(grade|override)$")],
          level: Annotated[str, Form(max_length=100)] = "",
          points: Annotated[str, Form(max_length=20)] = "",
          comment: Annotated[str, Form(max_length=5000)] = "",
          reason: Annotated[str, Form(max_length=5000)] = "") -> Response:
    error: str | None = None
    try:
        pts = float(points) if points.strip() else None
    except ValueError:
        pts = None
        error = "points must be a number"
    if pts is not None and not (math.isfinite(pts) and 0 <= pts <= 10_000):
        pts = None
        error = "points must be a number from 0 to 10000"
    if error is None:
        try:
            grading.add_manual(session, staff.actor, staff.org_id, attempt_id, kind=kind,
                               scenario_id=scenario_id, criterion_id=criterion_id, points=pts,
                               level=level or None, comment=comment, reason=reason)
        except AppError as exc:
            if exc.status_code == 404:
                raise
            error = exc.message
    if error is None:
        return RedirectResponse(f"/attempts/{attempt_id}#c-{scenario_id}-{criterion_id}",
                                status_code=303)
    ctx = _report_context(session, staff, bank, attempt_id)
    return render(request, "report.html", {**ctx, "grade_error": error,
                                           "error_for": f"{scenario_id}/{criterion_id}"},
                  status_code=400)


@router.get("/compare")
def compare(request: Request, staff: ReviewerStaff, session: SessionDep,
            attempt: list[int] = Query(default=[])) -> Response:
    ids = list(dict.fromkeys(attempt))
    if not 2 <= len(ids) <= 4:
        return _pick_to_compare(request, staff, session, ids)
    people: list[Compared] = []
    for aid in ids:
        if not 1 <= aid <= 2**31 - 1:
            raise BadAttemptId("bad attempt id")
        rep = grading.report_view(session, staff.org_id, aid, full=True)
        _, candidate = service.attempt_with_candidate(session, staff.org_id, aid)
        people.append(Compared(rep, candidate))
    keys: list[tuple[str, str, str]] = []
    for p in people:
        for c in p.report.criteria or []:
            k = (c.scenario_id, c.criterion_id, c.title or c.criterion_id)
            if k not in keys:
                keys.append(k)
    table = {k[:2]: [next((c for c in (p.report.criteria or [])
                           if (c.scenario_id, c.criterion_id) == k[:2]), None)
                     for p in people] for k in keys}
    return render(request, "compare.html", {"staff": staff, "people": people, "keys": keys,
                                            "table": table, "dims": service.DIMENSIONS})


def _pick_to_compare(request: Request, staff: Staff, session: SessionDep,
                     ids: list[int]) -> Response:
    """Not 2-4 attempts: a page that says so and offers the candidates to pick from (those of
    the assessment of the attempts given, when they are the caller's), instead of a bare 400."""
    rows: list[service.Row] = []
    assessment = None
    known = [i for i in ids if 1 <= i <= 2**31 - 1]
    if known:
        attempt_row, _ = service.attempt_with_candidate(session, staff.org_id, known[0])
        assessment = assessments.get(session, staff.org_id, attempt_row.assessment_id)
        rows = [r for r in service.dashboard(session, staff.org_id, assessment.id)
                if r.score is not None]
    message = ("Pick at least one more candidate: a comparison needs 2 to 4." if len(ids) < 2
               else f"You picked {len(ids)}: a comparison shows 2 to 4 candidates side by side.")
    return render(request, "compare.html", {
        "staff": staff, "picking": True, "message": message, "rows": rows,
        "assessment": assessment, "chosen": set(ids), "dims": service.DIMENSIONS},
        status_code=400)


@router.get("/review")
def review_queue(request: Request, staff: ReviewerStaff, session: SessionDep, bank: BankDep,
                 assessment: str = Query("", max_length=12),
                 scenario: str = Query("", max_length=100)) -> Response:
    every = grading.review_queue(session, staff.org_id)
    titles = {a.id: a.title for a in assessments.list_assessments(
        session, staff.org_id, include_archived=True)}
    scenario_titles = {sc.id: sc.title for sc in bank.summaries()}
    # Filters live in the URL (?assessment=&scenario=), so a reviewer can share or reload them.
    aid = int(assessment) if assessment.isdigit() else None
    items = [it for it in every if (aid is None or it.assessment_id == aid)
             and (not scenario or it.scenario_id == scenario)]
    names = service.candidates_of(session, [it.attempt_id for it in items])
    return render(request, "review_queue.html", {
        "staff": staff, "items": items, "names": names, "total": len(every),
        "assessment": aid, "scenario": scenario, "titles": titles,
        "scenario_titles": scenario_titles,
        "scenario_ids": sorted({it.scenario_id for it in every}),
        "assessment_ids": sorted({it.assessment_id for it in every})})
