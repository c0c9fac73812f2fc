"""Run simulated learners through the real student graph, once with adaptation and once as the fixed sequence.

Each learner (evals/simulated_learners.py) talks to `graphs.runtime.Tutor` (tier 1, no LLM) on a
scratch embedded profile with an in-memory checkpointer, on a simulated clock: its own seconds per
answer, one study session a day. Both arms meet the same learner with the same random stream, so
the difference between them is what the tutor showed. After the unit (or the turn cap) the learner
comes back once after the review window, so every agreement reaches its review. The scores are in
evals/sim_metrics.py; docs/simulated-learners.md has the figures.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from tutormesh.core.settings import get_settings
from tutormesh.evals.simulated_learners import NEXT_PROBLEM, Answer, HiddenParams, SimulatedLearner, population
from tutormesh.tools import bkt

SEED = 11
STUDENTS = 500
UNIT_TOPICS = 3  # the unit: the subject's first topics, in teaching order
MAX_TURNS = 60  # a learner still short of mastery here stops (counted at the cap)
RECOVER_BY = 20  # the turn after which the profile's best content type is compared with the hidden one
SESSION_TURNS = 15  # turns per study session; the next session starts the next day
START = datetime(2026, 9, 7, 16, 0, tzinfo=UTC)  # a Monday: the plan's semester starts with the first turn
COMEBACK = "how am I doing?"
SUBJECT = "math"
BATCH = 10  # runs per task sent to a worker process


def unit_topics() -> list[Any]:
    """The unit's topics."""
    from tutormesh.tools.curriculum import load_curriculum

    return load_curriculum().subjects[SUBJECT].topics[:UNIT_TOPICS]


def unit_mastered(state: dict[str, Any], skills: Sequence[str]) -> bool:
    """Whether the tutor certifies every skill of the unit as mastered."""
    stats = state.get("skill_stats") or {}
    return all(bkt.is_mastered(stats.get(s, {}).get("p_known", 0.0), stats.get(s, {}).get("attempts", 0))
               for s in skills)


class _Clock:
    """The simulated wall clock: answers take the learner's time, sessions start a day apart."""

    def __init__(self) -> None:
        self.now, self.day = START, 0

    def tick(self, seconds: float, turn: int) -> str:
        if turn % SESSION_TURNS == 0:
            self.day += 1
            self.now = START + timedelta(days=self.day)
        else:
            self.now += timedelta(seconds=seconds)
        return self.now.isoformat()


def _top_style(state: dict[str, Any]) -> str | None:
    from tutormesh.tools.learner_model import preferred

    liked = preferred(state.get("profile") or {})
    return liked[0] if liked else None


def run_student(tutor: Any, params: HiddenParams, *, adaptive: bool, arm: str = "", max_turns: int = MAX_TURNS,
                trace: bool = False) -> dict[str, Any]:
    """Run one learner through one arm; return what the metrics need (and each turn's figures with `trace`).

    `arm` names the arm (default: adaptive or fixed); `adaptive` is what the tutor is told.
    """
    from tutormesh.tools.curriculum import load_curriculum
    from tutormesh.tools.learner_model import style_weights
    from tutormesh.tools.store import get_store

    arm = arm or ("adaptive" if adaptive else "fixed")
    student_id, store = f"{params.learner_id}-{arm}", get_store()
    store.ensure_student(student_id, name=student_id)
    thread, curriculum, topics = f"sim-{student_id}", load_curriculum(), unit_topics()
    skills = [t.skill for t in topics]
    learner, clock = SimulatedLearner(params), _Clock()
    state = tutor.send(student_id, thread, f"let's practice {topics[0].title.lower()}", now=clock.now.isoformat(),
                       adaptive=adaptive)
    items = hints = 0
    turns, style_at, weights_at = 1, None, {}
    rows: list[dict[str, Any]] = []
    seen: list[Answer] = []  # the graded answers before RECOVER_BY, for the recovery ceiling
    while turns < max_turns and not unit_mastered(state, skills):
        current = state.get("current_item")
        if current is None:
            text, seconds = NEXT_PROBLEM, 5.0
        else:
            item = curriculum.item(current["id"])
            text, correct = learner.reply(state, item)
            first_try = int(current.get("tries", 0)) == 0
            items += correct is not None and first_try
            hints += correct is None
            seconds = learner.seconds() if correct is not None else 15.0
            if correct is not None and turns < RECOVER_BY:
                seen.append(Answer(item.skill, tuple(state.get("since_answer") or ()), correct, first_try))
        state = tutor.send(student_id, thread, text, now=clock.tick(seconds, turns), adaptive=adaptive)
        turns += 1
        if turns == RECOVER_BY:
            style_at, weights_at = _top_style(state), style_weights((state.get("profile") or {}).get("learning_style"))
        if trace:
            stats = state.get("skill_stats") or {}
            rows.append({"turn": turns, "mastery": {s: stats.get(s, {}).get("p_known") for s in skills},
                         "known": {s: learner.known.get(s, False) for s in skills},
                         "style": style_weights((state.get("profile") or {}).get("learning_style")),
                         "shown": list(state.get("shown") or [])})
    mastered = unit_mastered(state, skills)
    if turns < RECOVER_BY:  # the unit was done before RECOVER_BY turns: the profile it ended with
        style_at, weights_at = _top_style(state), style_weights((state.get("profile") or {}).get("learning_style"))
    if any(n["status"] == "committed" for n in store.negotiations(student_id, limit=100)):
        review_day = clock.now + timedelta(days=get_settings().negotiation_review_days + 1)
        tutor.send(student_id, thread, COMEBACK, now=review_day.isoformat(), adaptive=adaptive)
    tutor.saver.delete_thread(thread)  # keeps the in-memory checkpointer small over hundreds of students
    certified_known = [learner.known.get(s, False) for s in skills] if mastered else []
    return {"learner": params.learner_id, "arm": arm, "preferred": params.preferred, "pace": params.pace,
            "mastered": mastered, "items": items, "turns": turns, "hints": hints, "style_at": style_at,
            "style_ceiling_hit": params.most_likely_preferred(seen) == params.preferred,
            "weights_at": weights_at,
            "certified_known": sum(certified_known), "certified": len(certified_known),
            "negotiations": negotiation_rows(store.negotiations(student_id, limit=100)), "trace": rows}


def negotiation_rows(newest_first: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each negotiation's outcome and rounds, oldest first; `loop`: opened on a skill whose agreement was unsettled.

    A new negotiation (not a renegotiation at a review) about a skill whose earlier agreement is
    still under review or escalated means the agent asked again instead of waiting.
    """
    out: list[dict[str, Any]] = []
    for n in reversed(newest_first):
        unsettled = any(o["skill"] == n["skill"] and o["status"] in ("committed", "escalated") for o in out)
        out.append({"skill": n["skill"], "status": n["status"], "loop": n["parent_id"] is None and unsettled,
                    "proposals": sum(m.get("type") == "PROPOSE" for m in n.get("messages") or []),
                    "messages": len(n.get("messages") or [])})
    return out


# --- processes -----------------------------------------------------------------------------------
_ENV = ("TUTORMESH_DATA_DIR", "TUTORMESH_LLM_ENABLED", "TUTORMESH_PRUNE_EVERY_TURNS", "TUTORMESH_DATABASE_URL",
        "TUTORMESH_CHECKPOINT_URL", "TUTORMESH_SHARDS")
_tutor: Any = None  # each worker process's own Tutor


def _scratch_env(data_dir: str) -> Any:
    """Point this process at an embedded profile in `data_dir` (LLM off, no pruning); return a Tutor on it.

    The checkpointer is in memory: these threads are thrown away, and it is the cheapest saver.
    """
    from langgraph.checkpoint.memory import InMemorySaver

    from tutormesh.graphs.runtime import Tutor

    os.environ.update(TUTORMESH_DATA_DIR=data_dir, TUTORMESH_LLM_ENABLED="false", TUTORMESH_PRUNE_EVERY_TURNS="0")
    for key in _ENV[3:]:
        os.environ.pop(key, None)
    get_settings.cache_clear()
    return Tutor(InMemorySaver(), get_settings())


@contextmanager
def scratch_tutor() -> Iterator[Any]:
    """A Tutor on a temporary embedded profile; the caller's settings come back afterwards."""
    saved = {k: os.environ.get(k) for k in _ENV}
    root = tempfile.mkdtemp(prefix="tutormesh-sim-")
    try:
        yield _scratch_env(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


def _worker_start(root: str) -> None:
    global _tutor
    _tutor = _scratch_env(tempfile.mkdtemp(prefix="worker-", dir=root))


Job = tuple[HiddenParams, str, bool, int]  # learner, arm, adaptive, turn cap


def _work_batch(jobs: list[Job]) -> list[dict[str, Any]]:
    return [run_student(_tutor, params, adaptive=adaptive, arm=arm, max_turns=max_turns)
            for params, arm, adaptive, max_turns in jobs]


def simulate(students: int = STUDENTS, *, seed: int = SEED, adaptation: bool = True, processes: int = 2,
             max_turns: int = MAX_TURNS, progress: bool = False) -> list[dict[str, Any]]:
    """Run every learner through both arms (`adaptation=False`: the "adaptive" arm is fixed too).

    With `processes` > 1 each worker process has its own scratch database and checkpointer.
    """
    from tqdm import tqdm

    learners = population(students, [t.skill for t in unit_topics()], seed)
    jobs: list[Job] = [(p, arm, adaptive, max_turns) for p in learners
                       for arm, adaptive in (("fixed", False), ("adaptive", adaptation))]
    out: list[dict[str, Any]] = []
    with scratch_tutor() as tutor, tqdm(total=len(jobs), desc="simulated learners", unit="run",
                                        disable=not progress) as bar:
        if processes <= 1:
            results: Iterator[dict[str, Any]] = (run_student(tutor, p, adaptive=a, arm=arm, max_turns=m)
                                                 for p, arm, a, m in jobs)
            for result in results:
                out.append(result)
                bar.update()
        else:
            root = get_settings().data_dir
            batches = [jobs[i : i + BATCH] for i in range(0, len(jobs), BATCH)]
            # spawn, not fork: a parent that already ran the embedding model (another suite) holds
            # OpenMP threads that a forked child inherits half-alive. A worker that dies (the OOM
            # killer) fails the run with BrokenProcessPool instead of hanging it.
            with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                     initializer=_worker_start, initargs=(str(root),)) as pool:
                for done in as_completed([pool.submit(_work_batch, b) for b in batches]):
                    out += done.result()
                    bar.update(len(done.result()))
    return sorted(out, key=lambda r: (r["learner"], r["arm"]))
