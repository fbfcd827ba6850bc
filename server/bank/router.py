"""The bank for staff: list with filters, preview a variant exactly as a candidate sees it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from scenarios.models import Difficulty, Kind, ScaleTier, StackLayer
from scenarios.templates import Role
from server.bank.service import ScenarioSummary, TemplateSummary
from server.deps import BankDep, CurrentStaff

router = APIRouter(prefix="/api/v1", tags=["bank"])


@router.get("/scenarios", response_model=list[ScenarioSummary])
def list_scenarios(
    staff: CurrentStaff, bank: BankDep,
    q: str | None = Query(None, max_length=200, description="Text in id, title or summary."),
    skill: str | None = Query(None, max_length=40, description="A dimension, e.g. debugging."),
    layer: StackLayer | None = Query(None, description="A stack layer, e.g. network."),
    difficulty: Difficulty | None = Query(None, description="Seniority, e.g. senior."),
    max_minutes: int | None = Query(None, ge=1, le=1440, description="Longest time estimate."),
    kind: Kind | None = Query(None, description="design, debug, code or mixed."),
    role: Role | None = Query(None, description="A role whose templates use the scenario."),
    scale: ScaleTier | None = Query(None, description="A scale tier its variants reach."),
) -> list[ScenarioSummary]:
    return bank.summaries(q=q, skill=skill, layer=layer, difficulty=difficulty,
                          max_minutes=max_minutes, kind=kind, role=role, scale=scale)


@router.get("/templates", response_model=list[TemplateSummary])
def list_templates(staff: CurrentStaff, bank: BankDep) -> list[TemplateSummary]:
    """Role templates: ready assessments (POST /api/v1/assessments/from-template)."""
    return bank.templates()


@router.get("/scenarios/{scenario_id}/preview")
def preview(scenario_id: str, staff: CurrentStaff, bank: BankDep,
            seed: int = Query(1, ge=0, le=2**31 - 1)) -> dict[str, Any]:
    """The candidate's view of one variant: prompt, form, artifact names and sizes, starter."""
    view = bank.view(scenario_id, seed)
    form = view.form_json()
    return {
        "scenario": form["scenario"], "prompt_html": view.prompt_html, "fields": form["fields"],
        "artifacts": [{"path": p, "bytes": len(b)} for p, b in sorted(view.artifacts.items())],
        "starter": {p: b.decode("utf-8", "replace") for p, b in sorted(view.starter.items())},
    }
