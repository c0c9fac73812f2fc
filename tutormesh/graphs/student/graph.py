"""Student agent graph: understand the message, act on it, negotiate with the SME when stuck."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from tutormesh.agents import explainer, human_tutor, reflection, student
from tutormesh.graphs.negotiation.context import NegotiationContext
from tutormesh.graphs.negotiation.graph import graph as negotiation_graph
from tutormesh.graphs.student.context import StudentContext
from tutormesh.graphs.student.state import StudentInput, StudentState

ACTIONS = {"answer": "practice", "practice": "practice", "hint": "practice", "meta": "practice", "learn": "teach",
           "ask": "explain", "review": "review", "greet": "converse", "off_topic": "converse",
           "goodbye": "goodbye"}


def act(state: StudentState) -> Literal["practice", "teach", "explain", "review", "converse", "goodbye"]:
    """Route the understood intent to the node that serves it ("I don't get it" re-teaches unless a problem is open)."""
    if state["intent"] == "meta" and not state.get("current_item"):
        return "teach"
    return ACTIONS[state["intent"]]  # type: ignore[return-value]


def after_action(state: StudentState) -> Literal["negotiate", "__end__"]:
    """Negotiate when the turn detected struggle or a failed review; otherwise the turn is done."""
    return "negotiate" if state.get("pending_negotiation") else END


def negotiate(state: StudentState, runtime: Runtime[StudentContext], config: RunnableConfig) -> dict[str, Any]:
    """Run the negotiation subgraph, then tell the student what changed and serve the next item."""
    ask = state["pending_negotiation"] or {}
    ctx = runtime.context or StudentContext()
    result = negotiation_graph.invoke(
        {"student_id": state["student_id"], "subject": ask["subject"], "skill": ask["skill"],
         "reason": ask["reason"], "parent_id": ask.get("parent_id")},
        config,
        context=NegotiationContext(thread_id=student.thread_id_of(runtime), now=ctx.now, language=ctx.language,
                                   prompt_versions=ctx.prompt_versions, prompt_overrides=ctx.prompt_overrides),
    )
    return student.after_negotiation(state, result["negotiation_id"], ctx=ctx, thread_id=student.thread_id_of(runtime))


builder = StateGraph(StudentState, input_schema=StudentInput, context_schema=StudentContext)
builder.add_node("understand", student.understand)
builder.add_node("practice", student.practice)
builder.add_node("teach", student.teach)
builder.add_node("review", student.review)
builder.add_node("explain", explainer.explain)
builder.add_node("converse", student.converse)
builder.add_node("goodbye", reflection.goodbye)  # ends the session with its reflection
builder.add_node("negotiate", negotiate)
builder.add_node("await_tutor", human_tutor.await_tutor)  # interrupt(): resumed by a human tutor's reply
builder.add_edge(START, "understand")
builder.add_conditional_edges("understand", act)
for node in ("practice", "teach", "explain", "review", "converse"):
    builder.add_conditional_edges(node, after_action)
builder.add_conditional_edges("negotiate", human_tutor.after_negotiation)
builder.add_edge("goodbye", END)
builder.add_edge("await_tutor", END)
graph = builder.compile(name="student")
