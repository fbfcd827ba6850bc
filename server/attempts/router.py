"""The candidate's API: their own attempt only, nothing of the rubric, checks or scores."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from scenarios.render import markdown_to_html
from server.attempts import service
from server.attempts.errors import AttemptClosed, NotStarted
from server.attempts.schemas import (
    AnswerSave,
    AnswerSaved,
    AttemptState,
    CellIn,
    IntegrityEvent,
    MarkdownIn,
    RunIn,
    ScenarioForCandidate,
)
from server.db import in_thread_transaction, release
from server.deps import (
    BankDep,
    CandidateCredentialsDep,
    CandidateRoute,
    CurrentCandidate,
    NotebooksDep,
    SessionDep,
    SettingsDep,
    candidate_of,
)
from server.errors import AppError
from server.models import utcnow

# CandidateRoute: 401 for a caller who is not the candidate, before any 400/422 about the
# body or path.
router = APIRouter(prefix="/api/v1/candidate", tags=["candidate"], route_class=CandidateRoute)
Index = Path(ge=0, le=99, description="Position of the scenario in the assessment.")


@router.get("/attempt", response_model=AttemptState)
def get_state(who: CurrentCandidate, session: SessionDep, bank: BankDep,
              settings: SettingsDep) -> AttemptState:
    return service.state(session, who, bank, settings.save_grace_s)


@router.post("/attempt/start", response_model=AttemptState)
def start(who: CurrentCandidate, session: SessionDep, bank: BankDep,
          settings: SettingsDep) -> AttemptState:
    service.start_for(session, who, bank)
    return service.state(session, who, bank, settings.save_grace_s)


@router.get("/scenarios/{index}", response_model=ScenarioForCandidate)
def get_scenario(who: CurrentCandidate, session: SessionDep, bank: BankDep, settings: SettingsDep,
                 index: int = Index) -> ScenarioForCandidate:
    return service.scenario_for(session, who, bank, index, settings.save_grace_s)[1]


@router.put("/answers/{index}", response_model=AnswerSaved,
            responses={409: {"description": "Stale save (the body carries the server's "
                                            "version and content) or the attempt is closed; "
                                            "the same content resent at the version it made "
                                            "is 200 with that version"}})
async def save(body: AnswerSave, creds: CandidateCredentialsDep, request: Request,
               bank: BankDep, settings: SettingsDep,
               index: int = Index) -> AnswerSaved | JSONResponse:
    """The autosave, the API's most frequent request: authentication, the compare-and-set
    and its commit run in one worker thread and one transaction (one thread hand-off, no
    connection held while waiting for a thread)."""
    def work(session: Session) -> service.Saved | AttemptClosed:
        who = candidate_of(session, settings, creds)
        try:
            return service.save_for(session, who, bank, index, base_version=body.base_version,
                                    content=body.content, grace_s=settings.save_grace_s)
        except AttemptClosed as exc:
            # Returned, not raised: the automatic submit save_for made must be committed.
            return exc

    saved = await in_thread_transaction(request.app.state.sessionmaker, work)
    if isinstance(saved, AttemptClosed):
        return JSONResponse({"error": saved.error, "detail": saved.message}, status_code=409)
    return AnswerSaved(version=saved.version, saved_at=utcnow())


@router.get("/artifacts/{index}/{path:path}", response_class=Response)
def artifact(path: str, who: CurrentCandidate, session: SessionDep, bank: BankDep,
             settings: SettingsDep, index: int = Index) -> Response:
    found = service.artifact(session, who, bank, index, path, settings.save_grace_s)
    return Response(found.data, media_type=found.media_type, headers={
        "Content-Disposition": f'inline; filename="{found.filename}"',
        "X-Content-Type-Options": "nosniff"})


@router.post("/submit", response_model=AttemptState)
def submit(who: CurrentCandidate, session: SessionDep, bank: BankDep, settings: SettingsDep,
           notebooks: NotebooksDep) -> AttemptState:
    if service.submit_for(session, who, notebooks, settings.save_grace_s) is None:
        raise NotStarted("start the assessment first")
    return service.state(session, who, bank, settings.save_grace_s)


@router.post("/markdown")
def markdown_preview(body: MarkdownIn, who: CurrentCandidate) -> dict[str, str]:
    """The candidate's Markdown as sanitized HTML (no scripts, handlers or javascript: links)."""
    return {"html": markdown_to_html(body.text)}


@router.post("/events", status_code=204)
def event(body: IntegrityEvent, who: CurrentCandidate, session: SessionDep) -> Response:
    service.record_event(session, who, body.kind,
                         {**dict(body.data), "scenario_id": body.scenario_id})
    return Response(status_code=204)


# ---------------------------------------------------------------- running code


@router.post("/notebook/{index}/execute",
             responses={200: {"content": {"application/x-ndjson": {}}, "description":
                              "With Accept: application/x-ndjson, while the candidate waits "
                              "for a kernel lines {\"progress\": {\"position\", \"eta_s\", "
                              "\"state\": \"queued\"|\"starting\"}}, then one JSON line per "
                              "output as it arrives, then a line {\"done\": result}"}})
async def notebook_execute(body: CellIn, request: Request, who: CurrentCandidate,
                           session: SessionDep, bank: BankDep, settings: SettingsDep,
                           notebooks: NotebooksDep, index: int = Index) -> Any:
    """Run one cell in the candidate's own kernel for this scenario (artifacts at
    /artifacts); the cell, its outputs and timing are recorded for the report."""
    def prepare() -> service.CellTarget:
        target = service.cell_target(session, who, bank, index, settings.save_grace_s)
        release(session)  # no transaction is held while the sandbox runs
        return target

    target = await anyio.to_thread.run_sync(prepare)
    factory = request.app.state.sessionmaker

    def run(on_output: Callable[[dict[str, Any]], None] | None = None,
            on_progress: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        return notebooks.execute_and_record(factory, target.attempt_id, target.scenario_id,
                                            target.artifacts, body.code, on_output, on_progress)

    if "application/x-ndjson" not in request.headers.get("accept", ""):
        return await anyio.to_thread.run_sync(run)

    send, receive = anyio.create_memory_object_stream[dict[str, Any]](max_buffer_size=1000)

    def produce() -> None:
        with send:
            def push(out: dict[str, Any]) -> None:
                anyio.from_thread.run(send.send, {"output": out})

            def progress(p: dict[str, Any]) -> None:
                anyio.from_thread.run(send.send, {"progress": p})
            try:
                anyio.from_thread.run(send.send, {"done": run(push, progress)})
            except AppError as exc:
                anyio.from_thread.run(send.send, {"error": exc.error, "detail": exc.message})

    async def lines() -> AsyncIterator[str]:
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
    return service.notebook_history(session, who, bank, index, settings.save_grace_s)


@router.post("/notebook/{index}/interrupt", status_code=204)
def notebook_interrupt(who: CurrentCandidate, session: SessionDep, bank: BankDep,
                       settings: SettingsDep, notebooks: NotebooksDep,
                       index: int = Index) -> Response:
    attempt, scenario = service.scenario_for(session, who, bank, index, settings.save_grace_s)
    notebooks.interrupt(attempt.id, scenario.scenario_id)
    return Response(status_code=204)


@router.post("/notebook/{index}/restart", status_code=204)
def notebook_restart(who: CurrentCandidate, session: SessionDep, bank: BankDep,
                     settings: SettingsDep, notebooks: NotebooksDep,
                     index: int = Index) -> Response:
    attempt, scenario = service.scenario_for(session, who, bank, index, settings.save_grace_s)
    notebooks.restart(attempt.id, scenario.scenario_id)
    return Response(status_code=204)


@router.post("/run/{index}")
def run_code(body: RunIn, who: CurrentCandidate, session: SessionDep, bank: BankDep,
             settings: SettingsDep, notebooks: NotebooksDep,
             index: int = Index) -> dict[str, Any]:
    """Run the candidate's code files once in a fresh sandbox (`python FILE` for the first
    file), with the scenario's starter files beside them."""
    target = service.run_target(session, who, bank, index, body.files, settings.save_grace_s)
    release(session)
    return notebooks.run(target.attempt_id, target.files, target.command)
