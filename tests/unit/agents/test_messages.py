"""The message catalog: every key in every language, with the same placeholders."""

from __future__ import annotations

import pytest

from tutormesh.agents.messages import LANGUAGES, catalog, placeholders, say


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_english_message_is_translated_with_the_same_placeholders(language: str) -> None:
    english, other = catalog("en"), catalog(language)
    assert set(other) == set(english)
    for key, text in english.items():
        assert placeholders(other[key]) == placeholders(text), key
        assert other[key].strip(), key


def test_say_fills_slots_and_falls_back_to_english() -> None:
    assert say("hint", "es", n=2, hint="Resta 4.") == "Pista 2: Resta 4."
    assert say("hint", "fr", n=1, hint="x") == "Hint 1: x"


def test_every_message_key_the_agents_use_exists() -> None:
    import re
    from pathlib import Path

    import tutormesh.agents as agents

    used = set()
    for path in Path(agents.__file__).parent.glob("*.py"):
        used |= set(re.findall(r"say\(\s*\"([a-z_]+)\"", path.read_text(encoding="utf-8")))
        used |= {f"pace_{p}" for p in ("slow", "moderate", "fast")}
        used |= set(re.findall(r"\"(ai_[a-z]+)\"", path.read_text(encoding="utf-8")))
    assert used and used <= set(catalog("en"))


@pytest.mark.parametrize("language", ["es", "hi"])
def test_a_committed_plan_is_told_in_the_students_language(language: str) -> None:
    from tutormesh.agents.sme import SUPPORT_MESSAGE
    from tutormesh.agents.student import describe_negotiation
    from tutormesh.tools.curriculum import load_curriculum

    plan = {"pace": "slow", "adjustments": list(SUPPORT_MESSAGE)}
    text = describe_negotiation({"status": "committed", "subject": "math", "messages": [{"plan": plan}]}, language)
    assert load_curriculum(language).subjects["math"].title in text and " math " not in text
    for english in SUPPORT_MESSAGE:  # the protocol's English strings never reach the student
        assert english not in text
    assert all(say(key, language) in text for key in SUPPORT_MESSAGE.values())
