"""SQL rows (SQLAlchemy 2), one module per area; Alembic sees every table through `Base`."""

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

__all__ = [
    "Attempt",
    "Base",
    "CurriculumPlan",
    "Escalation",
    "Grade",
    "ItemTemplateRow",
    "LearningSession",
    "Mastery",
    "Negotiation",
    "NegotiationMessageRow",
    "Profile",
    "Skill",
    "Student",
    "Subject",
    "ThreadMessage",
    "utcnow",
]
