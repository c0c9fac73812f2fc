"""Student agent lifecycle: spawn on login, pause after N idle minutes, resume on the next message.

An agent's full state lives in the database (the thread's checkpoint plus the learner model in
SQL), so pausing only marks its threads `paused` and forgets the in-process handle; resuming
reloads from the database and loses nothing. Every transition is a `lifecycle_events` row. An
idle pause ends the student's session: its reflection is stored (agents/reflection.py), so the
teacher sees it and the next session acts on it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tutormesh.core.settings import Settings
from tutormesh.core.stores.accounts import AccountStore
from tutormesh.core.stores.learner import LearnerStore

log = logging.getLogger("tutormesh.server.lifecycle")


class Lifecycle:
    """Tracks live agents in this process and serialises turns per thread."""

    def __init__(self, accounts: AccountStore, learner: LearnerStore, settings: Settings) -> None:
        """Start with no live agents."""
        self.accounts, self.learner, self.settings = accounts, learner, settings
        self.live: dict[str, float] = {}  # student_id -> monotonic time of last activity
        self.seen: dict[str, float] = {}  # thread_id -> monotonic time of its last turn here
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.state_loader: Callable[[str], dict[str, Any]] | None = None  # thread_id -> checkpoint

    def spawn(self, student_id: str) -> None:
        """Load the agent's state (learner model and latest thread checkpoint); record `spawned`."""
        self.learner.profile(student_id)
        self.learner.mastery(student_id)
        threads = self.accounts.threads(student_id=student_id)
        if threads and self.state_loader is not None:
            self.state_loader(threads[0]["thread_id"])
        self.live[student_id] = time.monotonic()
        self.accounts.record_event(student_id, "spawned", threads[0]["thread_id"] if threads else None)
        log.info("agent spawned student=%s", student_id)

    def before_turn(self, student_id: str, thread_id: str) -> None:
        """Resume a paused thread, or spawn the agent when this process has none (e.g. after a restart).

        A thread this process served within half the idle time cannot have been paused by any
        process's sweep (each turn refreshes its `last_active_at`), so the common case costs no SQL.
        """
        now = time.monotonic()
        recent = now - self.seen.get(thread_id, -1e18) < self.settings.agent_idle_minutes * 60 / 2
        if not recent and self.accounts.resume(thread_id):
            log.info("agent resumed student=%s thread=%s", student_id, thread_id)
        elif student_id not in self.live:
            self.accounts.record_event(student_id, "spawned", thread_id)
        self.live[student_id] = self.seen[thread_id] = now

    def lock(self, thread_id: str) -> threading.Lock:
        """Return the lock that keeps two turns of one thread from racing on its checkpoint."""
        with self._guard:
            lock = self._locks.get(thread_id)
            if lock is None:
                if len(self._locks) > 10_000:
                    self._locks = {k: v for k, v in self._locks.items() if v.locked()}
                lock = self._locks[thread_id] = threading.Lock()
            return lock

    def sweep(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Pause every thread idle for `agent_idle_minutes`; forget agents with no activity since."""
        idle = timedelta(minutes=self.settings.agent_idle_minutes)
        paused = self.accounts.pause_idle((now or datetime.now(UTC)) - idle)
        cutoff = time.monotonic() - idle.total_seconds()
        for student_id, seen in list(self.live.items()):
            if seen < cutoff:
                self.live.pop(student_id, None)
        for thread_id, seen in list(self.seen.items()):
            if seen < cutoff:
                self.seen.pop(thread_id, None)
        for row in paused:
            self.live.pop(row["student_id"], None)
            self.seen.pop(row["thread_id"], None)
            log.info("agent paused student=%s thread=%s", row["student_id"], row["thread_id"])
            self.reflect(row["student_id"], row["thread_id"])
        return paused

    def reflect(self, student_id: str, thread_id: str) -> None:
        """Store the reflection of the session an idle pause ended (nothing when it had no answers)."""
        from tutormesh.agents.reflection import close_session  # the agents load with the tutor, not the app

        try:
            found = close_session(student_id, thread_id, "idle", store=self.learner)
        except Exception:  # noqa: BLE001 - one student's failed reflection must not stop the sweep
            log.exception("reflection failed student=%s thread=%s", student_id, thread_id)
            return
        if found is not None:
            log.info("session reflected student=%s reflection=%s", student_id, found["id"])

    async def run_sweeper(self) -> None:
        """Sweep forever, every `lifecycle_sweep_seconds` (cancelled at shutdown)."""
        while True:
            await asyncio.sleep(self.settings.lifecycle_sweep_seconds)
            try:
                await asyncio.to_thread(self.sweep)
            except Exception:  # noqa: BLE001 - a failed sweep must not stop the next one
                log.exception("lifecycle sweep failed")
