"""Recruiter pages: bank, assessments, invites and the pipeline; the e-mail outbox."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from scenarios.models import Difficulty, Kind, ScaleTier, StackLayer
from scenarios.scale import TIER_IDS, TIERS, seed_for_tier
from scenarios.templates import ROLE_TITLES
from scenarios.templates import Role as HiringRole
from server.assessments import service
from server.assessments.errors import UnknownAction
from server.assessments.schemas import AssessmentCreate, AssessmentFromTemplate, AssessmentUpdate
from server.deps import (
    BankDep,
    CurrentStaff,
    ObjectId,
    RecruiterStaff,
    SessionDep,
    SettingsDep,
    Staff,
)
from server.email.service import outbox
from server.errors import AppError, validation_messages
from server.invites import service as invites
from server.invites.errors import CsvTooLarge
from server.kit.templating import render
from server.models import AssessmentStatus, Role

router = APIRouter(include_in_schema=False)
STATUSES = ["invited", "opened", "started", "submitted", "graded", "expired", "revoked"]
SORTS = {"created": "created_at", "email": "candidate_email", "status": "status",
         "expires": "expires_at", "score": "score"}


# The bank page's filters: query name -> (label, the values it accepts).
BANK_FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "layer": ("Layer", get_args(StackLayer)),
    "role": ("Role", get_args(HiringRole)),
    "kind": ("Kind", get_args(Kind)),
    "difficulty": ("Difficulty", get_args(Difficulty)),
    "scale": ("Scale", TIER_IDS),
}


@router.get("/bank")
def bank_page(request: Request, staff: CurrentStaff, bank: BankDep,
              layer: str = "", role: str = "", kind: str = "", difficulty: str = "",
              scale: str = "", max_minutes: str = "") -> Response:
    """The bank with its role templates; filters live in the URL (htmx swaps the results)."""
    raw = {"layer": layer, "role": role, "kind": kind, "difficulty": difficulty,
           "scale": scale}
    chosen: dict[str, str] = {}
    problems = []
    for key, value in raw.items():
        value = value.strip()
        if value and value not in BANK_FILTERS[key][1]:
            problems.append(f"Unknown {BANK_FILTERS[key][0].lower()} {value[:40]!r}: pick one "
                            "from the list.")
        elif value:
            chosen[key] = value
    minutes: int | None = None
    if max_minutes.strip():
        try:
            minutes = int(max_minutes)
            if not 1 <= minutes <= 1440:
                raise ValueError
        except ValueError:
            problems.append("“At most” is a whole number of minutes from 1 to 1440.")
            minutes = None
    rows = bank.summaries(max_minutes=minutes, **chosen)
    context = {
        "staff": staff, "scenarios": rows, "errors": bank.bank.errors, "problems": problems,
        "filters": BANK_FILTERS, "chosen": chosen, "max_minutes": max_minutes.strip()[:5],
        "filtered": bool(chosen or minutes), "templates": bank.templates(),
        "role_titles": ROLE_TITLES, "tier_labels": {t.id: t.label for t in TIERS},
        "can_create": staff.user.role in (Role.admin, Role.recruiter),
    }
    return render(request, "bank.html", context, block="results",
                  status_code=422 if problems else 200)


@router.post("/bank/templates/{template_id}")
def create_from_template_page(request: Request, template_id: str, staff: RecruiterStaff,
                              session: SessionDep, bank: BankDep) -> Response:
    """The one-click button: create the template's assessment and open it."""
    created = service.create_from_template(
        session, org_id=staff.org_id, data=AssessmentFromTemplate(template_id=template_id[:100]),
        bank=bank, actor=staff.actor)
    url = f"/assessments/{created.id}"
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


@router.get("/bank/{scenario_id}/preview")
def preview_page(request: Request, scenario_id: str, staff: CurrentStaff, bank: BankDep,
                 seed: int = Query(1, ge=0, le=2**31 - 1),
                 scale: ScaleTier | None = Query(None, description="Show a variant of this "
                                                 "scale tier (as a pinned entry draws it).")
                 ) -> Response:
    if scale is not None:
        scenario = bank.get(scenario_id)  # 404 first
        if scale not in bank.tiers(scenario_id):
            raise AppError(f"scenario {scenario_id!r} has no scale tier {scale!r} (it has "
                           f"{bank.tiers(scenario_id) or 'a fixed scale'})", status_code=422,
                           error="validation_error")
        seed = seed_for_tier(scenario, seed, scale)
    view = bank.view(scenario_id, seed)
    return render(request, "preview.html", {
        "staff": staff, "view": view, "seed": seed, "scale": scale,
        "fields": view.form_json()["fields"],
        "artifacts": sorted((p, len(b)) for p, b in view.artifacts.items()),
        "starter": {p: b.decode("utf-8", "replace") for p, b in sorted(view.starter.items())}})


@router.get("/assessments")
def assessments_page(request: Request, staff: CurrentStaff, session: SessionDep,
                     archived: bool = False) -> Response:
    rows = service.list_assessments(session, staff.org_id, include_archived=archived)
    counts: dict[int, dict[str, int]] = {}
    for inv in invites.pipeline(session, staff.org_id):
        c = counts.setdefault(inv.assessment_id, {})
        c[inv.status] = c.get(inv.status, 0) + 1
    return render(request, "assessments.html", {"staff": staff, "assessments": rows,
                                                "counts": counts, "archived": archived})


def _editor_context(staff: Staff, bank: BankDep, **extra: Any) -> dict[str, Any]:
    summaries = bank.summaries()
    return {"staff": staff, "scenarios": summaries,
            "skills": sorted({d for s in summaries for d in s.dimensions}),
            "layers": sorted({x for s in summaries for x in s.stack_layers}),
            "difficulties": sorted({s.difficulty for s in summaries}),
            "role_titles": ROLE_TITLES, "tier_labels": {t.id: t.label for t in TIERS}, **extra}


@router.get("/assessments/new")
def new_assessment_page(request: Request, staff: RecruiterStaff, bank: BankDep,
                        session: SessionDep) -> Response:
    from server.accounts import service as accounts

    org = accounts.organization(session, staff.org_id)
    minutes = org.settings.get("default_time_limit_min") or 120
    return render(request, "assessment_edit.html", _editor_context(
        staff, bank, form={"title": "", "time_limit_min": minutes, "instructions": ""},
        selected={}))


# The assessment form's validation errors in the words of the form, not pydantic's.
_EDITOR_MESSAGES = {
    "scenarios": "Pick at least one scenario from the bank below (tick “Use”).",
    "title": "Give the assessment a title.",
    "time_limit_min": "The time limit is a whole number of minutes from 5 to 1440.",
    "instructions": "The instructions are too long (at most 20,000 characters).",
}


def _editor_errors(exc: ValidationError) -> list[str]:
    out: list[str] = []
    for e in exc.errors():
        loc = [str(p) for p in e["loc"]]
        if loc[:1] == ["scenarios"] and len(loc) > 2 and loc[2] == "weight":
            msg = "Each weight is a number above 0."
        elif loc[:1] == ["scenarios"] and len(loc) > 2 and loc[2] == "scale_tier":
            msg = "Pick a scale from the list (or “any”)."
        elif loc[:1] == ["scenarios"] and "unique" in str(e.get("msg", "")).lower():
            msg = "A scenario may appear only once."
        else:
            msg = _EDITOR_MESSAGES.get(loc[0] if loc else "", f"{'.'.join(loc)}: {e['msg']}")
        if msg not in out:
            out.append(msg)
    return out


async def _form_entries(request: Request) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    form = await request.form()
    picked = [str(v) for v in form.getlist("scenario")]

    def num(key: str, default: float) -> float | str:
        raw = str(form.get(key) or "").strip()
        try:
            return float(raw) if raw else default
        except ValueError:
            return raw  # let validation name it

    entries = sorted(({"scenario_id": s, "weight": num(f"weight_{s}", 1.0),
                       "scale_tier": str(form.get(f"scale_{s}") or "").strip() or None,
                       "_order": num(f"order_{s}", 99)} for s in picked),
                     key=lambda e: (e["_order"] if isinstance(e["_order"], float) else 99))
    fields = {"title": str(form.get("title") or ""),
              "time_limit_min": str(form.get("time_limit_min") or "120"),
              "instructions": str(form.get("instructions") or "")}
    return fields, [{k: v for k, v in e.items() if k != "_order"} for e in entries]


@router.post("/assessments/new")
async def create_assessment_page(request: Request, staff: RecruiterStaff, session: SessionDep,
                                 bank: BankDep) -> Response:
    fields, entries = await _form_entries(request)
    try:
        data = AssessmentCreate.model_validate({**fields, "scenarios": entries})
        created = service.create(session, org_id=staff.org_id, data=data, bank=bank,
                                 actor=staff.actor)
    except ValidationError as exc:
        errors = _editor_errors(exc)
    except AppError as exc:
        errors = [exc.message]
    else:
        return RedirectResponse(f"/assessments/{created.id}", status_code=303)
    return render(request, "assessment_edit.html", _editor_context(
        staff, bank, form=fields, errors=errors,
        selected={e["scenario_id"]: e for e in entries}), status_code=422)


def _detail_context(session: SessionDep, staff: Staff, bank: BankDep, assessment_id: int,
                    **extra: Any) -> dict[str, Any]:
    assessment = service.get(session, staff.org_id, assessment_id)
    titles = {s.id: s.title for s in bank.summaries()}
    return {"staff": staff, "assessment": assessment, "titles": titles,
            "locked": service.has_attempts(session, assessment.id),
            "invites": invites.pipeline(session, staff.org_id, assessment_id=assessment.id),
            "can_edit": staff.user.role in (Role.admin, Role.recruiter), **extra}


@router.get("/assessments/{assessment_id}")
def assessment_page(request: Request, assessment_id: ObjectId, staff: CurrentStaff,
                    session: SessionDep, bank: BankDep) -> Response:
    return render(request, "assessment.html", _detail_context(session, staff, bank, assessment_id))


@router.get("/assessments/{assessment_id}/edit")
def edit_assessment_page(request: Request, assessment_id: ObjectId, staff: RecruiterStaff,
                         session: SessionDep, bank: BankDep) -> Response:
    a = service.get(session, staff.org_id, assessment_id)
    return render(request, "assessment_edit.html", _editor_context(
        staff, bank, assessment=a, locked=service.has_attempts(session, a.id),
        form={"title": a.title, "time_limit_min": a.time_limit_min,
              "instructions": a.instructions},
        selected={e.scenario_id: {"scenario_id": e.scenario_id, "weight": e.weight,
                                  "scale_tier": e.scale_tier, "order": e.position + 1}
                  for e in a.entries}))


@router.post("/assessments/{assessment_id}/edit")
async def save_assessment_page(request: Request, assessment_id: ObjectId, staff: RecruiterStaff,
                               session: SessionDep, bank: BankDep) -> Response:
    a = service.get(session, staff.org_id, assessment_id)
    fields, entries = await _form_entries(request)
    locked = service.has_attempts(session, a.id)
    data: dict[str, Any] = dict(fields)
    if not locked:
        data["scenarios"] = entries
    try:
        service.update(session, org_id=staff.org_id, assessment_id=a.id,
                       data=AssessmentUpdate.model_validate(data), bank=bank, actor=staff.actor)
    except ValidationError as exc:
        errors = _editor_errors(exc)
    except AppError as exc:
        errors = [exc.message]
    else:
        return RedirectResponse(f"/assessments/{a.id}", status_code=303)
    return render(request, "assessment_edit.html", _editor_context(
        staff, bank, assessment=a, locked=locked, form=fields, errors=errors,
        selected={e["scenario_id"]: e for e in entries}), status_code=422)


@router.post("/assessments/{assessment_id}")
def update_assessment_page(
    request: Request, assessment_id: ObjectId, staff: RecruiterStaff, session: SessionDep,
    bank: BankDep, title: Annotated[str, Form()] = "", instructions: Annotated[str, Form()] = "",
    time_limit_min: Annotated[str, Form()] = "",
) -> Response:
    try:
        data = AssessmentUpdate.model_validate(
            {"title": title, "instructions": instructions, "time_limit_min": time_limit_min})
        service.update(session, org_id=staff.org_id, assessment_id=assessment_id, data=data,
                       bank=bank, actor=staff.actor)
    except ValidationError as exc:
        return render(request, "assessment.html", _detail_context(
            session, staff, bank, assessment_id, errors=validation_messages(exc)), status_code=422)
    return RedirectResponse(f"/assessments/{assessment_id}", status_code=303)


@router.post("/assessments/{assessment_id}/status")
def set_status_page(assessment_id: ObjectId, staff: RecruiterStaff, session: SessionDep,
                    bank: BankDep, status: Annotated[AssessmentStatus, Form()]) -> Response:
    service.update(session, org_id=staff.org_id, assessment_id=assessment_id,
                   data=AssessmentUpdate(status=status), bank=bank, actor=staff.actor)
    return RedirectResponse(f"/assessments/{assessment_id}", status_code=303)


def _pipeline_block(request: Request, session: SessionDep, staff: Staff, bank: BankDep,
                    assessment_id: int, status_code: int = 200, **extra: Any) -> Response:
    # "Invitation e-mailed" only when an SMTP server is set; otherwise it waits in the outbox.
    smtp = bool(request.app.state.settings.smtp_host)
    return render(request, "assessment.html",
                  _detail_context(session, staff, bank, assessment_id, smtp=smtp, **extra),
                  block="invites_section", status_code=status_code)


@router.post("/assessments/{assessment_id}/invite")
def invite_page(request: Request, assessment_id: ObjectId, staff: RecruiterStaff,
                session: SessionDep, settings: SettingsDep, bank: BankDep,
                email: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
                days: Annotated[str, Form()] = "") -> Response:
    from server.invites.schemas import InviteCreate

    try:
        data = InviteCreate.model_validate({"email": email, "name": name,
                                            "expires_in_days": days or None})
        _, url = invites.create(session, org_id=staff.org_id, assessment_id=assessment_id,
                                email_addr=str(data.email), name=data.name,
                                days=data.expires_in_days or settings.invite_days,
                                base_url=settings.base_url, secret_key=settings.secret_key,
                                actor=staff.actor)
    except ValidationError as exc:
        return _pipeline_block(request, session, staff, bank, assessment_id, 422,
                               invite_errors=validation_messages(exc))
    except AppError as exc:
        return _pipeline_block(request, session, staff, bank, assessment_id, exc.status_code,
                               invite_errors=[exc.message])
    return _pipeline_block(request, session, staff, bank, assessment_id, 201,
                           links=[(str(data.email), url)])


@router.post("/assessments/{assessment_id}/invite-csv")
async def invite_csv_page(request: Request, assessment_id: ObjectId, staff: RecruiterStaff,
                          session: SessionDep, settings: SettingsDep, bank: BankDep) -> Response:
    form = await request.form()
    upload = form.get("file")
    data = await upload.read(256 * 1024 + 1) if isinstance(upload, UploadFile) else b""
    try:
        if len(data) > 256 * 1024:
            raise CsvTooLarge("CSV over 256 KiB")
        made = invites.import_csv(session, org_id=staff.org_id, assessment_id=assessment_id,
                                  data=data, days=settings.invite_days,
                                  base_url=settings.base_url, secret_key=settings.secret_key,
                                  actor=staff.actor)
    except AppError as exc:
        rows = [f"row {r['row']}: {r['error']}" for r in exc.extra.get("rows", [])]  # type: ignore[attr-defined]
        return _pipeline_block(request, session, staff, bank, assessment_id, exc.status_code,
                               invite_errors=[exc.message, *rows])
    links = [(invites.describe(session, r).candidate_email, u) for r, u in made]
    return _pipeline_block(request, session, staff, bank, assessment_id, 201, links=links)


@router.post("/invites/{invite_id}/{action}")
def invite_action_page(request: Request, invite_id: ObjectId, action: str, staff: RecruiterStaff,
                       session: SessionDep, settings: SettingsDep, bank: BankDep,
                       days: Annotated[int, Form(ge=1, le=365)] = 7) -> Response:
    links = []
    try:
        if action == "resend":
            inv, url = invites.resend(session, org_id=staff.org_id, invite_id=invite_id,
                                      base_url=settings.base_url, secret_key=settings.secret_key,
                                      actor=staff.actor)
            links.append((invites.describe(session, inv).candidate_email, url))
        elif action == "extend":
            inv = invites.extend(session, org_id=staff.org_id, invite_id=invite_id, days=days,
                                 actor=staff.actor)
        elif action == "revoke":
            inv = invites.revoke(session, org_id=staff.org_id, invite_id=invite_id,
                                 actor=staff.actor)
        else:
            raise UnknownAction(f"unknown action {action!r}")
    except AppError as exc:
        if exc.status_code == 404:
            raise
        inv = invites.get(session, staff.org_id, invite_id)
        return _pipeline_block(request, session, staff, bank, inv.assessment_id,
                               exc.status_code, invite_errors=[exc.message])
    return _pipeline_block(request, session, staff, bank, inv.assessment_id, links=links)


@router.get("/pipeline")
def pipeline_page(request: Request, staff: CurrentStaff, session: SessionDep,
                  status: str | None = Query(None, max_length=20),
                  assessment: str | None = Query(None, max_length=12),
                  sort: str = Query("created", max_length=20), desc: bool = True) -> Response:
    # The filter form sends assessment="" for "any": read it as no filter, not a 422.
    assessment_id = int(assessment) if assessment and assessment.isdigit() else None
    assessment_id = assessment_id if assessment_id and assessment_id <= 2**31 - 1 else None
    rows = invites.pipeline(session, staff.org_id, assessment_id=assessment_id,
                            status=status if status in STATUSES else None)
    key = SORTS.get(sort, "created_at")
    rows.sort(key=lambda r: (getattr(r, key) is None, getattr(r, key) or 0), reverse=desc)
    titles = {a.id: a.title for a in service.list_assessments(session, staff.org_id,
                                                              include_archived=True)}
    return render(request, "pipeline.html", {
        "staff": staff, "rows": rows, "titles": titles, "statuses": STATUSES, "status": status,
        "assessment": assessment_id, "sort": sort, "desc": desc}, block="pipeline_table")


@router.get("/outbox")
def outbox_page(request: Request, staff: RecruiterStaff, session: SessionDep,
                settings: SettingsDep) -> Response:
    return render(request, "outbox.html", {"staff": staff,
                                           "messages": outbox(session, staff.org_id),
                                           "smtp": bool(settings.smtp_host)})
