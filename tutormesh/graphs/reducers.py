"""State reducers shared by the negotiation graph and its SME and admin subgraphs."""

from __future__ import annotations

from typing import Any


def extend_protocol(left: list[dict[str, Any]], right: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Append protocol messages, once each.

    A node returns only its new messages; a subgraph run as a node returns its whole `protocol`,
    which starts with what the parent already has. Adding that with `operator.add` would repeat
    every earlier message after each SME or admin turn, so a list that extends the current one
    replaces it instead.
    """
    if len(right) >= len(left) and right[: len(left)] == left:
        return list(right)
    return [*left, *right]
