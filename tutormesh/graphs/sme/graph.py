"""SME agent graph, parameterised by subject: answers a PROPOSE with a COUNTEROFFER or REJECT."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from tutormesh.agents import sme
from tutormesh.graphs.sme.context import SMEContext
from tutormesh.graphs.sme.state import SMEState

builder = StateGraph(SMEState, context_schema=SMEContext)
builder.add_node("evaluate", sme.run)
builder.add_edge(START, "evaluate")
builder.add_edge("evaluate", END)
graph = builder.compile(name="sme")
