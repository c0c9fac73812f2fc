"""Curriculum: subjects, topics, lessons and seeded practice items, loaded from shipped YAML."""

from tutormesh.tools.curriculum.expr import ExprError
from tutormesh.tools.curriculum.loader import Curriculum, CurriculumError, load_curriculum, load_subject
from tutormesh.tools.curriculum.models import (
    BKTParams,
    Item,
    ItemTemplate,
    Lesson,
    Misconception,
    Subject,
    TemplateError,
    Topic,
    WorkedExample,
    numbered,
)

__all__ = [
    "BKTParams",
    "Curriculum",
    "CurriculumError",
    "ExprError",
    "Item",
    "ItemTemplate",
    "Lesson",
    "Misconception",
    "Subject",
    "TemplateError",
    "Topic",
    "WorkedExample",
    "load_curriculum",
    "numbered",
    "load_subject",
]
