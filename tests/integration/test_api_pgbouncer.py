"""The production profile through PgBouncer in transaction mode: SQL data and checkpoints both pooled.

Transaction pooling gives each transaction whichever server connection is free, so a statement
prepared on one connection is missing on the next: psycopg prepares a statement after its fifth
execution unless told not to, and these tests run well past that on every hot-path query.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.conftest import Api
from tests.pgbouncer import pgbouncer, pgbouncer_url  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture
def pooled_api(request: pytest.FixtureRequest, start_api: Callable[..., Api]) -> Api:
    """The API on the scratch Postgres database, every connection going through PgBouncer."""
    url = request.getfixturevalue("pgbouncer_url")
    return start_api(database_url=url, jwt_secret="p" * 40)


def test_many_turns_through_pgbouncer_grade_and_keep_history(pooled_api: Api) -> None:
    _, headers, thread = pooled_api.student()
    item = pooled_api.say(headers, thread, "practice linear equations")["current_item"]
    for _ in range(8):  # past psycopg's prepare threshold (5) on every hot-path statement
        turn = pooled_api.say(headers, thread, "x = 12345")
        assert turn["intent"] == "answer" and turn["last_grade"]["correct"] is False
        item = turn["current_item"] or item
    view = pooled_api.client.get(f"/v1/threads/{thread}", headers=headers).json()
    assert view["turns"] == 9 and [m["role"] for m in view["messages"]].count("user") == 9
    assert view["negotiations"], "three wrong answers in a row open a negotiation, stored through the pooler"


def test_concurrent_students_share_the_pool(pooled_api: Api) -> None:
    students = [pooled_api.student() for _ in range(6)]

    def practice(student: tuple[object, dict[str, str], str]) -> list[int]:
        _, headers, thread = student
        codes = []
        for text in ("practice linear equations", "x = 1", "x = 2", "hint"):
            response = pooled_api.client.post(f"/v1/threads/{thread}/messages", headers=headers,
                                              json={"content": text})
            codes.append(response.status_code)
        return codes

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(practice, students))
    assert results == [[200] * 4] * 6
    for _, headers, thread in students:
        assert pooled_api.client.get(f"/v1/threads/{thread}", headers=headers).json()["turns"] == 4
