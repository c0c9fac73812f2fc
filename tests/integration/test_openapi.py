"""The served OpenAPI document: every success response has a schema, and every route lives under `/v1`."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import iter_route_contexts

from tests.integration.conftest import Api

pytestmark = pytest.mark.integration
OUTSIDE_V1 = {"/metrics", "/openapi.json", "/docs", "/redoc", "/", "/console", "/console/content", "/static"}


def _typed(media: str, schema: dict[str, Any]) -> bool:
    """A JSON body names a model (or a list of one); a stream or file at least names its type.

    `dict[str, Any]` routes get `{"type": "object", "additionalProperties": true}`: no schema a client can use.
    """
    if media == "application/json":
        return "$ref" in schema or ("items" in schema and _typed(media, schema["items"]))
    return bool(schema.get("type"))


def _success_without_schema(spec: dict[str, Any]) -> list[str]:
    missing = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                if not code.startswith("2") or code == "204":
                    continue
                content = response.get("content") or {}
                bare = [media for media, body in content.items() if not _typed(media, body.get("schema") or {})]
                if not content or bare:
                    missing.append(f"{method.upper()} {path} {code}: {bare or 'no content'}")
    return missing


def test_every_success_response_has_a_schema(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert len(spec["paths"]) > 30
    assert _success_without_schema(spec) == []


def test_the_check_catches_a_route_without_a_response_model() -> None:
    loose = {"type": "object", "additionalProperties": True}
    untyped = {"paths": {
        "/v1/x": {"get": {"responses": {"200": {"content": {"application/json": {"schema": loose}}}}}},
        "/v1/z": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {
            "type": "array", "items": loose}}}}}}},
        "/v1/s": {"get": {"responses": {"200": {"content": {"text/event-stream": {}}}}}},
        "/v1/ok": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {
            "type": "array", "items": {"$ref": "#/components/schemas/X"}}}}}}}},
        "/v1/y": {"delete": {"responses": {"204": {"description": "gone"}}}}}}
    assert _success_without_schema(untyped) == ["GET /v1/x 200: ['application/json']",
                                                "GET /v1/z 200: ['application/json']",
                                                "GET /v1/s 200: ['text/event-stream']"]


def test_typed_routes_name_their_models(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]

    def schema(path: str, method: str = "get") -> dict[str, Any]:
        ok = next(c for c in paths[path][method]["responses"] if c.startswith("2"))
        found: dict[str, Any] = paths[path][method]["responses"][ok]["content"]["application/json"]["schema"]
        return found

    assert schema("/v1/threads/{thread_id}") == {"$ref": "#/components/schemas/ThreadView"}
    assert schema("/v1/threads/{thread_id}/messages", "post") == {"$ref": "#/components/schemas/TurnResult"}
    assert schema("/v1/submissions/{submission_id}") == {"$ref": "#/components/schemas/SubmissionOut"}
    assert schema("/v1/cohorts/{cohort}/students")["items"] == {"$ref": "#/components/schemas/CohortStudent"}
    streams = paths["/v1/threads/{thread_id}/events"]["get"]["responses"]["200"]["content"]
    assert list(streams) == ["text/event-stream"]


def test_every_api_route_is_under_v1(api: Api) -> None:
    paths = {c.path for c in iter_route_contexts(api.client.app.routes)}  # type: ignore[attr-defined]
    assert {p for p in paths if p and not p.startswith("/v1/")} <= OUTSIDE_V1
    assert {p for p in paths if p and p.startswith("/v1/")}
