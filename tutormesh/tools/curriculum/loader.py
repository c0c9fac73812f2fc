"""Load the shipped curriculum YAML, look topics and items up, and route free text to topics."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from tutormesh.tools.curriculum.models import VARIANTS, Item, ItemTemplate, Subject, Topic

CURRICULUM_DIR = Path(__file__).resolve().parents[2] / "data" / "curriculum"


class CurriculumError(ValueError):
    """A curriculum file is missing or malformed."""


class Curriculum:
    """All subjects, with lookups by topic slug, template id and item id."""

    def __init__(self, subjects: dict[str, Subject]) -> None:
        """Index the subjects; topic slugs must be unique across subjects."""
        self.subjects = subjects
        self._topics: dict[str, Topic] = {}
        for subject in subjects.values():
            for topic in subject.topics:
                if topic.slug in self._topics:
                    raise CurriculumError(f"topic slug {topic.slug!r} appears in two subjects")
                self._topics[topic.slug] = topic
        self._keywords = {slug: _keyword_phrases(t) for slug, t in self._topics.items()}

    def topics(self) -> Iterator[Topic]:
        """Yield every topic, subject by subject, in teaching order."""
        return iter(self._topics.values())

    def topic(self, slug: str) -> Topic:
        """Return a topic by slug (``"two-step-equations"`` or ``"math.two-step-equations"``)."""
        key = slug.split(".", 1)[1] if "." in slug else slug
        if key not in self._topics:
            raise ValueError(f"unknown topic {slug!r}; known: {', '.join(self._topics)}")
        return self._topics[key]

    def template(self, template_id: str) -> ItemTemplate:
        """Return a template by id, e.g. ``"math.two-step-equations.d3"``."""
        match = re.fullmatch(r"([a-z0-9-]+)\.([a-z0-9-]+)\.d(\d+)", template_id)
        if not match:
            raise ValueError(f"malformed template id {template_id!r}; expected subject.topic.dN")
        subject, topic_slug, difficulty = match.groups()
        topic = self.topic(topic_slug)
        if topic.subject != subject:
            raise ValueError(f"topic {topic_slug!r} belongs to {topic.subject!r}, not {subject!r}")
        return topic.template(int(difficulty))

    def item(self, item_id: str) -> Item:
        """Rebuild an item from its id, e.g. ``"math.two-step-equations.d3.A.17"``."""
        parts = item_id.rsplit(".", 2)
        if len(parts) != 3 or parts[1] not in VARIANTS or not re.fullmatch(r"-?\d+", parts[2]):
            raise ValueError(f"malformed item id {item_id!r}; expected <template id>.<A|B>.<seed>")
        template_id, variant, seed = parts
        return self.template(template_id).instantiate(int(seed), variant)  # type: ignore[arg-type]

    def route(self, text: str, subject: str | None = None) -> list[Topic]:
        """Return topics that match free text, best first; [] when nothing matches.

        A keyword phrase scores by its length when its stemmed words appear together, and half
        that when they appear apart; ties go to the topic taught earlier.
        """
        words = _stems(text)
        joined = f" {' '.join(words)} "
        present = set(words)
        scored: list[tuple[float, int, Topic]] = []
        for order, (slug, phrases) in enumerate(self._keywords.items()):
            topic = self._topics[slug]
            if subject is not None and topic.subject != subject:
                continue
            score = 0.0
            for phrase in phrases:
                if f" {' '.join(phrase)} " in joined:
                    score += len(phrase) ** 2
                elif len(phrase) > 1 and set(phrase) <= present:
                    score += len(phrase) ** 2 / 2
            if score:
                scored.append((-score, order, topic))
        return [topic for _, _, topic in sorted(scored, key=lambda s: (s[0], s[1]))]


def load_subject(path: str | Path) -> Subject:
    """Load and validate one subject file; errors name the file and the failing field."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CurriculumError(f"{path}: cannot read curriculum: {exc}") from None
    try:
        return Subject.model_validate(raw)
    except ValidationError as exc:
        raise CurriculumError(f"{path}: invalid curriculum:\n{exc}") from None


@lru_cache
def load_curriculum(directory: str | Path | None = None, language: str = "en") -> Curriculum:
    """Load every ``*.yaml`` subject in the curriculum directory (the shipped one by default).

    ``language`` (en, hi, es) selects the student-facing text; until the translations land every
    language returns the English text.
    """
    if language not in ("en", "hi", "es"):
        raise CurriculumError(f"unknown curriculum language {language!r}; expected en, hi or es")
    folder = Path(directory) if directory is not None else CURRICULUM_DIR
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise CurriculumError(f"{folder}: no curriculum files")
    subjects: dict[str, Subject] = {}
    for path in files:
        subject = load_subject(path)
        if subject.slug in subjects:
            raise CurriculumError(f"{path}: subject {subject.slug!r} is defined twice")
        subjects[subject.slug] = subject
    return Curriculum(subjects)


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 4 and word.endswith("ed"):
        word = word[:-2]
    elif len(word) > 4 and word.endswith(("xes", "ches", "shes")):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def _stems(text: str) -> list[str]:
    return [_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower())]


def _keyword_phrases(topic: Topic) -> list[tuple[str, ...]]:
    phrases = {tuple(_stems(k)) for k in [*topic.keywords, topic.title]}
    return sorted(p for p in phrases if p)
