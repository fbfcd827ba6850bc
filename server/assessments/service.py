"""Assessments: an ordered list of scenarios with weights and a time limit."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.assessments import repository as repo
from server.assessments.errors import (
    AssessmentNotFound,
    NothingToChange,
    ScenariosFixed,
    UnknownScenario,
)
from server.assessments.schemas import (
    AssessmentCreate,
    AssessmentFromTemplate,
    AssessmentUpdate,
    EntryIn,
)
from server.audit.service import Actor, record
from server.bank.service import BankService
from server.errors import NotFound
from server.models import Assessment, AssessmentScenario, AssessmentStatus


def _entries(bank: BankService, entries: list[EntryIn]) -> list[AssessmentScenario]:
    out = []
    for i, e in enumerate(entries):
        try:
            scenario = bank.get(e.scenario_id)
        except NotFound:
            raise UnknownScenario(f"scenarios.{i}.scenario_id: no scenario "
                                  f"{e.scenario_id!r} in the bank") from None
        if e.scale_tier is not None and e.scale_tier not in bank.tiers(e.scenario_id):
            raise UnknownScenario(f"scenarios.{i}.scale_tier: scenario {e.scenario_id!r} has no "
                                  f"scale tier {e.scale_tier!r} (it has "
                                  f"{bank.tiers(e.scenario_id) or 'a fixed scale'})")
        out.append(AssessmentScenario(position=i, scenario_id=e.scenario_id,
                                      scenario_version=str(scenario.manifest.version),
                                      weight=e.weight, scale_tier=e.scale_tier))
    return out


def list_assessments(session: Session, org_id: int, *, include_archived: bool = False
                     ) -> list[Assessment]:
    return repo.list_in_org(session, org_id, include_archived=include_archived)


def get(session: Session, org_id: int, assessment_id: int) -> Assessment:
    found = repo.get_in_org(session, org_id, assessment_id)
    if found is None:
        raise AssessmentNotFound(f"assessment {assessment_id} not found")
    return found


def create(session: Session, *, org_id: int, data: AssessmentCreate, bank: BankService,
           actor: Actor) -> Assessment:
    assessment = Assessment(
        org_id=org_id, title=data.title, instructions=data.instructions,
        time_limit_min=data.time_limit_min, status=AssessmentStatus.active,
        created_by=actor.user_id, entries=_entries(bank, data.scenarios),
    )
    repo.add(session, assessment)
    record(session, actor, "assessment.create", "assessment", assessment.id, org_id=org_id,
           data={"title": data.title, "scenarios": [e.scenario_id for e in data.scenarios]})
    return assessment


def create_from_template(session: Session, *, org_id: int, data: AssessmentFromTemplate,
                         bank: BankService, actor: Actor) -> Assessment:
    """One click: the template's scenarios, weights, pinned tiers and time budget."""
    t = bank.template(data.template_id)
    body = AssessmentCreate(
        title=data.title or t.title, time_limit_min=t.time_limit_min,
        scenarios=[EntryIn(scenario_id=i.scenario, weight=i.weight, scale_tier=i.scale)
                   for i in t.scenarios])
    assessment = create(session, org_id=org_id, data=body, bank=bank, actor=actor)
    record(session, actor, "assessment.from_template", "assessment", assessment.id,
           org_id=org_id, data={"template": t.id})
    return assessment


def has_attempts(session: Session, assessment_id: int) -> bool:
    return repo.attempt_count(session, assessment_id) > 0


def update(session: Session, *, org_id: int, assessment_id: int, data: AssessmentUpdate,
           bank: BankService, actor: Actor) -> Assessment:
    assessment = get(session, org_id, assessment_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        raise NothingToChange("nothing to change")
    if "scenarios" in changes:
        if has_attempts(session, assessment.id):
            raise ScenariosFixed("candidates have started this assessment; its scenarios are "
                                 "fixed now (copy it into a new assessment instead)")
        assessment.entries.clear()
        session.flush()
        assessment.entries.extend(_entries(bank, data.scenarios or []))
    for key in ("title", "instructions", "time_limit_min", "status"):
        if key in changes:
            setattr(assessment, key, getattr(data, key))
    session.flush()
    record(session, actor, "assessment.update", "assessment", assessment.id, org_id=org_id,
           data={k: (v if k != "scenarios" else [e["scenario_id"] for e in v])
                 for k, v in changes.items()})
    return assessment
