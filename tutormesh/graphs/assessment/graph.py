"""Assessment agent graph: deterministic grading first (tier 1)."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from tutormesh.agents import assessment
from tutormesh.graphs.assessment.context import AssessmentContext
from tutormesh.graphs.assessment.state import AssessmentState

builder = StateGraph(AssessmentState, context_schema=AssessmentContext)
builder.add_node("grade", assessment.run)
builder.add_edge(START, "grade")
builder.add_edge("grade", END)
graph = builder.compile(name="assessment")
