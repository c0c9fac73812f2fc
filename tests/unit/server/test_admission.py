"""Admission by tier: which turns are tier 2, and how each tier's limit admits, waits and refuses."""

from __future__ import annotations

import anyio
import pytest

from tutormesh.server.admission import Admission, TierBusy, tier_of


@pytest.mark.parametrize(("text", "tier"), [
    ("x = 3", 1), ("-2, 2", 1), ("3/4", 1), ("practice linear equations", 1), ("hint", 1),
    ("review my progress", 1), ("teach me fractions", 1), ("hello", 1),
    ("why do we flip the sign when we move a term to the other side?", 2),
    ("what is the difference between an expression and an equation, really?", 2),
])
def test_free_form_questions_are_tier_two(text: str, tier: int) -> None:
    assert tier_of(text) == tier


async def test_a_full_tier_two_answers_busy_at_once_and_tier_one_still_runs() -> None:
    admission = Admission(tier1_turns=1, tier2_turns=1, wait_s=5.0)
    llm_turn = await admission.admit(2)
    with anyio.fail_after(0.5):  # refused at once, never queued behind the LLM turn
        with pytest.raises(TierBusy) as refused:
            await admission.admit(2)
        practice = await admission.admit(1)
    assert (refused.value.status, refused.value.code, refused.value.retry_after) == (503, "busy", 2)
    assert admission.in_use() == {"tier1": 1, "tier2": 1}
    practice.release()
    llm_turn.release()
    llm_turn.release()  # idempotent
    assert admission.in_use() == {"tier1": 0, "tier2": 0}
    (await admission.admit(2)).release()


async def test_tier_one_waits_for_a_slot_then_gives_up_with_retry_after() -> None:
    admission = Admission(tier1_turns=1, tier2_turns=1, wait_s=0.2)
    first = await admission.admit(1)
    with pytest.raises(TierBusy) as refused:
        await admission.admit(1)
    assert refused.value.status == 503 and refused.value.retry_after == 1
    admitted: list[bool] = []

    async def second() -> None:
        with await admission.admit(1):
            admitted.append(True)

    async with anyio.create_task_group() as group:
        group.start_soon(second)
        await anyio.sleep(0.05)
        assert admitted == []  # waiting, not refused
        first.release()
    assert admitted == [True] and admission.in_use()["tier1"] == 0
