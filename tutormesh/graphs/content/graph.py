"""SME content graph: segment a deck into lessons, write five levels of items, key, verify, assign."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from tutormesh.agents.content import nodes
from tutormesh.graphs.content.context import ContentContext
from tutormesh.graphs.content.state import ContentInput, ContentState

STAGES = ("segment", "lessons", "templates", "keys", "verify", "assign")

builder = StateGraph(ContentState, input_schema=ContentInput, context_schema=ContentContext)
builder.add_node("segment", nodes.segment)
builder.add_node("lessons", nodes.lessons)
builder.add_node("templates", nodes.templates)
builder.add_node("keys", nodes.keys)
builder.add_node("verify", nodes.verify)
builder.add_node("assign", nodes.assign)
builder.add_edge(START, "segment")
for first, second in zip(STAGES, STAGES[1:], strict=False):
    builder.add_edge(first, second)
builder.add_edge("assign", END)
graph = builder.compile(name="content")
