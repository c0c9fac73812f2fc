"""Schemathesis against the running API as a student, a teacher and an admin.

Bounded examples per operation so the run stays short on 2 cores. Every check must pass: any 5xx,
undocumented status, response that breaks its schema, or valid data refused fails `test_api_fuzz`.
The request schemas state their rules (patterns, lengths, quiz specs per kind), so what they allow
is accepted. Two rules JSON Schema cannot state are kept out of the generated data by hooks, each
with its reason (`_rules_json_schema_cannot_state`).
"""

# B023: `run` is called in the loop iteration that defines it, so it sees that iteration's operation.
# (A per-line noqa inside `run` would change its source, which seeds the derandomized examples.)
# ruff: noqa: B023
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS, load_all_checks

from tests.integration.conftest import PASSWORD
from tests.integration.test_api_signin import api_process
from tutormesh.core import llm
from tutormesh.core.db import sessionmaker_for
from tutormesh.core.settings import Settings
from tutormesh.core.stores.accounts import AccountStore
from tutormesh.server import security

pytestmark = pytest.mark.integration
ROLES = ("student", "teacher", "admin")
EXAMPLES = 8  # per operation and role: about 2 minutes for all three roles on 2 cores
load_all_checks()
ALL_CHECKS = CHECKS.get_all()  # every check schemathesis has, positive data acceptance included
# A deck upload is valid only as a file in a deck format, known by its name and its bytes: JSON Schema
# cannot state a file format, and schemathesis sends the generated part without a file name, so no
# generated upload can be one. Every other check runs on it; accepted uploads of each format and every
# refusal are tested in tests/integration/test_api_content_upload.py and tests/unit/tools/test_ingest_*.
NOT_GENERATABLE = {"POST /v1/content/uploads": {"positive_data_acceptance"}}


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    root: Path = tmp_path_factory.mktemp("fuzz")
    with api_process(root, rate_limit_user="100000/minute", rate_limit_ip="100000/minute",
                     rate_limit_login="100000/minute", login_max_failures="100000") as url:
        accounts = AccountStore(sessionmaker_for(Settings(data_dir=root / "data")))
        tokens = {}
        for role in ROLES:
            user = accounts.create_user(f"fuzz-{role}", security.hash_password(PASSWORD), role, "9a")
            tokens[role] = httpx.post(f"{url}/v1/auth/token", data={"username": user["username"],
                                                                    "password": PASSWORD}).json()["access_token"]
        yield url, tokens


def _rules_json_schema_cannot_state(schema: Any) -> None:
    limits = Settings()

    @schema.hook
    def filter_body(ctx: Any, body: Any) -> bool:
        # A message's limit in tokens (estimated per script) and its character limit are server
        # settings, not schema constants: a message over either is refused with its reason.
        if ctx.operation.path.endswith("/messages") and isinstance(body, dict):
            text = str(body.get("content", "")).strip()
            return len(text) <= limits.max_message_chars and llm.estimate_tokens(text) <= limits.max_message_tokens
        return True

    @schema.hook
    def map_body(ctx: Any, body: Any) -> Any:
        # A choice question's answer must be one of its own choice keys: JSON Schema cannot refer
        # from one value to another object's keys, so the generated answer is set to the first key.
        path = ctx.operation.path
        if path == "/v1/quizzes" and isinstance(body, dict):
            for question in body.get("questions", []):
                if question.get("kind") == "choice":
                    question["spec"]["answer"] = next(iter(question["spec"]["choices"]))
        # A budget's daily amount must not exceed its monthly one (a rule between two values).
        elif path.endswith("/budget") and isinstance(body, dict):
            body["daily_usd"] = min(body["daily_usd"], body["monthly_usd"])
        # A roster is CSV text with a header of known columns and at least one row: a grammar, not
        # a JSON Schema rule. The generated text becomes rows under a valid header (bad rows are
        # reported per row with 200).
        elif path == "/v1/admin/roster" and isinstance(body, dict):
            header = "username,cohort\nfuzz-roster,9a\n"
            body["csv"] = header + body["csv"][:60_000 - len(header)]
        return body


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_server: tuple[str, dict[str, str]]) -> Any:
    schema = schemathesis.openapi.from_url(f"{fuzz_server[0]}/openapi.json")
    # NUL is refused in every string of every request, object keys included, before routing
    # (`middleware.CleanText`); JSON Schema can state it only field by field, so none is generated.
    # The surrogate rule needs nothing: strings are generated as UTF-8, which cannot hold a lone one.
    schema.config.generation.update(allow_x00=False)
    _rules_json_schema_cannot_state(schema)
    return schema


def _fuzz(role: str, fuzz_schema: Any, fuzz_server: tuple[str, dict[str, str]], *, examples: int) -> list[str]:
    url, tokens = fuzz_server
    headers = {"Authorization": f"Bearer {tokens[role]}"}
    failures: list[str] = []
    cases = 0
    for found in fuzz_schema.get_all_operations():
        operation = found.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def run(case: Any) -> None:
            nonlocal cases
            cases += 1
            skip = NOT_GENERATABLE.get(operation.label, set())
            case.call_and_validate(base_url=url, headers=headers,
                                   checks=[c for c in ALL_CHECKS if c.__name__ not in skip])

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every operation is tried and reported
            titles = sorted({line.strip("- ").strip() for line in str(exc).splitlines() if line.startswith("- ")})
            failures.append(f"{operation.label}: {'; '.join(titles) or type(exc).__name__}")
    print(f"schemathesis as {role}: {cases} cases, {cases * len(ALL_CHECKS)} checks "
          f"({', '.join(c.__name__ for c in ALL_CHECKS)}), {len(failures)} operations failing")
    for failure in failures:
        print("  ", failure)
    return failures


@pytest.mark.parametrize("role", ROLES)
def test_api_fuzz(role: str, fuzz_schema: Any, fuzz_server: tuple[str, dict[str, str]]) -> None:
    failures = _fuzz(role, fuzz_schema, fuzz_server, examples=EXAMPLES)
    assert not failures, "\n".join(failures)
