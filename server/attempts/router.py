"""The candidate's API: their own attempt only, nothing of the rubric, checks or scores."""

from __future__ import annotations

import json
import mimetypes
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from scenarios.render import markdown_to_html
from server.attempts import service
from server.attempts.schemas import (
    AnswerSave,
    AnswerSaved,
    AttemptState,
    IntegrityEvent,
    ScenarioForCandidate,
    ScenarioRef,
)
from server.bank.service import BankService
from server.db import release
from server.deps import BankDep, CandidateContext, CurrentCandidate, SessionDep, SettingsDep
from server.errors import AppError, AttemptClosed, NotFound
from server.integrity.service import record_integrity_event
from server.models import Assessment, Attempt, AttemptStatus, Invite, utcnow
from server.notebooks import repository as notebooks_repo
from server.notebooks.service import NotebookService

router = APIRouter(prefix="/api/v1/candidate", tags=["candidate"])
Index = Path(ge=0, le=99, description="Position of the scenario in the assessment.")


def _attempt(session: SessionDep, who: CandidateContext, grace_s: int) -> Attempt | None:
    attempt = service.attempt_of(session, who.invite_id)
    if attempt is not None and attempt.status == AttemptStatus.in_progress and not \
            service.is_open(attempt, grace_s):
        service.submit(session, attempt, auto=True)
    return attempt


def state(session: SessionDep, who: CandidateContext, bank: BankService,
          grace_s: int) -> AttemptState:
    assessment = session.get_one(Assessment, who.assessment_id)
    attempt = _attempt(session, who, grace_s)
    saved = service.answers(session, attempt.id) if attempt else {}
    refs = []
    for e in service.entries(session, assessment.id):
        m = bank.get(e.scenario_id).manifest
        a = saved.get(e.scenario_id)
        refs.append(ScenarioRef(index=e.position, scenario_id=e.scenario_id, title=m.title,
                                kind=str(m.kind), time_estimate_min=m.time_estimate_min,
                                answered=bool(a and any(_filled(v) for v in a.content.values())),
                                version=a.version if a else 0))
    status = "not_started"
    if attempt is not None:
        # Candidates are never told about grading or scores: graded reads as submitted.
        status = "in_progress" if attempt.status == AttemptStatus.in_progress else "submitted"
    return AttemptState(status=status, assessment_title=assessment.title,
                        time_limit_min=assessment.time_limit_min,
                        started_at=attempt.started_at if attempt else None,
                        deadline=attempt.deadline if attempt else None, server_now=utcnow(),
                        scenarios=refs)


def _filled(v: Any) -> bool:
    return v not in (None, "", [], {})


def scenario_for(session: SessionDep, who: CandidateContext, bank: BankService, index: int,
                 grace_s: int) -> tuple[Attempt, ScenarioForCandidate]:
    attempt = _attempt(session, who, grace_s)
    if attempt is None:
        raise AppError("start the assessment first", status_code=409, error="not_started")
    entries = service.entries(session, who.assessment_id)
    if index >= len(entries):
        raise NotFound(f"there is no scenario {index + 1}")
    scenario_id = entries[index].scenario_id
    view = bank.view(scenario_id, int(attempt.seeds[scenario_id]))
    saved = service.answers(session, attempt.id).get(scenario_id)
    form = view.form_json()["fields"]
    return attempt, ScenarioForCandidate(
        index=index, scenario_id=scenario_id, title=view.title, prompt_html=view.prompt_html,
        form=form,
        artifacts=[{"path": p, "bytes": len(b)} for p, b in sorted(view.artifacts.items())],
        starter={p: b.decode("utf-8", "replace") for p, b in sorted(view.starter.items())},
        answer=saved.content if saved else {}, version=saved.version if saved else 0,
    )


@router.get("/attempt", response_model=AttemptState)
def get_state(who: CurrentCandidate, session: SessionDep, bank: BankDep,
              settings: SettingsDep) -> AttemptState:
    return state(session, who, bank, settings.save_grace_s)


@router.post("/attempt/start", response_model=AttemptState)
def start(who: CurrentCandidate, session: SessionDep, bank: BankDep,
          settings: SettingsDep) -> AttemptState:
    service.start(session, session.get_one(Invite, who.invite_id))
    return state(session, who, bank, settings.save_grace_s)


@router.get("/scenarios/{index}", response_model=ScenarioForCandidate)
def get_scenario(who: CurrentCandidate, session: SessionDep, bank: BankDep, settings: SettingsDep,
                 index: int = Index) -> ScenarioForCandidate:
    return scenario_for(session, who, bank, index, settings.save_grace_s)[1]


@router.put("/answers/{index}", response_model=AnswerSaved,
            responses={409: {"description": "Stale save (the body carries the server's "
                                            "version and content) or the attempt is closed"}})
def save(body: AnswerSave, who: CurrentCandidate, session: SessionDep, bank: BankDep,
         settings: SettingsDep, index: int = Index) -> AnswerSaved | JSONResponse:
    attempt, scenario = scenario_for(session, who, bank, index, settings.save_grace_s)
    field_ids = {f["id"] for f in scenario.form}
    try:
        saved = service.save_answer(session, attempt, scenario.scenario_id,
                                    base_version=body.base_version, content=body.content,
                                    field_ids=field_ids, grace_s=settings.save_grace_s)
    except AttemptClosed as exc:
        # Returned, not raised: the automatic submit made above must be committed.
        return JSONResponse({"error": exc.error, "detail": exc.message}, status_code=409)
    return AnswerSaved(version=saved.version, saved_at=utcnow())


@router.get("/artifacts/{index}/{path:path}", response_class=Response)
def artifact(path: str, who: CurrentCandidate, session: SessionDep, bank: BankDep,
             settings: SettingsDep, index: int = Index) -> Response:
    attempt, scenario = scenario_for(session, who, bank, index, settings.save_grace_s)
    view = bank.view(scenario.scenario_id, int(attempt.seeds[scenario.scenario_id]))
    data = view.artifacts.get(path)
    if data is None:
        raise NotFound(f"no artifact {path!r}")
    media = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if media.startswith("text/") or path.endswith((".log", ".csv", ".txt", ".json", ".md")):
        media = "text/plain; charset=utf-8"  # never rendered as HTML in our origin
    return Response(data, media_type=media, headers={
        "Content-Disposition": f'inline; filename="{path.rsplit("/", 1)[-1]}"',
        "X-Content-Type-Options": "nosniff"})


@router.post("/submit", response_model=AttemptState)
def submit(request: Request, who: CurrentCandidate, session: SessionDep, bank: BankDep,
           settings: SettingsDep) -> AttemptState:
    attempt = _attempt(session, who, settings.save_grace_s)
    if attempt is None:
        raise AppError("start the assessment first", status_code=409, error="not_started")
    service.submit(session, attempt)
    _notebooks(request).close_attempt(attempt.id)
    return state(session, who, bank, settings.save_grace_s)


class MarkdownIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=200_000)


@router.post("/markdown")
def markdown_preview(body: MarkdownIn, who: CurrentCandidate) -> dict[str, str]:
    """The candidate's Markdown as sanitized HTML (no scripts, handlers or javascript: links)."""
    return {"html": markdown_to_html(body.text)}


@router.post("/events", status_code=204)
def event(body: IntegrityEvent, who: CurrentCandidate, session: SessionDep,
          settings: SettingsDep) -> Response:
    attempt = service.attempt_of(session, who.invite_id)
    if attempt is not None and attempt.status == AttemptStatus.in_progress:
        record_integrity_event(session, attempt, body.kind,
                               {**dict(body.data), "scenario_id": body.scenario_id})
    return Response(status_code=204)


# ---------------------------------------------------------------- running code


class CellIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=100_000)


def _notebooks(request: Request) -> NotebookService:
    notebooks: NotebookService = request.app.state.notebooks
    return notebooks


def _open_attempt(session: SessionDep, who: CandidateContext, grace_s: int) -> Attempt:
    attempt = _attempt(session, who, grace_s)
    if attempt is None or attempt.status != AttemptStatus.in_progress:
        raise AttemptClosed("the attempt is not in progress")
    return attempt


@router.post("/notebook/{index}/execute",
             responses={200: {"content": {"application/x-ndjson": {}}, "description":
                              "With Accept: application/x-ndjson, one JSON line per output as "
                              "it arrives, then a line {\"done\": result}"}})
async def notebook_execute(body: CellIn, request: Request, who: CurrentCandidate,
                           session: SessionDep, bank: BankDep, settings: SettingsDep,
                           index: int = Index) -> Any:
    """Run one cell in the candidate's own kernel for this scenario (artifacts at
    /artifacts); the cell, its outputs and timing are recorded for the report."""
    def prepare() -> tuple[int, str, dict[str, bytes]]:
        attempt, scenario = scenario_for(session, who, bank, index, settings.save_grace_s)
        _open_attempt(session, who, settings.save_grace_s)
        view = bank.view(scenario.scenario_id, int(attempt.seeds[scenario.scenario_id]))
        ids = (attempt.id, scenario.scenario_id, dict(view.artifacts))
        release(session)  # no transaction is held while the sandbox runs
        return ids

    attempt_id, scenario_id, artifacts = await anyio.to_thread.run_sync(prepare)
    notebooks = _notebooks(request)
    factory = request.app.state.sessionmaker

    def run(on_output: Any = None) -> dict[str, Any]:
        return notebooks.execute_and_record(factory, attempt_id, scenario_id, artifacts,
                                            body.code, on_output)

    if "application/x-ndjson" not in request.headers.get("accept", ""):
        return await anyio.to_thread.run_sync(run)

    send, receive = anyio.create_memory_object_stream[dict[str, Any]](max_buffer_size=1000)

    def produce() -> None:
        with send:
            def push(out: dict[str, Any]) -> None:
                anyio.from_thread.run(send.send, {"output": out})
            try:
                anyio.from_thread.run(send.send, {"done": run(push)})
            except AppError as exc:
                anyio.from_thread.run(send.send, {"error": exc.error, "detail": exc.message})

    async def lines() -> Any:
        async with anyio.create_task_group() as tg:
            tg.start_soon(anyio.to_thread.run_sync, produce)
            async with receive:
                async for item in receive:
                    yield json.dumps(item) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson",
                             headers={"Cache-Control": "no-store"})


@router.get("/notebook/{index}")
def notebook_history(who: CurrentCandidate, session: SessionDep, bank: BankDep,
                     settings: SettingsDep, index: int = Index) -> dict[str, Any]:
    attempt, scenario = scenario_for(session, who, bank, index, settings.save_grace_s)
    cells = notebooks_repo.cell_runs(session, attempt.id, scenario.scenario_id)
    return {"cells": [{"id": c.id, "code": c.code, "status": c.status,
                       "execution_count": c.execution_count,
                       "outputs": c.outputs.get("items", [])} for c in cells]}


@router.post("/notebook/{index}/interrupt", status_code=204)
def notebook_interrupt(request: Request, who: CurrentCandidate, session: SessionDep,
                       bank: BankDep, settings: SettingsDep, index: int = Index) -> Response:
    attempt, scenario = scenario_for(session, who, bank, index, settings.save_grace_s)
    _notebooks(request).interrupt(attempt.id, scenario.scenario_id)
    return Response(status_code=204)


@router.post("/notebook/{index}/restart", status_code=204)
def notebook_restart(request: Request, who: CurrentCandidate, session: SessionDep,
                     bank: BankDep, settings: SettingsDep, index: int = Index) -> Response:
    attempt, scenario = scenario_for(session, who, bank, index, settings.save_grace_s)
    _notebooks(request).restart(attempt.id, scenario.scenario_id)
    return Response(status_code=204)


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    files: dict[str, str] = Field(description="Code file name -> text (the editor's content).")


@router.post("/run/{index}")
def run_code(body: RunIn, request: Request, who: CurrentCandidate, session: SessionDep,
             bank: BankDep, settings: SettingsDep, index: int = Index) -> dict[str, Any]:
    """Run the candidate's code files once in a fresh sandbox (`python FILE` for the first
    file), with the scenario's starter files beside them."""
    attempt, scenario = scenario_for(session, who, bank, index, settings.save_grace_s)
    _open_attempt(session, who, settings.save_grace_s)
    code_files = [name for f in scenario.form if f["type"] == "code" for name in f["files"]]
    if not code_files:
        raise AppError("this scenario has no code to run", status_code=409, error="no_code")
    unknown = set(body.files) - set(code_files)
    if unknown or sum(len(v) for v in body.files.values()) > 500_000:
        raise AppError(f"only these files can be run: {code_files}", status_code=422,
                       error="validation_error")
    files = {k: v.encode() for k, v in scenario.starter.items()}
    files.update({k: v.encode() for k, v in body.files.items()})
    attempt_id = attempt.id
    release(session)
    return _notebooks(request).run(attempt_id, files, ["python", code_files[0]])
