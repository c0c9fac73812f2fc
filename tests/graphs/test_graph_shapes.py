"""Graph wiring snapshots: a change to any graph's shape shows up as a diff in review.

Regenerate after an intended change: TUTORMESH_UPDATE_SNAPSHOTS=1 python -m pytest tests/graphs/test_graph_shapes.py
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).parent / "snapshots"
# Every graph Studio serves, so a new one cannot miss its snapshot.
GRAPHS = list(json.loads((Path(__file__).parents[2] / "langgraph.json").read_text())["graphs"])


@pytest.mark.parametrize("name", GRAPHS)
def test_graph_shape_matches_snapshot(name: str) -> None:
    graph = importlib.import_module(f"tutormesh.graphs.{name}.graph").graph
    assert graph.checkpointer is None  # exported for LangGraph Studio, which brings its own saver
    drawn = graph.get_graph().draw_mermaid()
    snapshot = SNAPSHOTS / f"{name}.mmd"
    if os.environ.get("TUTORMESH_UPDATE_SNAPSHOTS"):
        snapshot.write_text(drawn, encoding="utf-8")
    assert snapshot.exists(), f"no snapshot for {name}: run with TUTORMESH_UPDATE_SNAPSHOTS=1 and review it"
    assert drawn == snapshot.read_text(encoding="utf-8")
