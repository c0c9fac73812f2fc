"""SQL rows (SQLAlchemy 2), one module per area; Alembic sees every table through `Base`."""

from tutormesh.core.models import assessment as assessment  # registers the assessment tables
from tutormesh.core.models.accounts import LifecycleEvent, User
from tutormesh.core.models.base import Base, utcnow
from tutormesh.core.models.learning import (
    Attempt,
    CurriculumPlan,
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

__all__ = [
    "Attempt",
    "Base",
    "CostAlert",
    "CurriculumPlan",
    "Escalation",
    "Grade",
    "ItemTemplateRow",
    "LedgerEntry",
    "LifecycleEvent",
    "LearningSession",
    "LlmBudget",
    "Mastery",
    "Negotiation",
    "NegotiationMessageRow",
    "PrivacyAudit",
    "Profile",
    "Skill",
    "Student",
    "Subject",
    "ThreadMessage",
    "User",
    "utcnow",
]
