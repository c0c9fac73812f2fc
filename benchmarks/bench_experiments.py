"""A seeded cohort practises with A/B wordings; print each experiment's gain per attempt and the rule's verdict.

Simulated students (a hidden "knows it" state, learning with the topic's BKT rate, slipping and
guessing at its rates) practise real items: `planner.next_item` picks the item and the student's
arm, the real grader grades the answer (the item's answer, or its first misconception when wrong),
BKT updates the estimate and `LearnerStore.record_practice` stores it, as a practice turn does.
`--lift` raises the learning rate of students who see wording B of `--topic` (0: no true effect),
so the output shows the rule retiring a worse wording and leaving equal ones alone.

    python benchmarks/bench_experiments.py                       # 80 students, lift 0.15 on two-step-equations
    python benchmarks/bench_experiments.py --lift 0 --seed 2     # no true difference
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

from tutormesh.agents.assessment import grade_attempt
from tutormesh.agents.planner import next_item
from tutormesh.core.db import sessionmaker_for
from tutormesh.core.settings import Settings
from tutormesh.core.stores.learner import LearnerStore
from tutormesh.tools import bkt, experiments
from tutormesh.tools.curriculum import load_curriculum
from tutormesh.tools.store import prepare_database


def seed_cohort(store: LearnerStore, student_ids: list[str], topics: list[str], *, attempts: int, lift: float,
                lifted_topic: str, rng: random.Random) -> int:
    """Let each student practise each topic `attempts` times; return the attempts stored."""
    curriculum = load_curriculum()
    stored = 0
    for sid in student_ids:
        store.ensure_student(sid, sid)
        for slug in topics:
            topic = curriculum.topic(slug)
            params = bkt.BKTParams(**topic.bkt.model_dump())
            knows = rng.random() < params.p_init
            row = {"p_known": params.p_init, "attempts": 0, "streak": 0}
            for _ in range(attempts):
                item = next_item(sid, topic, {topic.skill: row}, {})
                learn = params.p_learn + (lift if item.variant == "B" and slug == lifted_topic else 0.0)
                right = rng.random() < ((1 - params.p_slip) if knows else params.p_guess)
                answer = item.answer if right or not item.misconceptions else item.misconceptions[0].answer
                verdict = grade_attempt(item, answer)
                p_after = bkt.update(row["p_known"], verdict["correct"], params)
                store.record_practice(student_id=sid, thread_id=f"sim-{sid}", item=item.model_dump(), answer=answer,
                                      grade=verdict, p_before=row["p_known"], p_after=p_after, reply="")
                knows = knows or rng.random() < min(learn, 0.95)
                row = {"p_known": p_after, "attempts": row["attempts"] + 1,
                       "streak": row["streak"] + 1 if verdict["correct"] else 0}
                stored += 1
    return stored


def main() -> int:
    """Seed a scratch database, then print the experiments as `GET /v1/experiments` computes them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=80)
    parser.add_argument("--attempts", type=int, default=8, help="attempts per student and topic")
    parser.add_argument("--topics", default="two-step-equations,slope")
    parser.add_argument("--topic", default="two-step-equations", help="the topic whose wording B teaches better")
    parser.add_argument("--lift", type=float, default=0.15, help="added BKT learn rate under wording B")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the summaries as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        prepare_database(settings)
        sessions = sessionmaker_for(settings)
        store = LearnerStore(sessions)
        rng = random.Random(args.seed)
        ids = [f"sim{args.seed}-{n:03d}" for n in range(args.students)]
        topics = args.topics.split(",")
        stored = seed_cohort(store, ids, topics, attempts=args.attempts, lift=args.lift,
                             lifted_topic=args.topic, rng=rng)
        with sessions() as s:
            rows = experiments.student_arms(s)
        print(f"{args.students} students x {len(topics)} topics x {args.attempts} attempts = {stored} attempts; "
              f"lift {args.lift} on wording B of {args.topic}; seed {args.seed}")
        for slug in topics:
            found = experiments.summarise(slug, [r for r in rows if r.experiment == slug])
            if args.json:
                print(json.dumps(found.as_dict(), indent=1))
                continue
            print(f"\n{slug}")
            for arm, a in found.arms.items():
                ci = "" if a.low is None else f" [{a.low:+.4f}, {a.high:+.4f}]"
                print(f"  arm {arm}: {a.students} students, {a.attempts} attempts, gain/attempt "
                      f"{a.gain:+.4f}{ci}")
            d = found.difference
            if d is not None:
                print(f"  B - A: {d.estimate:+.4f}, 95% CI [{d.low:+.4f}, {d.high:+.4f}], Welch df {d.df:.1f}")
            print(f"  verdict: {found.verdict}" + (f" (retire {found.loser})" if found.loser else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
