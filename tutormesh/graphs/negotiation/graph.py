"""Negotiation: student agent and SME agent exchange typed messages until COMMIT or ESCALATE.

Rounds are bounded by the student agent (settings.negotiation_max_rounds), so a deadlock always
ends at the admin agent, never in a loop.
"""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END, START, StateGraph

from tutormesh.agents import negotiation, sme
from tutormesh.graphs.admin.graph import graph as admin_graph
from tutormesh.graphs.negotiation.context import NegotiationContext
from tutormesh.graphs.negotiation.state import NegotiationInput, NegotiationState
from tutormesh.graphs.sme.graph import graph as sme_graph


def after_student(state: NegotiationState) -> Literal["sme", "commit", "admin"]:
    """Send a PROPOSE to the SME, an ACCEPT to be committed, an ESCALATE to the admin agent."""
    last = state["protocol"][-1]["type"]
    return {"PROPOSE": "sme", "ACCEPT": "commit", "ESCALATE": "admin"}[last]  # type: ignore[return-value]


builder = StateGraph(NegotiationState, input_schema=NegotiationInput, context_schema=NegotiationContext)
builder.add_node("student", negotiation.run)
builder.add_node("sme", sme_graph)
builder.add_node("commit", sme.commit)
builder.add_node("admin", admin_graph)
builder.add_edge(START, "student")
builder.add_conditional_edges("student", after_student)
builder.add_edge("sme", "student")
builder.add_edge("commit", END)
builder.add_edge("admin", END)
graph = builder.compile(name="negotiation")
