"""The wire format: plain values round-trip as themselves; nothing else is ever decoded."""

from __future__ import annotations

import collections
import enum
import math

import pytest

from tutormesh.tools.sandbox import wire


class Color(enum.IntEnum):
    RED = 1


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, -3, 2**200, 1.25, "", "naïve\n\t\x00", [1, [2, [3]]], (1, ("a", None)), {"k": [1]},
     {1: 2, (3, 4): "x", None: 0.5, frozenset({1}): ()}, {1, "a", (2,)}, frozenset({"z"}), [[], (), {}, set()]],
)  # fmt: skip
def test_plain_values_round_trip_with_their_types(value: object) -> None:
    back = wire.decode(wire.loads(wire.dumps({"v": wire.encode(value)}))["v"])
    assert back == value and type(back) is type(value)


def test_nan_and_infinity_cross() -> None:
    back = wire.decode(wire.loads(wire.dumps({"v": wire.encode([math.inf, -math.inf, math.nan])}))["v"])
    assert back[:2] == [math.inf, -math.inf] and math.isnan(back[2])


def test_subclasses_travel_as_the_builtin() -> None:
    class Liar(int):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = int.__hash__

    point = collections.namedtuple("point", "x y")(1, 2)
    tree = wire.encode([Liar(4), Color.RED, point, collections.OrderedDict(a=1), collections.Counter("aa")])
    back = wire.decode(tree)
    assert back == [4, 1, (1, 2), {"a": 1}, {"a": 2}]
    assert [type(v) for v in back] == [int, int, tuple, dict, dict]


@pytest.mark.parametrize(
    "value",
    [object(), iter([1]), (x for x in []), len, int, b"bytes", 1j, [1, object()], {"k": print}],
)
def test_anything_else_is_refused(value: object) -> None:
    with pytest.raises(wire.WireError):
        wire.encode(value)


def test_cycles_and_deep_nesting_are_refused() -> None:
    loop: list[object] = []
    loop.append(loop)
    deep: list[object] = []
    for _ in range(wire.MAX_DEPTH + 5):
        deep = [deep]
    for value in (loop, deep):
        with pytest.raises(wire.WireError):
            wire.encode(value)


@pytest.mark.parametrize(
    "tree",
    [{"x": 1}, {"t": 1}, {"t": [], "s": []}, {"d": [[1]]}, {"d": ["ab"]}, {"d": [[[1], 2]]}, {"s": [[1]]},
     {"__class__": "os.system"}, {"f": [{"d": []}]}],
)  # fmt: skip
def test_trees_encode_could_not_have_made_are_refused(tree: object) -> None:
    with pytest.raises(wire.WireError):
        wire.decode(tree)


def test_decoding_refuses_deep_trees_without_exhausting_the_stack() -> None:
    tree: object = 1
    for _ in range(wire.MAX_DEPTH + 5):
        tree = [tree]
    with pytest.raises(wire.WireError):
        wire.decode(tree)


@pytest.mark.parametrize(
    "line", [b"", b"{", b"[1] [2]", b"1" * 5000, b"[" * 100_000, b"\xff", b'{"a": 1} trailing', b"nul"]
)
def test_malformed_lines_are_refused(line: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.loads_message(line)
