"""The human-tutor loop: a tutor's reply reaches the student's thread, its open page and its graph.

The reply is stored in SQL first (the thread's history: what a reload shows). Then the student
graph, paused at its `await_tutor` interrupt since the escalation, is resumed with the reply
(`Command(resume=...)`), so the checkpointed state and LangGraph Studio show the same message.
A thread whose graph moved on meanwhile (the student kept practising) gets the message added to
its state instead. Finally every open page of the thread is woken (`thread_events`).
"""

from __future__ import annotations

import logging
from typing import Any

from langchain_core.runnables import RunnableConfig

from tutormesh.agents.human_tutor import HUMAN_TUTOR, human_message
from tutormesh.core.errors import Invalid
from tutormesh.server import thread_events
from tutormesh.server.deps import Principal, Services
from tutormesh.server.staff import audit, scope_of, stores

log = logging.getLogger("tutormesh.server.tutoring")


def _pending_escalation(snapshot: Any) -> int | None:
    for pending in getattr(snapshot, "interrupts", ()) or ():
        value = getattr(pending, "value", None)
        if isinstance(value, dict) and value.get("kind") == HUMAN_TUTOR:
            return int(value.get("escalation_id") or 0)
    return None


def resume_graph(services: Services, thread_id: str, student_id: str, reply: dict[str, Any]) -> bool:
    """Resume the thread's graph with the reply if it waits for a tutor; else append it to the state."""
    tutor = services.tutor
    if tutor is None:
        return False
    config: RunnableConfig = {"configurable": {"thread_id": thread_id, "student_id": student_id}}
    with tutor.graph_for(student_id, thread_id) as (graph, _saver):  # sharded: the student's shard's saver
        snapshot = graph.get_state(config)
        waiting = _pending_escalation(snapshot) is not None
        if not waiting and snapshot.values:  # a thread with no checkpoint yet has nothing to append to
            graph.update_state(config, {"messages": [human_message(reply["author"], reply["text"],
                                                                   reply["escalation_id"])]})
    if waiting:
        tutor.resume(student_id, thread_id, reply)
    return waiting


def reply(services: Services, user: Principal, escalation_id: int, text: str) -> dict[str, Any]:
    """Post a claimed escalation's reply to the student: SQL, the graph, then any open page."""
    console = stores(services)
    scope = scope_of(services, user)
    sla = services.settings.escalation_sla_minutes * 60
    esc = console.escalations.get(escalation_id, scope, sla_s=sla)
    thread_id = esc["thread_id"]
    if thread_id is None:
        raise Invalid("the student has no conversation thread to reply in")
    author = console.staff.profile(user.id)["display_name"]
    with services.lifecycle.lock(thread_id):
        message = console.escalations.reply(escalation_id, user.id, scope, author=author, text=text,
                                            thread_id=thread_id)
        try:
            resumed = resume_graph(services, thread_id, esc["student_id"],
                                   {"author": author, "text": text, "escalation_id": escalation_id})
        except Exception:  # noqa: BLE001 - the reply is stored and shown; the checkpoint catches up later
            log.exception("resuming thread %s after escalation %s failed", thread_id, escalation_id)
            resumed = False
    thread_events.notify(thread_id)
    audit(services, user, "reply_escalation", student_id=esc["student_id"], target=f"escalation:{escalation_id}")
    return {**message, "thread_id": thread_id, "resumed_graph": resumed}
