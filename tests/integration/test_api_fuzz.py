"""Schemathesis against the running API as a student, a teacher and an admin.

Bounded examples per operation so the run stays short on 2 cores. Every check but one must pass:
any 5xx, undocumented status, or response that breaks its schema fails `test_api_fuzz`. The one
left, "schema-compliant data is accepted", still fails where the OpenAPI schema does not state all
of a field's rules (username and cohort patterns, blank form fields, quiz specs checked per kind);
`test_api_accepts_what_its_schema_allows` records that until the schemas say it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.integration.conftest import PASSWORD
from tests.integration.test_api_signin import api_process
from tutormesh.core.db import sessionmaker_for
from tutormesh.core.settings import Settings
from tutormesh.core.stores.accounts import AccountStore
from tutormesh.server import security

pytestmark = pytest.mark.integration
ROLES = ("student", "teacher", "admin")
EXAMPLES = 8  # per operation and role: about 2 minutes for all three roles on 2 cores


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


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_server: tuple[str, dict[str, str]]) -> Any:
    return schemathesis.openapi.from_url(f"{fuzz_server[0]}/openapi.json")


def _fuzz(role: str, fuzz_schema: Any, fuzz_server: tuple[str, dict[str, str]], *, examples: int,
          excluded: list[Any]) -> list[str]:
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
            case.call_and_validate(base_url=url, headers=headers, excluded_checks=excluded)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every operation is tried and reported
            titles = sorted({line.strip("- ").strip() for line in str(exc).splitlines() if line.startswith("- ")})
            failures.append(f"{operation.label}: {'; '.join(titles) or type(exc).__name__}")
    print(f"schemathesis as {role}: {cases} cases, {len(failures)} operations failing")
    for failure in failures:
        print("  ", failure)
    return failures


@pytest.mark.parametrize("role", ROLES)
def test_api_fuzz(role: str, fuzz_schema: Any, fuzz_server: tuple[str, dict[str, str]]) -> None:
    failures = _fuzz(role, fuzz_schema, fuzz_server, examples=EXAMPLES, excluded=[positive_data_acceptance])
    assert not failures, "\n".join(failures)


@pytest.mark.xfail(strict=True, reason="the schemas do not yet state every field rule (see the module docstring)")
def test_api_accepts_what_its_schema_allows(fuzz_schema: Any, fuzz_server: tuple[str, dict[str, str]]) -> None:
    failures = _fuzz("admin", fuzz_schema, fuzz_server, examples=3, excluded=[])
    assert not failures, "\n".join(failures)
