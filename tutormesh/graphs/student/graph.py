"""Student agent graph: understand the message, act on it, negotiate with the SME when stuck."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from tutormesh.agents import explainer, human_tutor, student
from tutormesh.graphs.negotiation.graph import graph as negotiation_graph
from tutormesh.graphs.student.state import StudentInput, StudentState

ACTIONS = {"answer": "practice", "practice": "practice", "hint": "practice", "learn": "teach",
           "ask": "explain", "review": "review", "greet": "review"}


def act(state: StudentState) -> Literal["practice", "teach", "explain", "review"]:
    """Route the parsed intent to the node that serves it."""
    return ACTIONS[state["intent"]]  # type: ignore[return-value]


def after_action(state: StudentState) -> Literal["negotiate", "__end__"]:
    """Negotiate when the turn detected struggle or a failed review; otherwise the turn is done."""
    return "negotiate" if state.get("pending_negotiation") else END


def negotiate(state: StudentState, config: RunnableConfig) -> dict[str, Any]:
    """Run the negotiation subgraph, then tell the student what changed and serve the next item."""
    ask = state["pending_negotiation"] or {}
    configurable = config.get("configurable") or {}
    result = negotiation_graph.invoke(
        {"student_id": state["student_id"], "thread_id": str(configurable.get("thread_id", "")),
         "subject": ask["subject"], "skill": ask["skill"], "reason": ask["reason"],
         "parent_id": ask.get("parent_id"), "now": configurable.get("now")},
        config,
    )
    return student.after_negotiation(state, result["negotiation_id"], config)


builder = StateGraph(StudentState, input_schema=StudentInput)
builder.add_node("understand", student.understand)
builder.add_node("practice", student.practice)
builder.add_node("teach", student.teach)
builder.add_node("review", student.review)
builder.add_node("explain", explainer.explain)
builder.add_node("negotiate", negotiate)
builder.add_node("await_tutor", human_tutor.await_tutor)  # interrupt(): resumed by a human tutor's reply
builder.add_edge(START, "understand")
builder.add_conditional_edges("understand", act)
for node in ("practice", "teach", "explain", "review"):
    builder.add_conditional_edges(node, after_action)
builder.add_conditional_edges("negotiate", human_tutor.after_negotiation)
builder.add_edge("await_tutor", END)
graph = builder.compile(name="student")
