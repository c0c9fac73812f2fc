"""Load the shipped curriculum YAML (plus published content), look topics and items up, route free text."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from tutormesh.core.settings import get_settings
from tutormesh.tools.curriculum import culture, overlay, translations
from tutormesh.tools.curriculum.models import VARIANTS, Item, ItemTemplate, Lesson, Subject, Topic, WorkedExample

CURRICULUM_DIR = Path(__file__).resolve().parents[2] / "data" / "curriculum"
log = logging.getLogger(__name__)


class CurriculumError(ValueError):
    """A curriculum file is missing or malformed."""


class Curriculum:
    """All subjects in one language and cultural context, with lookups by topic, template and item."""

    def __init__(self, subjects: dict[str, Subject], language: str = translations.SOURCE_LANGUAGE,
                 culture_slug: str | None = None) -> None:
        """Index the subjects; topic slugs must be unique across subjects."""
        self.subjects = subjects
        self.language = language
        self.culture = culture_slug or culture.resolve(None, language)
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
        """Rebuild an item from its id, e.g. ``"math.two-step-equations.d3.A.17"``, in this context."""
        parts = item_id.rsplit(".", 2)
        if len(parts) != 3 or parts[1] not in VARIANTS or not re.fullmatch(r"-?\d+", parts[2]):
            raise ValueError(f"malformed item id {item_id!r}; expected <template id>.<A|B>.<seed>")
        template_id, variant, seed = parts
        return self.template(template_id).instantiate(int(seed), variant, self.culture)  # type: ignore[arg-type]

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


def load_subject(path: str | Path, language: str = translations.SOURCE_LANGUAGE) -> Subject:
    """Load and validate one subject file, in `language`; errors name the file and the failing field.

    The English file is the source: a translation replaces its student-facing strings and nothing
    else, so items draw the same numbers and grade against the same answers in every language.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CurriculumError(f"{path}: cannot read curriculum: {exc}") from None
    where = path
    if isinstance(raw, dict):
        raw = {**raw, "language": language}
    if language != translations.SOURCE_LANGUAGE and isinstance(raw, dict):
        try:
            raw = translations.apply(raw, translations.read_translation(path, language))
        except translations.TranslationError as exc:
            raise CurriculumError(str(exc)) from None
        where = translations.translation_path(path, language)
    try:
        return Subject.model_validate(raw)
    except ValidationError as exc:
        raise CurriculumError(f"{where}: invalid curriculum:\n{exc}") from None


def load_curriculum(language: str = translations.SOURCE_LANGUAGE, directory: str | Path | None = None,
                    culture_slug: str | None = None, *, published: bool = True) -> Curriculum:
    """Load every ``*.yaml`` subject in the curriculum directory (the shipped one by default).

    With the shipped directory, topics published from decks (`overlay`, under the data dir) join
    their subjects. Loaded once per language, directory, context and published set, however the
    arguments are spelt; a publish in any process is seen at the next call (one `stat`).

    Args:
        language: "en", "hi" or "es"; the same curriculum with its student-facing text translated.
        directory: Another curriculum directory (tests).
        culture_slug: The cultural context lessons and items are filled from ("india", "us",
            "latam", "europe"; `culture.resolve` turns a profile into one); None: the language's default.
        published: False: the shipped curriculum only (its vector index is built from that).

    Raises:
        CurriculumError: if the language or context is unknown or a file is missing or malformed.
    """
    try:
        translations.check_language(language)
        slug = culture.get(culture_slug or culture.resolve(None, language)).slug
    except (translations.TranslationError, culture.CultureError) as exc:
        raise CurriculumError(str(exc)) from None
    if directory is not None:
        return _load_in(language, Path(directory), slug, None)
    return _load_in(language, CURRICULUM_DIR, slug, overlay.stamp(get_settings().data_dir) if published else None)


@lru_cache
def _load_in(language: str, folder: Path, slug: str, published: tuple[str, int, int] | None) -> Curriculum:
    loaded = _load(language, folder)
    if published is not None:
        try:
            merged = overlay.merge(loaded, overlay.read(Path(published[0])))
            Curriculum(merged, language)  # topic slugs unique across subjects
            loaded = merged
        except ValueError as exc:  # publish checks this first; a hand-edited folder must not stop the app
            log.error("published content ignored: %s", str(exc).splitlines()[0])
    subjects = {name: _in_culture(subject, slug) for name, subject in loaded.items()}
    return Curriculum(subjects, language, slug)


def _in_culture(subject: Subject, slug: str) -> Subject:
    """The subject with its lessons' culture slots filled (items fill theirs when built)."""
    context = culture.get(slug)
    topics = []
    for topic in subject.topics:
        values = context.slots(f"{subject.slug}.{topic.slug}", subject.language)
        lesson, example = topic.lesson, topic.lesson.worked_example
        filled = Lesson(
            title=culture.fill(lesson.title, values),
            explanation=culture.fill(lesson.explanation, values),
            worked_example=WorkedExample(problem=culture.fill(example.problem, values),
                                         steps=[culture.fill(step, values) for step in example.steps],
                                         answer=example.answer),
            visual_example=culture.fill(lesson.visual_example, values),
            alternative=None if lesson.alternative is None else culture.fill(lesson.alternative, values),
        )
        topics.append(topic.model_copy(update={"lesson": filled}))
    return subject.model_copy(update={"topics": topics})


@lru_cache
def _load(language: str, folder: Path) -> dict[str, Subject]:
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise CurriculumError(f"{folder}: no curriculum files")
    subjects: dict[str, Subject] = {}
    for path in files:
        subject = load_subject(path, language)
        if subject.slug in subjects:
            raise CurriculumError(f"{path}: subject {subject.slug!r} is defined twice")
        subjects[subject.slug] = subject
    Curriculum(subjects, language)  # topic slugs must be unique across subjects
    return subjects


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
