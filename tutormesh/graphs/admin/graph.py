"""Admin agent graph: opens a human-tutor escalation for a student."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from tutormesh.agents import admin
from tutormesh.graphs.admin.state import AdminState

builder = StateGraph(AdminState)
builder.add_node("escalate", admin.run)
builder.add_edge(START, "escalate")
builder.add_edge("escalate", END)
graph = builder.compile(name="admin")
