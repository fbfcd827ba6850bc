"""The candidate's side: open an invite, start, save answers (versioned), what the candidate
sees of their attempt, running their code, submit. The API (router.py) and the pages
(pages.py) both call these, so the two paths cannot drift apart."""

from __future__ import annotations

import json
import mimetypes
import secrets
from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scenarios.scale import TierUnavailable, seed_for_tier
from server.attempts import repository as repo
from server.attempts.errors import (
    ArtifactNotFound,
    AttemptClosed,
    BadAnswer,
    InvitationGone,
    InvitationNotFound,
    NoCode,
    NotRunnable,
    NotStarted,
    ScenarioNotFound,
    StaleSave,
    StartedElsewhere,
    TierNoLongerReached,
)
from server.attempts.schemas import AttemptState, ScenarioForCandidate, ScenarioRef
from server.bank.service import BankService
from server.grading.service import enqueue_grading
from server.integrity.service import record_integrity_event
from server.kit.security import new_token, token_hash
from server.models import (
    Answer,
    AssessmentScenario,
    Attempt,
    AttemptStatus,
    CandidateSession,
    Invite,
    utcnow,
)
from server.notebooks.service import NotebookService, cell_runs

MAX_ANSWER_BYTES = 512 * 1024
CANDIDATE_SESSION_DAYS = 14


class CandidateRef(Protocol):
    """Who the request's candidate is (server.deps.CandidateContext)."""

    @property
    def invite_id(self) -> int: ...
    @property
    def assessment_id(self) -> int: ...
    @property
    def org_id(self) -> int: ...


def open_invite(session: Session, secret_key: bytes, token: str) -> tuple[Invite, str, str]:
    """Exchange an invite token for a candidate session. Returns (invite, cookie, csrf)."""
    invite = repo.invite_by_token_hash(session, token_hash(secret_key, token))
    return _open(session, secret_key, invite)


def open_invite_by_id(session: Session, secret_key: bytes,
                      invite_id: int) -> tuple[Invite, str, str]:
    """The same as opening the link, for an invite known by id (tests, demo)."""
    return _open(session, secret_key, repo.invite(session, invite_id))


def _open(session: Session, secret_key: bytes,
          invite: Invite | None) -> tuple[Invite, str, str]:
    if invite is None:
        raise InvitationNotFound("this link is not valid; check that you copied all of it, "
                                 "or ask the recruiter for a new one")
    if invite.revoked_at is not None:
        raise InvitationGone("this invitation was withdrawn; contact the recruiter if you "
                             "think that is a mistake")
    attempt = attempt_of(session, invite.id)
    if invite.expires_at <= utcnow() and attempt is None:
        raise InvitationGone("this invitation has expired; ask the recruiter to extend it")
    invite.opened_at = invite.opened_at or utcnow()
    cookie = new_token()
    csrf = secrets.token_urlsafe(32)
    repo.add_candidate_session(session, CandidateSession(
        id_hash=token_hash(secret_key, cookie), invite_id=invite.id, csrf_token=csrf,
        expires_at=utcnow() + timedelta(days=CANDIDATE_SESSION_DAYS)))
    return invite, cookie, csrf


@dataclass(frozen=True)
class Resolved:
    """A live candidate session: its invite and the CSRF token it was given."""

    invite_id: int
    org_id: int
    assessment_id: int
    candidate_id: int
    csrf_token: str


def resolve(session: Session, secret_key: bytes, cookie: str) -> Resolved | None:
    found = repo.candidate_by_session(session, token_hash(secret_key, cookie))
    if found is None or found.expires_at <= utcnow() or found.revoked_at is not None:
        return None
    return Resolved(found.id, found.org_id, found.assessment_id, found.candidate_id,
                    found.csrf_token)


def attempt_of(session: Session, invite_id: int) -> Attempt | None:
    return repo.attempt_of(session, invite_id)


def entries(session: Session, assessment_id: int) -> list[AssessmentScenario]:
    return repo.entries(session, assessment_id)


def _seed(bank: BankService, entry: AssessmentScenario) -> int:
    seed = secrets.randbelow(2**31)
    if entry.scale_tier is None:
        return seed
    # A pinned tier: the first seed from this random one whose variant has that scale.
    try:
        return seed_for_tier(bank.get(entry.scenario_id), seed, entry.scale_tier)
    except TierUnavailable as exc:  # the scenario changed after the assessment was built
        raise TierNoLongerReached(f"{exc}; ask the recruiter to update the assessment") \
            from None


def start(session: Session, invite: Invite, bank: BankService) -> Attempt:
    """Start the clock (once): deadline and a variant seed per scenario (in its pinned
    scale tier, when the entry has one)."""
    existing = attempt_of(session, invite.id)
    if existing is not None:
        return existing
    if invite.expires_at <= utcnow():
        raise InvitationGone("this invitation has expired; ask the recruiter to extend it")
    assessment = repo.assessment(session, invite.assessment_id)
    now = utcnow()
    attempt = Attempt(
        org_id=invite.org_id, invite_id=invite.id, assessment_id=assessment.id,
        candidate_id=invite.candidate_id, started_at=now,
        deadline=now + timedelta(minutes=assessment.time_limit_min),
        seeds={e.scenario_id: _seed(bank, e) for e in entries(session, assessment.id)},
    )
    try:
        repo.add_attempt(session, attempt)
    except IntegrityError:  # a second tab started it at the same moment
        session.rollback()
        raise StartedElsewhere("the assessment was started in another tab; reload") from None
    return attempt


class AttemptLike(Protocol):
    """What saving needs of an attempt: an Attempt, or the row the autosave reads."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> AttemptStatus: ...
    @property
    def deadline(self) -> datetime: ...
    @property
    def seeds(self) -> dict[str, Any]: ...


def is_open(attempt: AttemptLike, grace_s: int = 0) -> bool:
    return (attempt.status == AttemptStatus.in_progress
            and utcnow() <= attempt.deadline + timedelta(seconds=grace_s))


def answers(session: Session, attempt_id: int) -> dict[str, Answer]:
    return repo.answers(session, attempt_id)


@dataclass(frozen=True)
class Saved:
    version: int
    content: dict[str, Any]


def save_answer(session: Session, attempt: AttemptLike, scenario_id: str, *, base_version: int,
                content: dict[str, Any], field_ids: Set[str], grace_s: int) -> Saved:
    """Store a new version if base_version is the current one; a stale save never overwrites
    a newer version (409 with the server's copy). The same save sent again after it was
    committed is answered as saved, at the version it made."""
    if scenario_id not in attempt.seeds:
        raise ScenarioNotFound(f"scenario {scenario_id!r} is not part of this assessment")
    if not is_open(attempt, grace_s):
        raise AttemptClosed("time is up: this attempt is closed and your last saved answers "
                            "were submitted")
    unknown = set(content) - field_ids
    if unknown:
        raise BadAnswer(f"unknown answer fields: {sorted(unknown)}")
    if len(json.dumps(content)) > MAX_ANSWER_BYTES:
        # 422 like any other field over its length: the body itself was within the limit.
        raise BadAnswer(f"content: answer over {MAX_ANSWER_BYTES // 1024} KiB; shorten it")
    now = utcnow()
    # Compare-and-set in the database, so two concurrent saves cannot both win.
    answer_id = repo.compare_and_set(session, attempt.id, scenario_id,
                                     base_version=base_version, content=content, now=now)
    version = base_version + 1
    if answer_id is None:
        current = repo.answer(session, attempt.id, scenario_id)
        if current is not None or base_version != 0:
            return _resent_or_stale(current, base_version, content)
        current = Answer(attempt_id=attempt.id, scenario_id=scenario_id, version=1,
                         content=content, updated_at=now)
        try:
            repo.add_first_answer(session, current)
        except IntegrityError:  # a concurrent first save won
            return _resent_or_stale(repo.answer(session, attempt.id, scenario_id),
                                    base_version, content)
        answer_id, version = current.id, 1
    repo.add_revision(session, answer_id, version, content, now)
    return Saved(version, content)


def _resent_or_stale(current: Answer | None, base_version: int,
                     content: dict[str, Any]) -> Saved:
    """The save lost the compare-and-set. The same content already committed as the version
    this save would have made is this save, sent again (a proxy resends a PUT when the node
    that committed it died before answering): saved, at that version, with no new version.
    Anything else is a real conflict (409 with the server's copy)."""
    if current is not None and current.version == base_version + 1 \
            and current.content == content:
        return Saved(current.version, current.content)
    raise StaleSave("stale save", extra={"version": current.version if current else 0,
                                         "content": current.content if current else {}})


def save_for(session: Session, who: CandidateRef, bank: BankService, index: int, *,
             base_version: int, content: dict[str, Any], grace_s: int) -> Saved:
    """Autosave the answer to the index-th scenario. The form's field ids come from the
    manifest (bank.field_ids), so a save renders nothing: it reads the attempt with the
    scenario id at the index in one query, and writes one compare-and-set and one
    revision."""
    found = repo.attempt_and_scenario(session, who.invite_id, index)
    if found is None:
        raise NotStarted("start the assessment first")
    attempt: AttemptLike = found
    if found.status == AttemptStatus.in_progress and not is_open(found, grace_s):
        overdue = current_attempt(session, who, grace_s)  # submitted here, then refused below
        assert overdue is not None
        attempt = overdue
    if found.scenario_id is None:
        raise ScenarioNotFound(f"there is no scenario {index + 1}")
    return save_answer(session, attempt, found.scenario_id, base_version=base_version,
                       content=content, field_ids=bank.field_ids(found.scenario_id),
                       grace_s=grace_s)


def submit(session: Session, attempt: Attempt, *, auto: bool = False) -> Attempt:
    """Freeze the attempt and enqueue its grading in the same transaction. Idempotent."""
    if attempt.status != AttemptStatus.in_progress:
        return attempt
    attempt.status = AttemptStatus.submitted
    attempt.submitted_at = min(utcnow(), attempt.deadline) if auto else utcnow()
    enqueue_grading(session, attempt)
    session.flush()
    return attempt


def submit_overdue(session: Session, *, grace_s: int) -> int:
    """Submit every attempt whose deadline (plus grace) has passed; returns how many."""
    cutoff = utcnow() - timedelta(seconds=grace_s)
    overdue = repo.overdue(session, cutoff)
    for attempt in overdue:
        submit(session, attempt, auto=True)
    return len(overdue)


# ---------------------------------------------------------------- what the candidate sees


def current_attempt(session: Session, who: CandidateRef, grace_s: int) -> Attempt | None:
    """The candidate's attempt; one past its deadline (plus grace) is submitted first, so
    every read sees the attempt as it is now."""
    attempt = repo.attempt_of(session, who.invite_id)
    if attempt is not None and attempt.status == AttemptStatus.in_progress and not \
            is_open(attempt, grace_s):
        submit(session, attempt, auto=True)
    return attempt


def _filled(v: Any, starter: str | None = None) -> bool:
    if isinstance(v, str):
        return bool(v.strip()) and (starter is None or v.strip() != starter.strip())
    if isinstance(v, dict):
        return any(_filled(x) for x in v.values())
    return v not in (None, [], {})


def answered(content: dict[str, Any], starter: dict[str, str]) -> bool:
    """Whether an answer says anything: blank text, empty write-up sections and code files
    still equal to their starter do not count (the workspace's submit dialog relies on it)."""
    for value in content.values():
        if isinstance(value, dict) and any(k in starter for k in value):
            if any(_filled(x, starter.get(k)) for k, x in value.items()):
                return True
        elif _filled(value):
            return True
    return False


def _starter_text(bank: BankService, scenario_id: str) -> dict[str, str]:
    sc = bank.get(scenario_id)
    out = {}
    for s in sc.manifest.starter:
        try:
            out[s.path] = (sc.path / "starter" / s.path).read_text(errors="replace")
        except OSError:
            continue
    return out


def state(session: Session, who: CandidateRef, bank: BankService, grace_s: int) -> AttemptState:
    assessment = repo.assessment(session, who.assessment_id)
    attempt = current_attempt(session, who, grace_s)
    saved = repo.answers(session, attempt.id) if attempt else {}
    refs = []
    for e in repo.entries(session, assessment.id):
        m = bank.get(e.scenario_id).manifest
        a = saved.get(e.scenario_id)
        refs.append(ScenarioRef(index=e.position, scenario_id=e.scenario_id, title=m.title,
                                kind=str(m.kind), time_estimate_min=m.time_estimate_min,
                                answered=bool(a and answered(
                                    a.content, _starter_text(bank, e.scenario_id))),
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


def start_for(session: Session, who: CandidateRef, bank: BankService) -> Attempt:
    invite = repo.invite(session, who.invite_id)
    if invite is None:
        raise InvitationNotFound("this invitation no longer exists")
    return start(session, invite, bank)


def scenario_for(session: Session, who: CandidateRef, bank: BankService, index: int,
                 grace_s: int) -> tuple[Attempt, ScenarioForCandidate]:
    attempt = current_attempt(session, who, grace_s)
    if attempt is None:
        raise NotStarted("start the assessment first")
    scenario_entries = repo.entries(session, who.assessment_id)
    if index >= len(scenario_entries):
        raise ScenarioNotFound(f"there is no scenario {index + 1}")
    scenario_id = scenario_entries[index].scenario_id
    view = bank.view(scenario_id, int(attempt.seeds[scenario_id]))
    saved = repo.answers(session, attempt.id).get(scenario_id)
    form = view.form_json()["fields"]
    return attempt, ScenarioForCandidate(
        index=index, scenario_id=scenario_id, title=view.title, prompt_html=view.prompt_html,
        form=form,
        artifacts=[{"path": p, "bytes": len(b)} for p, b in sorted(view.artifacts.items())],
        starter={p: b.decode("utf-8", "replace") for p, b in sorted(view.starter.items())},
        answer=saved.content if saved else {}, version=saved.version if saved else 0,
    )


def open_attempt(session: Session, who: CandidateRef, grace_s: int) -> Attempt:
    attempt = current_attempt(session, who, grace_s)
    if attempt is None or attempt.status != AttemptStatus.in_progress:
        raise AttemptClosed("the attempt is not in progress")
    return attempt


def code_files(scenario: ScenarioForCandidate) -> list[str]:
    return [name for f in scenario.form if f["type"] == "code" for name in f["files"]]


@dataclass(frozen=True)
class Artifact:
    data: bytes
    media_type: str
    filename: str


def artifact(session: Session, who: CandidateRef, bank: BankService, index: int, path: str,
             grace_s: int) -> Artifact:
    attempt, scenario = scenario_for(session, who, bank, index, grace_s)
    view = bank.view(scenario.scenario_id, int(attempt.seeds[scenario.scenario_id]))
    data = view.artifacts.get(path)
    if data is None:
        raise ArtifactNotFound(f"no artifact {path!r}")
    media = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if media.startswith("text/") or path.endswith((".log", ".csv", ".txt", ".json", ".md")):
        media = "text/plain; charset=utf-8"  # never rendered as HTML in our origin
    return Artifact(data, media, path.rsplit("/", 1)[-1])


def submit_for(session: Session, who: CandidateRef, notebooks: NotebookService,
               grace_s: int) -> Attempt | None:
    """The candidate submits (API or form): freeze, enqueue grading, close their kernels.
    None when the attempt was never started."""
    attempt = current_attempt(session, who, grace_s)
    if attempt is None:
        return None
    submit(session, attempt)
    notebooks.close_attempt(attempt.id)
    return attempt


def record_event(session: Session, who: CandidateRef, kind: str, data: dict[str, Any]) -> None:
    """An integrity event from the page, kept only while the attempt is in progress."""
    attempt = repo.attempt_of(session, who.invite_id)
    if attempt is not None and attempt.status == AttemptStatus.in_progress:
        record_integrity_event(session, attempt, kind, data)


@dataclass(frozen=True)
class CellTarget:
    """What running one notebook cell needs once the request's transaction is released."""

    attempt_id: int
    scenario_id: str
    artifacts: dict[str, bytes]


def cell_target(session: Session, who: CandidateRef, bank: BankService, index: int,
                grace_s: int) -> CellTarget:
    attempt, scenario = scenario_for(session, who, bank, index, grace_s)
    open_attempt(session, who, grace_s)
    view = bank.view(scenario.scenario_id, int(attempt.seeds[scenario.scenario_id]))
    return CellTarget(attempt.id, scenario.scenario_id, dict(view.artifacts))


def notebook_history(session: Session, who: CandidateRef, bank: BankService, index: int,
                     grace_s: int) -> dict[str, Any]:
    attempt, scenario = scenario_for(session, who, bank, index, grace_s)
    cells = cell_runs(session, attempt.id, scenario.scenario_id)
    return {"cells": [{"id": c.id, "code": c.code, "status": c.status,
                       "execution_count": c.execution_count,
                       "duration_ms": round((c.finished_at - c.started_at).total_seconds() * 1000)
                       if c.finished_at and c.started_at else None,
                       "detail": c.detail, "kernel_restarted": c.kernel_restarted,
                       "outputs": c.outputs.get("items", [])} for c in cells]}


MAX_RUN_BYTES = 500_000


@dataclass(frozen=True)
class RunTarget:
    attempt_id: int
    files: dict[str, bytes]
    command: list[str]


def run_target(session: Session, who: CandidateRef, bank: BankService, index: int,
               files: dict[str, str], grace_s: int) -> RunTarget:
    """The candidate's code files with the scenario's starter files beside them, run as
    `python FIRST_CODE_FILE`; only the scenario's code files may be sent."""
    attempt, scenario = scenario_for(session, who, bank, index, grace_s)
    open_attempt(session, who, grace_s)
    names = code_files(scenario)
    if not names:
        raise NoCode("this scenario has no code to run")
    unknown = set(files) - set(names)
    if unknown or sum(len(v) for v in files.values()) > MAX_RUN_BYTES:
        raise NotRunnable(f"only these files can be run: {names}")
    # The artifacts the prompt names (e.g. artifacts/examples/) sit beside the code, as
    # artifacts/<path>, like /artifacts in the notebook.
    view = bank.view(scenario.scenario_id, int(attempt.seeds[scenario.scenario_id]))
    out = {f"artifacts/{k}": v for k, v in view.artifacts.items()}
    out.update({k: v.encode() for k, v in scenario.starter.items()})
    out.update({k: v.encode() for k, v in files.items()})
    return RunTarget(attempt.id, out, ["python", names[0]])


def page_context(session: Session, who: CandidateRef) -> dict[str, object]:
    """What every candidate page shows: the assessment, the organization's branding."""
    invite = repo.invite(session, who.invite_id)
    org = repo.organization(session, who.org_id)
    return {"candidate": who, "assessment": repo.assessment(session, who.assessment_id),
            "brand": org.settings.get("branding_name") or org.name,
            "contact": org.settings.get("accommodations_contact") or "the recruiter who invited you",
            "invite": invite}


def instructions_html(session: Session, who: CandidateRef) -> str:
    from scenarios.render import markdown_to_html

    return markdown_to_html(repo.assessment(session, who.assessment_id).instructions)
