"""Every table, imported here so metadata is complete for Alembic and create_all."""

from server.models.answer import Answer, AnswerRevision
from server.models.assessment import Assessment, AssessmentScenario, AssessmentStatus
from server.models.attempt import Attempt, AttemptStatus
from server.models.audit_event import AuditEvent
from server.models.base import Base, utcnow
from server.models.candidate import Candidate
from server.models.candidate_session import CandidateSession
from server.models.cell_run import CellRun
from server.models.email_outbox import EmailOutbox
from server.models.grading_job import GradingJob, JobState
from server.models.integrity_signal import IntegritySignal
from server.models.invite import Invite
from server.models.login_failure import LoginFailure
from server.models.manual_grade import ManualGrade
from server.models.organization import Organization
from server.models.score_report import ScoreReport
from server.models.staff_session import StaffSession
from server.models.user import Role, User

__all__ = [
    "Answer", "AnswerRevision", "Assessment", "AssessmentScenario", "AssessmentStatus",
    "Attempt", "AttemptStatus", "AuditEvent", "Base", "Candidate", "CandidateSession", "CellRun", "EmailOutbox",
    "GradingJob", "IntegritySignal", "Invite", "JobState", "LoginFailure", "ManualGrade",
    "Organization", "Role", "ScoreReport", "StaffSession", "User", "utcnow",
]
