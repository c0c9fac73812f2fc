"""Admin agent graph: opens a human-tutor escalation for a student."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from tutormesh.agents import admin
from tutormesh.graphs.admin.context import AdminContext
from tutormesh.graphs.admin.state import AdminState

builder = StateGraph(AdminState, context_schema=AdminContext)
builder.add_node("escalate", admin.run)
builder.add_edge(START, "escalate")
builder.add_edge("escalate", END)
graph = builder.compile(name="admin")
