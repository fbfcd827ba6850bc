"""Invites: one link per candidate per assessment; only the token's hash is stored."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from server.audit.service import Actor, record
from server.email import service as email
from server.invites import repository as repo
from server.invites.errors import (
    AssessmentArchived,
    InvalidCsv,
    InviteClosed,
    InviteExists,
)
from server.invites.schemas import Invite as InviteOut
from server.kit.security import new_token, token_hash
from server.models import (
    Assessment,
    AssessmentStatus,
    Attempt,
    AttemptStatus,
    Candidate,
    Invite,
    Organization,
    ScoreReport,
    utcnow,
)

MAX_CSV_ROWS = 1000
_email = TypeAdapter(EmailStr)


def invite_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/i/{token}"


def status_of(invite: Invite, attempt: Attempt | None, graded: bool) -> str:
    if invite.revoked_at is not None:
        return "revoked"
    if attempt is not None:
        if graded or attempt.status == AttemptStatus.graded:
            return "graded"
        if attempt.status == AttemptStatus.submitted:
            return "submitted"
        return "started"
    if invite.expires_at <= utcnow():
        return "expired"
    return "opened" if invite.opened_at else "invited"


def _message(org: Organization, assessment: Assessment, url: str, expires: str,
             *, reminder: bool = False) -> tuple[str, str]:
    brand = org.settings.get("branding_name") or org.name
    subject = (f"Reminder: your {brand} assessment expires soon" if reminder
               else f"{brand} invites you to an assessment: {assessment.title}")
    body = (
        f"Hello,\n\n{brand} invites you to take the assessment \"{assessment.title}\" "
        f"({assessment.time_limit_min} minutes once you start).\n\n"
        f"Open your personal link to read the rules and start when you are ready:\n{url}\n\n"
        f"The link works until {expires} UTC. Do not share it: it is yours alone.\n"
    )
    return subject, body


def _send(session: Session, invite: Invite, assessment: Assessment, base_url: str,
          secret_key: bytes, *, email_to: str, reminder: bool = False) -> str:
    """Give the invite a fresh token (stored as its hash under the instance secret), queue
    the e-mail, return the link."""
    token = new_token()
    invite.token_hash = token_hash(secret_key, token)
    url = invite_url(base_url, token)
    org = repo.organization(session, invite.org_id)
    subject, body = _message(org, assessment, url, invite.expires_at.strftime("%Y-%m-%d %H:%M"),
                             reminder=reminder)
    email.queue(session, org_id=invite.org_id, to=email_to, subject=subject, body=body,
                kind="invite_reminder" if reminder else "invite",
                sender=org.settings.get("email_from") or None)
    invite.sent_count += 1
    invite.last_sent_at = utcnow()
    return url


def _candidate(session: Session, org_id: int, email_addr: str, name: str) -> Candidate:
    found = repo.candidate_by_email(session, org_id, email_addr)
    if found is None:
        found = Candidate(org_id=org_id, email=email_addr, name=name)
        repo.add(session, found)
    elif name and not found.name:
        found.name = name
    return found


def _live_invite_exists(session: Session, assessment_id: int, candidate_id: int) -> bool:
    return repo.live_invite_exists(session, assessment_id, candidate_id, utcnow())


def _usable_assessment(session: Session, org_id: int, assessment_id: int) -> Assessment:
    assessment = repo.assessment_in_org(session, org_id, assessment_id)
    if assessment.status == AssessmentStatus.archived:
        raise AssessmentArchived("this assessment is archived; restore it before inviting "
                                 "candidates")
    return assessment


def create(session: Session, *, org_id: int, assessment_id: int, email_addr: str, name: str,
           days: int, base_url: str, secret_key: bytes, actor: Actor) -> tuple[Invite, str]:
    assessment = _usable_assessment(session, org_id, assessment_id)
    email_addr = email_addr.lower()
    candidate = _candidate(session, org_id, email_addr, name)
    if _live_invite_exists(session, assessment.id, candidate.id):
        raise InviteExists(f"{email_addr} already has a live invite to this assessment; "
                           "resend or extend it instead")
    invite = Invite(org_id=org_id, assessment_id=assessment.id, candidate_id=candidate.id,
                    token_hash="", expires_at=utcnow() + timedelta(days=days),
                    created_by=actor.user_id)
    # Added before _send: its e-mail's flush inserts the invite with its token hash.
    repo.add_unflushed(session, invite)
    url = _send(session, invite, assessment, base_url, secret_key, email_to=email_addr)
    session.flush()
    record(session, actor, "invite.create", "invite", invite.id, org_id=org_id,
           data={"email": email_addr, "assessment_id": assessment.id})
    return invite, url


def import_csv(session: Session, *, org_id: int, assessment_id: int, data: bytes, days: int,
               base_url: str, secret_key: bytes, actor: Actor) -> list[tuple[Invite, str]]:
    """All rows or none: any bad row refuses the whole file, with every row's error."""
    _usable_assessment(session, org_id, assessment_id)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidCsv("the file is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text))
    try:  # a bare CR inside a field is a csv.Error, raised while reading
        records = list(reader)
    except csv.Error as exc:
        raise InvalidCsv(f"the file is not valid CSV: {exc}") from None
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "email" not in headers:
        raise InvalidCsv("the first row must be a header with an 'email' column (and "
                         "optionally 'name')")
    rows: list[tuple[str, str]] = []
    errors: list[dict[str, object]] = []
    seen: set[str] = set()
    for line, raw in enumerate(records, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()
               if isinstance(v, str)}
        if not any(row.values()):
            continue
        if len(rows) + len(errors) >= MAX_CSV_ROWS:
            raise InvalidCsv(f"at most {MAX_CSV_ROWS} rows per file")
        try:
            addr = str(_email.validate_python(row.get("email", ""))).lower()
        except ValidationError:
            errors.append({"row": line, "error": f"not an e-mail address: {row.get('email')!r}"})
            continue
        if addr in seen:
            errors.append({"row": line, "error": f"{addr} appears twice in the file"})
            continue
        seen.add(addr)
        existing = repo.candidate_by_email(session, org_id, addr)
        if existing and _live_invite_exists(session, assessment_id, existing.id):
            errors.append({"row": line, "error": f"{addr} already has a live invite"})
            continue
        rows.append((addr, row.get("name", "")[:200]))
    if errors:
        raise InvalidCsv(f"{len(errors)} row(s) have errors; nothing was imported",
                         extra={"rows": errors})
    if not rows:
        raise InvalidCsv("the file has no rows")
    return [create(session, org_id=org_id, assessment_id=assessment_id, email_addr=a, name=n,
                   days=days, base_url=base_url, secret_key=secret_key, actor=actor)
            for a, n in rows]


def get(session: Session, org_id: int, invite_id: int) -> Invite:
    return repo.invite_in_org(session, org_id, invite_id)


def resend(session: Session, *, org_id: int, invite_id: int, base_url: str,
           secret_key: bytes, actor: Actor) -> tuple[Invite, str]:
    invite = get(session, org_id, invite_id)
    if invite.revoked_at is not None:
        raise InviteClosed("this invite was revoked")
    if invite.expires_at <= utcnow():
        raise InviteClosed("this invite has expired; extend it first")
    assessment = repo.assessment(session, invite.assessment_id)
    candidate = repo.candidate(session, invite.candidate_id)
    url = _send(session, invite, assessment, base_url, secret_key, email_to=candidate.email)
    record(session, actor, "invite.resend", "invite", invite.id, org_id=org_id)
    return invite, url


def extend(session: Session, *, org_id: int, invite_id: int, days: int, actor: Actor) -> Invite:
    invite = get(session, org_id, invite_id)
    if invite.revoked_at is not None:
        raise InviteClosed("this invite was revoked")
    invite.expires_at = max(invite.expires_at, utcnow()) + timedelta(days=days)
    invite.reminded_at = None
    record(session, actor, "invite.extend", "invite", invite.id, org_id=org_id,
           data={"days": days, "expires_at": invite.expires_at.isoformat()})
    return invite


def revoke(session: Session, *, org_id: int, invite_id: int, actor: Actor) -> Invite:
    invite = get(session, org_id, invite_id)
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
        repo.delete_candidate_sessions(session, invite.id)
        record(session, actor, "invite.revoke", "invite", invite.id, org_id=org_id)
    return invite


def send_reminders(session: Session, *, base_url: str, secret_key: bytes,
                   within_h: int = 24) -> int:
    """Remind candidates who have not started, once, when their link expires within a day."""
    now = utcnow()
    count = 0
    for invite in repo.due_for_reminder(session, now, now + timedelta(hours=within_h)):
        assessment = repo.assessment(session, invite.assessment_id)
        candidate = repo.candidate(session, invite.candidate_id)
        _send(session, invite, assessment, base_url, secret_key, email_to=candidate.email,
              reminder=True)
        invite.reminded_at = now
        count += 1
    return count


def pipeline(session: Session, org_id: int, *, assessment_id: int | None = None,
             status: str | None = None) -> list[InviteOut]:
    out = []
    for invite, candidate, attempt, report in repo.pipeline_rows(session, org_id, assessment_id):
        row = to_out(invite, candidate, attempt, report)
        if status is None or row.status == status:
            out.append(row)
    return out


def to_out(invite: Invite, candidate: Candidate, attempt: Attempt | None,
           report: ScoreReport | None) -> InviteOut:
    return InviteOut(
        id=invite.id, assessment_id=invite.assessment_id, candidate_email=candidate.email,
        candidate_name=candidate.name, status=status_of(invite, attempt, report is not None),
        created_at=invite.created_at, expires_at=invite.expires_at, opened_at=invite.opened_at,
        started_at=attempt.started_at if attempt else None,
        submitted_at=attempt.submitted_at if attempt else None,
        score=report.score if report else None, sent_count=invite.sent_count,
        attempt_id=attempt.id if attempt else None,
    )


def describe(session: Session, invite: Invite) -> InviteOut:
    candidate = repo.candidate(session, invite.candidate_id)
    attempt = repo.attempt_of(session, invite.id)
    report = None if attempt is None else repo.current_report(session, attempt.id)
    return to_out(invite, candidate, attempt, report)
