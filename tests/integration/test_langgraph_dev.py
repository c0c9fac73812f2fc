"""`langgraph dev` loads langgraph.json and a langgraph_sdk client drives the student graph."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_sync_client

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    data = tmp_path_factory.mktemp("studio-data")
    env = {**os.environ, "TUTORMESH_DATA_DIR": str(data), "LANGSMITH_TRACING": "false"}
    env.pop("TUTORMESH_DATABASE_URL", None)
    cli = Path(sys.executable).with_name("langgraph")
    log = open(data / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(cli), "dev", "--no-browser", "--no-reload", "--port", str(port), "--config", str(ROOT / "langgraph.json")],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"langgraph dev exited: {(data / 'server.log').read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("langgraph dev did not answer /ok within 90 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_all_five_graphs_are_served(dev_server: str) -> None:
    client = get_sync_client(url=dev_server)
    names = {a["graph_id"] for a in client.assistants.search(limit=20)}
    assert {"student", "sme", "assessment", "admin", "negotiation"} <= names


@pytest.mark.parametrize("name", ["student", "sme", "assessment", "admin", "negotiation"])
def test_studio_shows_a_context_form_with_the_prompt_fields(dev_server: str, name: str) -> None:
    client = get_sync_client(url=dev_server)
    assistant = next(a for a in client.assistants.search(graph_id=name, limit=5) if a["graph_id"] == name)
    schema = client.assistants.get_schemas(assistant["assistant_id"])["context_schema"]
    fields = schema["properties"]
    assert {"now", "language", "prompt_versions", "prompt_overrides"} <= set(fields)
    assert all(field.get("description") for field in fields.values())
    if name == "student":
        assert {"student_id", "thread_id"} <= set(fields)


def test_student_run_replies_and_three_wrong_answers_negotiate(dev_server: str) -> None:
    client = get_sync_client(url=dev_server)
    thread = client.threads.create()
    context = {"student_id": "studio-student", "thread_id": thread["thread_id"]}

    def say(text: str) -> dict:
        return client.runs.wait(thread["thread_id"], "student", input={"messages": [{"role": "user", "content": text}]},
                                context=context)

    state = say("Hi! I want to practice linear equations.")
    assert state["messages"][-1]["type"] == "ai" and state["messages"][-1]["content"]
    for _ in range(3):
        state = say("x = 12345")
    negotiation = state["negotiations"][0]
    kinds = [m["type"] for m in negotiation["messages"]]
    assert kinds[:3] == ["PROPOSE", "COUNTEROFFER", "ACCEPT"]
    assert negotiation["messages"][0]["kind"] == "PACE_ADJUSTMENT"
    assert state["profile"]["pace"] == "slow"


def test_studio_form_shows_each_prompt_text_and_the_prompt_choices(dev_server: str) -> None:
    from tutormesh import prompts

    client = get_sync_client(url=dev_server)
    (assistant,) = [a for a in client.assistants.search(limit=20) if a["graph_id"] == "student"]
    fields = client.assistants.get_schemas(assistant["assistant_id"])["context_schema"]["properties"]
    assert {"prompt_versions", "prompt_overrides"} <= set(fields)
    assert fields["explainer_system"]["default"] == prompts.load("explainer/system")
    assert "tutormesh prompts save explainer/system" in fields["explainer_system"]["description"]
