"""A scripted tutoring session on the embedded profile: the seed scenario, end to end.

A student in week 5 of 16 with 7 of 20 Algebra topics covered asks to practise linear equations,
answers one problem right and three wrong; the student agent negotiates a slower pace with the
Math SME agent, and the new plan shows in the next problem.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from tutormesh.core import clock
from tutormesh.graphs.runtime import new_replies, open_tutor
from tutormesh.tools.curriculum import load_curriculum
from tutormesh.tools.store import get_store

COVERED = 7


def _say(who: str, text: str) -> None:
    lines = text.splitlines() or [""]
    print(f"{who:>8} > {lines[0]}")
    for line in lines[1:]:
        print(f"{'':>8}   {line}")


def run_demo(name: str) -> int:
    """Run the scripted session and print every turn and the negotiation; return an exit code."""
    store = get_store()
    student_id = uuid.uuid4().hex[:12]
    store.ensure_student(student_id, name=f"{name}-{student_id[:6]}")
    store.update_profile(student_id, learning_style={"visual": 0.7, "audio": 0.3}, language="en")
    today = clock.now().date()
    store.plan(student_id, "math", today=today)
    store.set_plan(student_id, "math", start_date=today - timedelta(weeks=4))
    topics = load_curriculum().subjects["math"].topics
    for topic in topics[:COVERED]:
        store.set_mastery(student_id, topic.skill, 0.97)
    print(f"Student {student_id}: week 5 of 16, {COVERED} of {len(topics)} Algebra 1 topics covered.\n")
    thread_id = f"demo-{student_id}"
    curriculum = load_curriculum()
    with open_tutor() as tutor:
        script = ["Hi! I want to practice linear equations.", "<right>", "<wrong>", "<wrong>", "<wrong>"]
        state: dict = {}
        for line in script:
            item = state.get("current_item")
            if line == "<right>":
                line = curriculum.item(item["id"]).answer
            elif line == "<wrong>":
                line = "x = 12345"
            _say("student", line)
            state = tutor.send(student_id, thread_id, line)
            for reply in new_replies(state):
                _say("tutor", reply)
            print()
        print("Negotiation (persisted in SQL, visible in graph state):")
        for negotiation in state.get("negotiations", [])[:1]:
            for message in negotiation["messages"]:
                detail = {k: v for k, v in message.items() if k not in ("type", "sender", "student_profile")}
                print(f"  {message['type']:<12} {message['sender']:<14} {detail}")
            print(f"  status: {negotiation['status']}, review at {negotiation['review_at']}")
        print(f"\nprofile.pace = {state['profile']['pace']}")
    return 0
