"""Admission by tier: a rules-only practice turn never waits behind a seconds-long LLM turn.

Each API process runs turns under two capacity limits. Tier 1 (practice, answers, hints, lessons,
reviews: milliseconds, no LLM) admits `admission_tier1_turns` at once; more wait their turn, for
at most `admission_wait_s`. Tier 2 (a free-form question, which may call the LLM for seconds)
admits `admission_tier2_turns` at once and answers the next one 503 + Retry-After at once, so LLM
turns can never take every worker thread. The tier is decided before the graph runs, by the same
intent rules the graph uses (docs/api.md, "Admission by tier").
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any, Literal

import anyio

from tutormesh.agents.understanding import understand
from tutormesh.core.errors import RateLimited
from tutormesh.server.deps import Services

Tier = Literal[1, 2]


class TierBusy(RateLimited):
    """Every slot of a tier is taken: retry after `retry_after` seconds (503, not 429: it is not the caller's fault)."""

    code, status = "busy", 503


def tier_of(text: str) -> Tier:
    """Return 2 when the message may reach the LLM (a free-form question), else 1.

    Decided as if a practice item were open, as on most turns: then a short reply is an answer.
    """
    return 2 if understand(text, problem_open=True).intent == "ask" else 1


class Slot:
    """One admitted turn's hold on its tier; released exactly once (`release` is idempotent)."""

    def __init__(self, limiter: anyio.CapacityLimiter) -> None:
        """Hold nothing yet."""
        self._limiter = limiter
        self._held = False

    def take_nowait(self) -> bool:
        """Take a token if one is free."""
        try:
            self._limiter.acquire_on_behalf_of_nowait(self)
        except anyio.WouldBlock:
            return False
        self._held = True
        return True

    async def take(self, wait_s: float) -> bool:
        """Wait up to `wait_s` for a token."""
        with anyio.move_on_after(wait_s):
            await self._limiter.acquire_on_behalf_of(self)
            self._held = True
        return self._held

    def release(self) -> None:
        """Give the token back (no-op when not held)."""
        if self._held:
            self._held = False
            self._limiter.release_on_behalf_of(self)

    def __enter__(self) -> Slot:
        """Hold the slot for a `with` block."""
        return self

    def __exit__(self, *_exc: object) -> None:
        """Release on leaving the block, however it ends."""
        self.release()

    async def around(self, events: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Yield `events` (a streamed turn) and release when the stream ends or the client leaves."""
        try:
            async for event in events:
                yield event
        finally:
            self.release()


class Admission:
    """The two limiters of one API process."""

    def __init__(self, tier1_turns: int, tier2_turns: int, wait_s: float) -> None:
        """Create the limiters (inside the event loop)."""
        self.limiters: dict[Tier, anyio.CapacityLimiter] = {1: anyio.CapacityLimiter(max(1, tier1_turns)),
                                                             2: anyio.CapacityLimiter(max(1, tier2_turns))}
        self.wait_s = wait_s

    async def admit(self, tier: Tier) -> Slot:
        """Return a held slot for one turn of `tier`, or raise TierBusy."""
        slot = Slot(self.limiters[tier])
        if tier == 2:
            if not slot.take_nowait():
                raise TierBusy("free-form questions are at capacity right now; retry shortly, or keep practising",
                               retry_after=2)
        elif not await slot.take(self.wait_s):
            raise TierBusy("server busy, retry shortly", retry_after=max(1, math.ceil(self.wait_s)))
        return slot

    def in_use(self) -> dict[str, int]:
        """Turns running per tier (for tests and metrics)."""
        return {f"tier{t}": int(lim.borrowed_tokens) for t, lim in self.limiters.items()}


def admission_of(services: Services) -> Admission:
    """Return this process's admission (made on first use, from the settings)."""
    found = services.extras.get("admission")
    if found is None:
        s = services.settings
        found = services.extras["admission"] = Admission(s.admission_tier1_turns, s.admission_tier2_turns,
                                                         s.admission_wait_s)
    assert isinstance(found, Admission)
    return found


async def admit(services: Services, text: str) -> Slot:
    """Admit one turn carrying `text` (raises TierBusy: 503 + Retry-After)."""
    return await admission_of(services).admit(tier_of(text))
