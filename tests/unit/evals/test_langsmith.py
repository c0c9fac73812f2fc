"""The LangSmith path against a local stand-in for its HTTP API: dataset sync, then an experiment.

The stand-in is a real HTTP server on 127.0.0.1 that records every request and answers the
endpoints the langsmith client uses (datasets, examples, sessions, runs, feedback) the way
LangSmith does. It also answers `/v1/chat/completions` like an OpenAI-compatible model server, so
the experiment's target makes real HTTP model calls and the same evaluators score real replies.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tutormesh.cli import main
from tutormesh.core.settings import get_settings
from tutormesh.evals import generation, langsmith_sync

TENANT = str(uuid.uuid4())
ANSWER = "Subtract 4 from both sides.\n3x = -15\nDivide both sides by 3.\nx = -5"


class StandIn:
    """What the stand-in holds: datasets, examples, sessions, and every request it saw."""

    def __init__(self) -> None:
        """Start empty."""
        self.requests: list[tuple[str, str, bytes]] = []
        self.datasets: dict[str, dict[str, Any]] = {}
        self.examples: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def paths(self, method: str, prefix: str) -> list[str]:
        """Return the paths of the recorded requests with this method and path prefix."""
        return [p for m, p, _ in self.requests if m == method and urlparse(p).path.startswith(prefix)]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _handler(state: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("content-length") or 0))

        def _send(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method: str) -> None:
            body = self._body() if method in ("POST", "PATCH", "PUT") else b""
            with state.lock:
                state.requests.append((method, self.path, body))
            url = urlparse(self.path)
            path, query = url.path.removeprefix("/api/v1"), parse_qs(url.query)
            parts = [p for p in path.split("/") if p]
            if path == "/v1/chat/completions":
                request = json.loads(body)
                prompt = sum(len(str(m.get("content", ""))) for m in request["messages"]) // 4
                return self._send(200, {"id": "chatcmpl-1", "object": "chat.completion", "created": 0,
                                        "model": request["model"], "choices": [{"index": 0, "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": ANSWER}}],
                                        "usage": {"prompt_tokens": prompt, "completion_tokens": 20,
                                                  "total_tokens": prompt + 20}})
            if path == "/info":
                return self._send(200, {"version": "0.10.0", "license_expiration_time": None,
                                        "batch_ingest_config": {"scale_up_qsize_trigger": 1000,
                                                                "scale_up_nthreads_limit": 1,
                                                                "scale_down_nempty_trigger": 4, "size_limit": 100,
                                                                "size_limit_bytes": 20971520},
                                        "instance_flags": {}})
            if parts[:1] == ["datasets"]:
                return self._datasets(method, parts, query, body)
            if parts[:1] == ["examples"]:
                return self._examples(method, parts, query, body)
            if parts[:1] == ["sessions"]:
                return self._sessions(method, parts, query, body)
            if parts[:1] in (["runs"], ["feedback"]):
                return self._send(202 if method == "POST" else 200, {} if method != "GET" else [])
            return self._send(404, {"detail": f"stand-in has no {method} {path}"})

        def _datasets(self, method: str, parts: list[str], query: dict[str, list[str]], body: bytes) -> None:
            if method == "POST" and len(parts) == 1:
                request = json.loads(body)
                if any(d["name"] == request["name"] for d in state.datasets.values()):
                    return self._send(409, {"detail": "Dataset already exists"})
                dataset = {"id": str(uuid.uuid4()), "name": request["name"], "description": request.get(
                    "description"), "data_type": request.get("data_type", "kv"), "created_at": _now(),
                    "modified_at": _now(), "tenant_id": TENANT, "example_count": 0, "session_count": 0}
                state.datasets[dataset["id"]] = dataset
                return self._send(200, dataset)
            if method == "GET" and len(parts) == 1:
                found = [d for d in state.datasets.values()
                         if "name" not in query or d["name"] == query["name"][0]]
                return self._send(200, found[: int(query.get("limit", ["100"])[0])])
            if method == "GET" and len(parts) == 2 and parts[1] in state.datasets:
                return self._send(200, state.datasets[parts[1]])
            if method == "GET" and len(parts) == 3 and parts[2] == "version":
                return self._send(200, {"as_of": _now(), "tags": []})
            return self._send(404, {"detail": "no such dataset"})

        def _examples(self, method: str, parts: list[str], query: dict[str, list[str]], body: bytes) -> None:
            if method == "GET" and len(parts) == 1:
                wanted = query.get("dataset", [None])[0]
                ids = set(query.get("id", []))
                found = [e for e in state.examples.values() if (wanted is None or e["dataset_id"] == wanted)
                         and (not ids or e["id"] in ids)]
                offset, limit = int(query.get("offset", ["0"])[0]), int(query.get("limit", ["100"])[0])
                return self._send(200, found[offset : offset + limit])
            if method == "POST" and parts == ["examples", "bulk"]:
                created = []
                for item in json.loads(body):
                    example = {"id": str(item.get("id") or uuid.uuid4()), "dataset_id": str(item["dataset_id"]),
                               "inputs": item.get("inputs"), "outputs": item.get("outputs"),
                               "metadata": item.get("metadata"), "created_at": _now(), "modified_at": _now()}
                    state.examples[example["id"]] = example
                    created.append(example)
                return self._send(200, created)
            if method == "GET" and len(parts) == 2 and parts[1] in state.examples:
                return self._send(200, state.examples[parts[1]])
            if method == "PATCH" and len(parts) == 2 and parts[1] in state.examples:
                update = json.loads(body)
                state.examples[parts[1]].update({k: v for k, v in update.items() if k in ("inputs", "outputs",
                                                                                           "metadata")})
                return self._send(200, {"message": "updated"})
            return self._send(404, {"detail": f"no examples route {method} {'/'.join(parts)}"})

        def _sessions(self, method: str, parts: list[str], query: dict[str, list[str]], body: bytes) -> None:
            if method == "POST" and len(parts) == 1:
                request = json.loads(body)
                session = {"id": str(request.get("id") or uuid.uuid4()), "name": request["name"],
                           "start_time": _now(), "tenant_id": TENANT, "extra": request.get("extra"),
                           "reference_dataset_id": request.get("reference_dataset_id"),
                           "description": request.get("description")}
                state.sessions[session["id"]] = session
                return self._send(200, session)
            if method == "GET" and len(parts) == 1:
                found = [s for s in state.sessions.values() if "name" not in query or s["name"] == query["name"][0]]
                return self._send(200, found)
            if len(parts) == 2 and parts[1] in state.sessions:
                if method == "PATCH":
                    state.sessions[parts[1]].update({k: v for k, v in json.loads(body).items() if v is not None})
                return self._send(200, state.sessions[parts[1]])
            return self._send(404, {"detail": "no such session"})

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._route("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._route("POST")

        def do_PATCH(self) -> None:  # noqa: N802
            self._route("PATCH")

        def do_PUT(self) -> None:  # noqa: N802
            self._route("PUT")

    return Handler


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[StandIn]:
    """Run the stand-in; point the langsmith client and the chat model at it; keep replies out of the cache."""
    state = StandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("LANGSMITH_API_KEY", "lsv2-test-key")
    monkeypatch.setenv("LANGSMITH_ENDPOINT", url)
    monkeypatch.setenv("LANGSMITH_TRACING", "true")
    monkeypatch.setenv("TUTORMESH_LLM_BASE_URL", f"{url}/v1")
    monkeypatch.setattr(generation, "CACHE_DIR", tmp_path / "replies")
    get_settings.cache_clear()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _client() -> Any:
    from langsmith import Client

    return Client()


def test_dataset_sync_is_idempotent(standin: StandIn) -> None:
    client = _client()
    first = langsmith_sync.sync_dataset(client)
    assert first == {"created": len(generation.cases()), "updated": 0, "unchanged": 0}
    assert langsmith_sync.sync_dataset(client) == {"created": 0, "updated": 0, "unchanged": len(generation.cases())}
    assert len(standin.datasets) == 1 and len(standin.examples) == len(generation.cases())
    assert len(standin.paths("POST", "/datasets")) == 1 and len(standin.paths("POST", "/examples/bulk")) == 1
    ids = {e["id"] for e in standin.examples.values()}
    assert ids == {langsmith_sync.example_id(c["id"]) for c in generation.cases()}


def test_an_edited_case_is_updated_in_place(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client()
    langsmith_sync.sync_dataset(client)
    cases = generation.cases()
    cases[0] = {**cases[0], "question": "How do I solve 3x + 5 = -10?"}
    monkeypatch.setattr(generation, "cases", lambda: cases)
    assert langsmith_sync.sync_dataset(client)["updated"] == 1
    assert standin.examples[langsmith_sync.example_id(cases[0]["id"])]["inputs"]["question"].endswith("-10?")
    assert len(standin.examples) == len(cases)


def test_eval_runs_an_experiment_named_by_commit_and_prompt_versions(standin: StandIn,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--suite", "contracts", "--quiet"]) == 0
    out = capsys.readouterr().out
    (name,) = [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("langsmith experiment:")]
    assert name.startswith(f"explainer-{langsmith_sync.commit()}-retry.v1-system.v1-user.v1")
    (session,) = standin.sessions.values()
    assert session["name"] == name and session["reference_dataset_id"] in standin.datasets
    assert session["extra"]["metadata"]["prompts"]["explainer/system"] == "v1"
    # The target made one real model call per case, through the chat endpoint, with the system text folded in.
    calls = standin.paths("POST", "/v1/chat/completions")
    assert len(calls) == len(generation.cases())
    runs = b"".join(body for method, path, body in standin.requests if path.startswith("/runs"))
    assert b"explainer" in runs and b"ChatOpenAI" in runs  # the target and its model call are traced
    feedback = b"".join(body for method, path, body in standin.requests if "feedback" in path or
                        path.startswith("/runs"))
    for key in (b"gen.grounding", b"gen.language_match", b"gen.no_leak", b"contracts"):
        assert key in feedback, key


def test_without_a_key_nothing_is_sent(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LANGSMITH_API_KEY")
    assert main(["eval", "--suite", "contracts", "--quiet"]) == 0
    assert not [p for _, p, _ in standin.requests if not p.startswith("/v1/chat")]


def test_offline_skips_langsmith_even_with_a_key(standin: StandIn) -> None:
    assert main(["eval", "--suite", "contracts", "--quiet", "--offline"]) == 0
    assert standin.paths("POST", "/datasets") == []
