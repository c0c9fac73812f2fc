"""The prompt registry: every version renders with its declared variables; runs pick versions and overrides."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tutormesh import prompts

ALL_VERSIONS = [(name, v) for name in prompts.names() for v in prompts.versions(name)]


def test_every_prompt_the_code_sends_is_registered() -> None:
    assert {"explainer/system", "explainer/user", "explainer/retry", "guards/judge", "guards/judge_input",
            "rubric/judge", "rubric/judge_input"} <= set(prompts.names())


@pytest.mark.parametrize(("name", "version"), ALL_VERSIONS, ids=[f"{n}.v{v}" for n, v in ALL_VERSIONS])
def test_every_version_renders_with_exactly_its_declared_variables(name: str, version: int) -> None:
    prompt = prompts.get(name, version)
    assert prompt.placeholders <= set(prompt.variables), "a placeholder is not declared"
    assert prompt.description, "every prompt says what it is for"
    text = prompt.render(**{v: f"<{v}>" for v in prompt.variables})
    assert "{" + "}" not in text and all(f"<{v}>" in text for v in prompt.placeholders)
    for missing in prompt.variables:
        with pytest.raises(prompts.PromptError, match=f"declares \\['{missing}'\\], which the code does not pass"):
            prompt.render(**{v: "x" for v in prompt.variables if v != missing})
    assert prompt.render(**{v: "x" for v in prompt.variables}, not_used="{x}") == prompt.render(
        **{v: "x" for v in prompt.variables})  # the code may pass more than a version uses


def test_an_undeclared_placeholder_fails_at_load(prompt_copy: Path) -> None:
    path = prompt_copy / "explainer" / "system.v2.md"
    path.write_text("---\ndescription: d\nvariables:\n  context: c\n---\nUse {context} in {dialect}.\n")
    with pytest.raises(prompts.PromptError, match=r"uses \{dialect\}, not declared"):
        prompts.get("explainer/system", 2)


def test_unknown_versions_and_names_fail_clearly() -> None:
    with pytest.raises(prompts.UnknownPrompt, match=r"explainer/system has no version '99' \(versions: 1"):
        prompts.render("explainer/system", versions={"explainer/system": "99"}, language_name="English",
                       topic_title="t", context="c")
    with pytest.raises(prompts.UnknownPrompt, match="a version is a number"):
        prompts.get("explainer/system", "latest!")
    with pytest.raises(prompts.UnknownPrompt, match="agent/name"):
        prompts.get("../secrets")
    with pytest.raises(prompts.UnknownPrompt, match="no prompt named"):
        prompts.get("explainer/nothing")
    assert prompts.UnknownPrompt("x").status == 422  # bad input from a run context, never a 500


def test_each_prompt_is_versioned_on_its_own(prompt_copy: Path) -> None:
    (prompt_copy / "explainer" / "system.v2.md").write_text(
        "---\ndescription: d\nvariables: {language_name: l, topic_title: t, context: c}\n---\n"
        "Answer in {language_name} from:\n{context}\n")
    assert prompts.versions("explainer/system") == [1, 2] and prompts.versions("explainer/user") == [1]
    args = {"language_name": "Hindi", "topic_title": "T", "context": "CTX"}
    assert prompts.render("explainer/system", **args) == "Answer in Hindi from:\nCTX"  # the newest is the default
    assert "patient maths" in prompts.render("explainer/system", versions={"explainer/system": "v1"}, **args)
    assert prompts.render("explainer/user", versions={"explainer/system": "2"}, question="q").startswith(
        "<student_question>")  # user has one version: the other prompt's pin does not apply to it


def test_overrides_replace_the_text_and_are_checked(prompt_copy: Path) -> None:
    args = {"language_name": "Spanish", "topic_title": "T", "context": "CTX"}
    override = {"explainer/system": "Reply in {language_name} using {context}."}
    assert prompts.render("explainer/system", overrides=override, **args) == "Reply in Spanish using CTX."
    same = {"explainer/system": prompts.load("explainer/system")}
    assert prompts.resolve("explainer/system", overrides=same).path is not None  # the file's own text: no override
    with pytest.raises(prompts.PromptError, match=r"override: .*uses \{secret\}"):
        prompts.render("explainer/system", overrides={"explainer/system": "{secret}"}, **args)


def test_an_edited_file_is_reloaded_without_a_restart(prompt_copy: Path) -> None:
    path = prompt_copy / "explainer" / "retry.v1.md"
    first = prompts.load("explainer/retry")
    path.write_text(path.read_text().replace("was mathematically wrong", "is wrong"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a coarse clock must still see it
    assert prompts.load("explainer/retry") != first and "is wrong" in prompts.load("explainer/retry")


def test_save_writes_the_next_version_with_the_same_front_matter(prompt_copy: Path) -> None:
    text = prompts.load("explainer/system") + "\nEnd with one question that checks understanding."
    saved = prompts.save("explainer/system", text)
    assert saved.version == 2 and saved.variables == prompts.get("explainer/system", 1).variables
    assert (prompt_copy / "explainer" / "system.v2.md").read_text().startswith("---\ndescription:")
    assert "+End with one question" in prompts.diff("explainer/system", 1, 2)
    with pytest.raises(prompts.PromptError, match="nothing saved"):
        prompts.save("explainer/system", text)
    with pytest.raises(prompts.PromptError, match="not declared"):
        prompts.save("explainer/system", "Use {curriculum}.")
    assert prompts.versions("explainer/system") == [1, 2]


def test_fill_leaves_braces_in_values_alone() -> None:
    assert prompts.fill("Q: {question} {unknown}", question="{x}") == "Q: {x} {unknown}"


def test_a_studio_field_shows_the_current_text_and_is_no_override_until_edited(prompt_copy: Path) -> None:
    from dataclasses import dataclass

    from langgraph.graph import END, START, StateGraph
    from typing_extensions import TypedDict

    @dataclass(kw_only=True)
    class Context:
        explainer_system: str = prompts.field_for("explainer/system")

    class State(TypedDict):
        x: int

    builder = StateGraph(State, context_schema=Context)
    builder.add_node("a", lambda s: {"x": 1})
    builder.add_edge(START, "a")
    builder.add_edge("a", END)
    schema = builder.compile().get_context_jsonschema()["properties"]["explainer_system"]
    assert schema["default"] == prompts.load("explainer/system") and "{context}" in schema["description"]
    (prompt_copy / "explainer" / "system.v2.md").write_text(
        "---\ndescription: d\nvariables: {language_name: l, topic_title: t, context: c}\n---\nv2 {context}\n")
    prefilled = {"explainer/system": prompts.load("explainer/system")}  # what Studio sends back unedited
    pinned = prompts.resolve("explainer/system", {"explainer/system": "1"}, prefilled)
    assert pinned.version == 1 and pinned.path is not None  # the pin wins over the pre-filled default text


def test_the_student_context_carries_each_prompt_text_and_an_edit_reaches_the_model() -> None:
    from tutormesh.agents import explainer
    from tutormesh.graphs.student.context import StudentContext
    from tutormesh.tools.curriculum import load_curriculum

    topic = load_curriculum().topic("two-step-equations")
    unedited = StudentContext()
    assert unedited.explainer_system == prompts.load("explainer/system")
    assert prompts.resolve("explainer/system", overrides=prompts.overrides_of(unedited)).path is not None
    edited = StudentContext(explainer_system="Reply in {language_name} from: {context}")
    system, _ = explainer.build_messages("q", topic, "es", ["P1"], edited)
    assert system.content == "Reply in Spanish from: P1"
    explicit = StudentContext(explainer_system="A {context}", prompt_overrides={"explainer/system": "B {context}"})
    assert explainer.build_messages("q", topic, "en", ["P"], explicit)[0].content == "B P"  # the dict wins
    with pytest.raises(prompts.UnknownPrompt, match="has no version '9'"):
        explainer.build_messages("q", topic, "en", ["P"], StudentContext(prompt_versions={"explainer/system": "9"}))
