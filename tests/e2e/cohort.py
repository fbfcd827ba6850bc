"""A graded cohort in the live database, for the staff pages' browser tests and screenshots.

Three candidates answer the flagship scenarios with the bank's own calibration answers
(a reference, a medium and a partly blank attempt), on the seeds those answers were written
for; the real grade function (the bank, graders and the Docker sandbox for code checks)
grades them in this process and the reports are stored as a worker would. A fourth
candidate has an open invite (its link is returned) for the candidate pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from scenarios.loader import load_bank
from server.assessments import service as assessments
from server.assessments.schemas import AssessmentCreate, EntryIn
from server.audit.service import Actor
from server.grading import grade_fn
from server.grading import service as grading
from server.invites import service as invites
from server.models import Answer, Attempt, AttemptStatus, Invite, utcnow
from server.ops.demo import demo_org_id
from tests.e2e.conftest import LiveServer

FLAGSHIPS = ("train-large-dense", "serving-fleet-planner", "debug-slow-run")
# Which calibration answer each candidate hands in, per scenario (None: left blank).
PEOPLE: dict[str, tuple[str, dict[str, str | None]]] = {
    "ada@example.com": ("Ada Lovelace", {s: "reference" for s in FLAGSHIPS}),
    "grace@example.com": ("Grace Hopper", {"train-large-dense": "medium",
                                           "serving-fleet-planner": "medium",
                                           "debug-slow-run": "medium"}),
    "linus@example.com": ("Linus Blank", {"train-large-dense": "structured_only",
                                          "serving-fleet-planner": None,
                                          "debug-slow-run": "empty"}),
}


@dataclass(frozen=True)
class Cohort:
    assessment_id: int
    attempt_ids: dict[str, int]  # e-mail -> attempt id
    invite_url: str  # an unopened invite, for the candidate pages


def make_graded_cohort(live: LiveServer) -> Cohort:
    """Needs the demo organization (the demo_accounts fixture) and a Docker engine."""
    bank = load_bank(live.settings.scenarios_root)
    fn = grade_fn.load_grade_fn(live.settings, bank)
    assert fn is not None, "the grading library is not installed"
    actor = Actor("test:cohort")
    with live.transaction() as session:
        org_id = demo_org_id(session)
        assessment = assessments.create(
            session, org_id=org_id, actor=actor, bank=live.app.state.bank,
            data=AssessmentCreate(title="Senior AI-infra engineer", time_limit_min=180,
                                  scenarios=[EntryIn(scenario_id=s) for s in FLAGSHIPS]))
        attempt_ids: dict[str, int] = {}
        for email, (name, picks) in PEOPLE.items():
            invite, _ = invites.create(session, org_id=org_id, assessment_id=assessment.id,
                                       email_addr=email, name=name, days=7,
                                       base_url=live.settings.base_url,
                                       secret_key=live.settings.secret_key, actor=actor)
            seeds, answers = {}, {}
            for sid, case in picks.items():
                cal = bank.get(sid).calibration[f"{case or 'empty'}.json"]
                seeds[sid] = cal.seed
                answers[sid] = {} if case is None else dict(cal.answers)
            attempt_ids[email] = _submitted_attempt(session, invite, seeds, answers)
        _, url = invites.create(session, org_id=org_id, assessment_id=assessment.id,
                                email_addr="cand@example.com", name="Casey Candidate", days=7,
                                base_url=live.settings.base_url,
                                secret_key=live.settings.secret_key, actor=actor)
        assessment_id = assessment.id
    for attempt_id in attempt_ids.values():
        with live.transaction() as session:
            snap = grading.attempt_snapshot(session, attempt_id)
        report = fn(snap)  # no transaction open while the sandbox runs
        with live.transaction() as session:
            grading.store_graded(session, attempt_id, report)
    return Cohort(assessment_id, attempt_ids, url)


def _submitted_attempt(session: object, invite: Invite, seeds: dict[str, int],
                       answers: dict[str, dict[str, object]]) -> int:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    started = utcnow() - timedelta(minutes=95)
    attempt = Attempt(org_id=invite.org_id, invite_id=invite.id,
                      assessment_id=invite.assessment_id, candidate_id=invite.candidate_id,
                      status=AttemptStatus.submitted, started_at=started,
                      deadline=started + timedelta(hours=3),
                      submitted_at=started + timedelta(minutes=92), seeds=seeds)
    session.add(attempt)
    session.flush()
    for sid, content in answers.items():
        session.add(Answer(attempt_id=attempt.id, scenario_id=sid, version=1, content=content))
    session.flush()
    return attempt.id
