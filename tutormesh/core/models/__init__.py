"""SQL rows (SQLAlchemy 2), one module per area; Alembic sees every table through `Base`."""

from tutormesh.core.models import assessment as assessment  # registers the assessment tables
from tutormesh.core.models.accounts import LifecycleEvent, LoginFailure, TurnRecord, User
from tutormesh.core.models.base import Base, utcnow
from tutormesh.core.models.content import ContentVersion, IngestJob
from tutormesh.core.models.learning import (
    AdaptationRow,
    Attempt,
    CurriculumPlan,
    Engagement,
    Escalation,
    Grade,
    ItemTemplateRow,
    LearningSession,
    Mastery,
    Negotiation,
    NegotiationMessageRow,
    Profile,
    Skill,
    Student,
    Subject,
    ThreadMessage,
)
from tutormesh.core.models.ledger import CostAlert, LedgerEntry, LlmBudget
from tutormesh.core.models.privacy import PrivacyAudit
from tutormesh.core.models.reflection import ReflectionRow
from tutormesh.core.models.staff import AuditEntry, StaffProfile

__all__ = [
    "AdaptationRow",
    "Attempt",
    "AuditEntry",
    "Base",
    "ContentVersion",
    "CostAlert",
    "CurriculumPlan",
    "Engagement",
    "Escalation",
    "Grade",
    "IngestJob",
    "ItemTemplateRow",
    "LedgerEntry",
    "LifecycleEvent",
    "LoginFailure",
    "LearningSession",
    "LlmBudget",
    "Mastery",
    "Negotiation",
    "NegotiationMessageRow",
    "PrivacyAudit",
    "Profile",
    "ReflectionRow",
    "Skill",
    "StaffProfile",
    "Student",
    "Subject",
    "ThreadMessage",
    "TurnRecord",
    "User",
    "utcnow",
]
