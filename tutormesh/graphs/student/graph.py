"""Student agent graph: understand the message, act on it, negotiate with the SME when stuck."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from tutormesh.agents import explainer, human_tutor, reflection, student
from tutormesh.graphs.negotiation.context import NegotiationContext
from tutormesh.graphs.negotiation.graph import graph as negotiation_graph
from tutormesh.graphs.student.context import StudentContext
from tutormesh.graphs.student.state import StudentInput, StudentState

ACTIONS = {"answer": "practice", "practice": "practice", "hint": "practice", "meta": "practice", "learn": "teach",
           "ask": "explain", "review": "review", "greet": "converse", "off_topic": "converse",
           "goodbye": "goodbye"}
Action = Literal["practice", "teach", "explain", "review", "converse", "goodbye"]


def act(state: Mapping[str, Any]) -> Action:
    """Route the understood intent to the node that serves it ("I don't get it" re-teaches unless a problem is open)."""
    if state["intent"] == "meta" and not state.get("current_item"):
        return "teach"
    return ACTIONS[state["intent"]]  # type: ignore[return-value]


def after_action(state: Mapping[str, Any]) -> Literal["negotiate", "__end__"]:
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


def routed(node: Callable[..., dict[str, Any]],
           route: Callable[[Mapping[str, Any]], str]) -> Callable[..., Command[Any]]:
    """`node`, then `route` on its result, as one step returning `Command(update, goto)`.

    A conditional edge would read the state again through LangGraph's fresh read, which copies every
    channel to apply the node's writes (about 5% of a practice turn, measured with py-spy). The routes
    here read only plain (last-value) keys, so the state updated by the node's writes is exact.
    """
    wants_config = "config" in inspect.signature(node).parameters

    def step(state: StudentState, runtime: Runtime[StudentContext], config: RunnableConfig) -> Command[Any]:
        update = node(state, runtime, config) if wants_config else node(state, runtime)
        return Command(update=update, goto=route({**state, **update}))

    # Not functools.wraps: its __wrapped__ would make LangGraph read the node's signature, not step's.
    step.__name__, step.__doc__ = node.__name__, node.__doc__
    return step


def _ends(route: Callable[..., Any]) -> tuple[str, ...]:
    """The nodes a route can go to, from its return annotation (drawn by Studio and get_graph)."""
    return tuple(get_args(inspect.signature(route, eval_str=True).return_annotation))


builder = StateGraph(StudentState, input_schema=StudentInput, context_schema=StudentContext)
builder.add_node("understand", routed(student.understand, act), destinations=_ends(act))
for name, node in (("practice", student.practice), ("teach", student.teach), ("review", student.review),
                   ("explain", explainer.explain), ("converse", student.converse)):
    builder.add_node(name, routed(node, after_action), destinations=_ends(after_action))
builder.add_node("goodbye", reflection.goodbye)  # ends the session with its reflection
builder.add_node("negotiate", routed(negotiate, human_tutor.after_negotiation),
                 destinations=_ends(human_tutor.after_negotiation))
builder.add_node("await_tutor", human_tutor.await_tutor)  # interrupt(): resumed by a human tutor's reply
builder.add_edge(START, "understand")
builder.add_edge("goodbye", END)
builder.add_edge("await_tutor", END)
graph = builder.compile(name="student")
