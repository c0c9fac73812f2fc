"""Cultural context: items show the student's currency and names, the same ones for the same item id."""

from __future__ import annotations

from tutormesh.tools.curriculum import load_curriculum
from tutormesh.tools.curriculum.culture import resolve

GYM = "math.two-step-equations"  # variant B: "A gym charges {money(b)} ... {person} paid {money(c)}"


def _money_item_id() -> str:
    topic = load_curriculum().topic(GYM)
    template = next(t for t in topic.templates if "money(" in t.variants["B"])
    return f"{template.id}.B.7"


def test_default_context_follows_the_language() -> None:
    assert resolve("", "hi") == "india" and resolve("", "es") == "latam" and resolve("", "en") == "us"
    assert resolve("Mexico", "en") == "latam" and resolve("IN", "es") == "india"


def test_items_show_the_contexts_currency_and_keep_their_answer() -> None:
    item_id = _money_item_id()
    hindi = load_curriculum("hi").item(item_id)
    india_en = load_curriculum("en", culture_slug="india").item(item_id)
    us = load_curriculum("en").item(item_id)
    latam = load_curriculum("es").item(item_id)
    assert "₹" in hindi.prompt and "₹" in india_en.prompt and "$" not in india_en.prompt
    assert "MX$" in latam.prompt and "$" in us.prompt and "₹" not in us.prompt
    assert hindi.answer == india_en.answer == us.answer == latam.answer


def test_the_same_item_id_always_shows_the_same_names() -> None:
    item_id = _money_item_id()
    first = load_curriculum("en", culture_slug="india").item(item_id).prompt
    assert load_curriculum("en", culture_slug="india").item(item_id).prompt == first


def test_latam_places_match_its_currency() -> None:
    # Amounts are Mexican pesos (MX$), so the cities are Mexican: "a taxi in Bogotá charges MX$8" mixed countries.
    curriculum = load_curriculum("es")
    mexican = ("Ciudad de México", "Guadalajara", "Monterrey", "Puebla", "Oaxaca")
    with_city = [(t, v) for topic in curriculum.topics() for t in topic.templates
                 for v, text in t.variants.items() if "{city}" in text]
    assert with_city
    prompts = [curriculum.item(f"{t.id}.{v}.{seed}").prompt for t, v in with_city[:6] for seed in range(12)]
    assert all(any(city in p for city in mexican) for p in prompts if "MX$" in p), prompts
    assert not any(city in p for p in prompts for city in ("Bogotá", "Lima", "Buenos Aires"))
