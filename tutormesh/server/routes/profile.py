"""The settings a student can change, and session reflections (the student's own; a teacher's cohort)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, field_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from tutormesh.agents import messages
from tutormesh.agents.reflection import reflections
from tutormesh.agents.sme import SUPPORT_MESSAGE
from tutormesh.core.errors import Forbidden, NotFound
from tutormesh.server.deps import CurrentUser, Principal, Services, ServicesDep
from tutormesh.server.staff import Teaching, audit, scope_of
from tutormesh.server.thread_service import curriculum_titles, session_history
from tutormesh.tools.curriculum import load_curriculum
from tutormesh.tools.curriculum.culture import cultures
from tutormesh.tools.learner_model import CONTENT_TYPES

router = APIRouter(tags=["profile"])
UserId = Annotated[str, Path(pattern=r"^[a-f0-9]{32}$", description="the student's user id")]
Language = Literal["en", "hi", "es"]
# The shipped contexts (data/culture/); a new file there needs its slug added here and to docs/i18n.md.
CulturalContext = Literal["india", "us", "latam", "europe"]
Style = Literal["text", "visual", "worked_example", "recap"]
MAX_GOALS = 20
SHOWN = 20


@lru_cache(maxsize=1)
def _skills() -> dict[str, str]:
    return {t.skill: t.title for t in load_curriculum().topics()}


class _SkillSlugs:
    """Lists the curriculum's skill slugs in the schema (read when the schema is made)."""

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {**handler(schema), "enum": sorted(_skills())}


Skill = Annotated[str, _SkillSlugs()]


class Choice(BaseModel):
    """One value a setting may take, with its title."""

    value: str
    title: str


class Choices(BaseModel):
    """What each setting may be set to (the settings panel's options)."""

    language: list[Choice]
    cultural_context: list[Choice]
    goals: list[Choice] = Field(description="curriculum skills")
    style_override: list[Choice] = Field(description="content types; null means: learn it from my answers")


class SkillHistory(BaseModel):
    """One skill practised in the window."""

    skill: str
    title: str
    answers: int
    right: int
    accuracy: float | None
    time_on_task_s: float
    hints_used: int
    last_practised: str


class SessionSummary(BaseModel):
    """One session in the window: its answers, and its reflection (null: still open)."""

    started_at: str
    ended_at: str
    open: bool = Field(description="no reflection yet (the session has not ended)")
    answers: int
    right: int
    accuracy: float | None
    time_on_task_s: float
    hints_used: int
    skills: list[dict[str, str]]
    reflection: str | None


class SessionHistory(BaseModel):
    """The last `days` days of sessions: skills practised, accuracy, time on task, reflections, reviews due."""

    days: int
    since: str
    sessions: int
    answers: int
    right: int
    accuracy: float | None = Field(description="right / answers (null: no answers)")
    time_on_task_s: float
    hints_used: int
    skills: list[SkillHistory] = Field(description="most recently practised first")
    recent_sessions: list[SessionSummary] = Field(description="newest first")
    reflections: list[dict[str, Any]] = Field(description="newest first: created_at, trigger, summary")
    due_reviews: list[dict[str, str]] = Field(description="skills due a spaced review (the planner turns to them)")


class ProfileSettings(BaseModel):
    """The settings a student controls, and what they may be set to."""

    language: str
    cultural_context: str = Field(description="empty: the default for the language (hi: india, es: latam, en: us)")
    goals: list[str]
    style_override: str | None = Field(description="a content type that beats the learned weights; null: learned")
    pace: str = Field(description="learned from answers (read-only)")
    learning_style: dict[str, float] = Field(description="learned weight per content type (read-only)")
    strengths: list[str] = Field(description="learned from mastery (read-only)")
    weaknesses: list[str] = Field(description="learned from mastery and repeated mistakes (read-only)")
    history: SessionHistory = Field(description="the last 30 days of sessions (read-only)")
    choices: Choices


class ProfilePatch(BaseModel):
    """Change some settings; a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid")
    # Left out means unchanged (the None defaults are never validated); only style_override may be null.
    language: Language = Field(default=None, description="en, hi or es")
    cultural_context: Literal["", CulturalContext] = Field(
        default=None, description="india, us, latam or europe; empty: the default for the language")
    goals: list[Skill] = Field(default=None, max_length=MAX_GOALS, description="curriculum skill slugs")
    style_override: Style | None = Field(default=None, description="text, visual, worked_example, recap; null: learned")

    @field_validator("goals")
    @classmethod
    def _known_skills(cls, goals: list[str]) -> list[str]:
        unknown = [g for g in goals if g not in _skills()]
        if unknown:
            raise ValueError(f"unknown skill {unknown[0][:80]!r}; see choices.goals in GET /v1/me/profile")
        return list(dict.fromkeys(goals))


class ReflectionOut(BaseModel):
    """One session's reflection: what worked, what was hard, what changes next time (docs/learner-model.md)."""

    id: int
    thread_id: str
    trigger: str = Field(description="goodbye | idle")
    language: str = Field(description="the language of `summary`")
    answers: int
    right: int
    worked: list[dict[str, Any]] = Field(description='findings: {"code", ...facts}')
    struggled: list[dict[str, Any]]
    next_steps: dict[str, Any] = Field(description="first_content, first_content_because, review_skills")
    summary: str
    created_at: str | None
    applied_at: str | None = Field(description="when a later session acted on it (null: not yet)")


def _student(user: Principal) -> str:
    if user.role != "student" or user.student_id is None:
        raise Forbidden("only students have a learner profile")
    return user.student_id


def _settings(services: Services, student_id: str) -> ProfileSettings:
    services.learner.ensure_student(student_id)
    profile = services.learner.profile(student_id)
    contexts, translated = cultures(), curriculum_titles(profile["language"])
    choices = Choices(
        language=[Choice(value=v, title=t) for v, t in (("en", "English"), ("hi", "हिन्दी"), ("es", "Español"))],
        cultural_context=[Choice(value=slug, title=contexts[slug].title) for slug in CulturalContext.__args__],
        goals=[Choice(value=skill, title=translated.get(skill) or title) for skill, title in _skills().items()],
        style_override=[Choice(value=kind, title=messages.say(f"content_{kind}", profile["language"]))
                        for kind in CONTENT_TYPES])
    return ProfileSettings(language=profile["language"], cultural_context=profile["cultural_context"],
                           goals=profile["goals"], style_override=profile["style_override"], pace=profile["pace"],
                           learning_style=profile["learning_style"], strengths=profile.get("strengths") or [],
                           weaknesses=profile.get("weaknesses") or [],
                           history=SessionHistory.model_validate(
                               session_history(services, student_id, language=profile["language"])),
                           choices=choices)


@router.get("/me/profile", responses={403: {"description": "students only"}})
async def my_profile(user: CurrentUser, services: ServicesDep) -> ProfileSettings:
    """Your settings (language, cultural context, goals, style override) and what they may be."""
    student_id = _student(user)
    return await anyio.to_thread.run_sync(_settings, services, student_id)


@router.patch("/me/profile", responses={403: {"description": "students only"},
                                        422: {"description": "an unknown field or value, with the reason"}})
async def change_profile(body: ProfilePatch, user: CurrentUser, services: ServicesDep) -> ProfileSettings:
    """Change your settings; each change is recorded as an adaptation with its reason."""
    student_id = _student(user)
    fields = {name: getattr(body, name) for name in body.model_fields_set}

    def change() -> ProfileSettings:
        store = services.learner
        store.ensure_student(student_id)
        before = store.profile(student_id)
        changed = {k: v for k, v in fields.items() if before.get(k) != v}
        store.adapt(student_id, changed, [{"kind": name, "before": before.get(name), "after": value,
                                           "reason": f"{name}: set by the student in their settings"}
                                          for name, value in changed.items()])
        return _settings(services, student_id)

    return await anyio.to_thread.run_sync(change)


class PageText(BaseModel):
    """The chat page's own text in one language, from the catalogue the replies use (data/messages)."""

    language: str
    messages: dict[str, str] = Field(description="key -> text with {placeholders}: page_*, pace_*, no_extra_support")
    supports: dict[str, str] = Field(description="an agreed plan's support (the protocol's English) -> its text")


@router.get("/page-text/{language}")
async def page_text(language: Annotated[Language, Path(description="en, hi or es")], user: CurrentUser) -> PageText:
    """The chat page's labels and plan-change sentences in `language` (the signed-in student's, usually)."""
    return PageText(language=language, messages=messages.page_text(language),
                    supports={english: messages.say(key, language) for english, key in SUPPORT_MESSAGE.items()})


@router.get("/me/reflections", responses={403: {"description": "students only"}},
            response_model=list[ReflectionOut])
async def my_reflections(user: CurrentUser, services: ServicesDep) -> list[dict[str, Any]]:
    """Your session reflections, newest first."""
    student_id = _student(user)
    return await anyio.to_thread.run_sync(lambda: reflections(services.learner).recent(student_id, limit=SHOWN))


@router.get("/students/{user_id}/reflections", response_model=list[ReflectionOut], responses={
    403: {"description": "teachers and admins only"}, 404: {"description": "no such student in your cohorts"}})
async def student_reflections(user_id: UserId, user: Teaching, services: ServicesDep) -> list[dict[str, Any]]:
    """A student's session reflections, newest first (teachers: their cohort's students; audited)."""

    def read() -> tuple[str, list[dict[str, Any]]]:
        scope = scope_of(services, user)
        found = services.accounts.get(user_id)
        if found is None or found["role"] != "student" or found["student_id"] is None or (
                scope is not None and found["cohort"] not in scope):
            raise NotFound("student not found")
        return found["student_id"], reflections(services.learner).recent(found["student_id"], limit=SHOWN)

    student_id, rows = await anyio.to_thread.run_sync(read)
    audit(services, user, "read_reflections", student_id=student_id, target=f"user:{user_id}")
    return rows
