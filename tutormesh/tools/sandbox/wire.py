"""The one format values take between the tests' process and the student's (stdlib only).

A message is one line of JSON. A value inside it is plain data: None, bool, int, float, str and
lists as JSON itself, and the containers JSON lacks as one-key objects: ``{"t": [...]}`` a tuple,
``{"d": [[key, value], ...]}`` a dict (any plain hashable keys), ``{"s": [...]}`` a set and
``{"f": [...]}`` a frozenset. Decoding builds fresh built-in objects only, so no object, method
or class of the sender ever exists on the receiving side. Both sides import this module inside
their sandbox; see docs/sandbox.md.
"""

from __future__ import annotations

# The json package's C core, used directly: ``import json`` pulls in re and enum, which cost every
# sandboxed process 5 ms on a quiet machine and 40 ms on a loaded one, twice per run.
from _json import encode_basestring_ascii, make_encoder, make_scanner

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is another few milliseconds of start-up; annotations need it only here
    from typing import Any

MAX_DEPTH = 100  # containers nested deeper than this are refused on both sides
_TAGS = ("t", "d", "s", "f")


class WireError(ValueError):
    """A value that is not plain data, or a line that is not a valid message."""


def encode(value: Any, depth: int = 0) -> Any:
    """Return ``value`` as a JSON-ready tree; subclasses of built-ins travel as the built-in.

    Raises:
        WireError: ``value`` holds something that is not plain data, or is nested too deeply.
    """
    if depth > MAX_DEPTH:
        raise WireError(f"the value is nested more than {MAX_DEPTH} levels deep")
    if value is None or value is True or value is False:
        return value
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, list):
        return [encode(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return {"t": [encode(v, depth + 1) for v in value]}
    if isinstance(value, dict):
        return {"d": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, frozenset):
        return {"f": [encode(v, depth + 1) for v in value]}
    if isinstance(value, set):
        return {"s": [encode(v, depth + 1) for v in value]}
    raise WireError(f"a {type(value).__name__} is not plain data")


def decode(tree: Any, depth: int = 0) -> Any:
    """Rebuild a value from a tree made by ``encode``, using built-in types only.

    Raises:
        WireError: the tree is not one ``encode`` could have made.
    """
    if depth > MAX_DEPTH:
        raise WireError(f"the value is nested more than {MAX_DEPTH} levels deep")
    kind = type(tree)
    if tree is None or kind in (bool, int, float, str):
        return tree
    if kind is list:
        return [decode(v, depth + 1) for v in tree]
    if kind is not dict or len(tree) != 1:
        raise WireError("not a plain value")
    tag, items = next(iter(tree.items()))
    if tag not in _TAGS or type(items) is not list:
        raise WireError("not a plain value")
    try:
        if tag == "t":
            return tuple(decode(v, depth + 1) for v in items)
        if tag == "d":
            if any(type(pair) is not list or len(pair) != 2 for pair in items):
                raise WireError("not a plain value: a dict entry is not a [key, value] pair")
            return {decode(k, depth + 1): decode(v, depth + 1) for k, v in items}
        members = (decode(v, depth + 1) for v in items)
        return set(members) if tag == "s" else frozenset(members)
    except (TypeError, ValueError) as exc:  # an unhashable key or member, a pair that is not a pair
        raise WireError(f"not a plain value: {exc}") from None


class _ParseRules:
    """What ``json.loads`` would use by default; NaN and the infinities decode as floats."""

    strict = True
    object_hook = object_pairs_hook = None
    parse_float = parse_constant = float  # the exact types select the scanner's own fast paths
    parse_int = int


def _refuse(obj: Any) -> Any:
    raise TypeError(f"a {type(obj).__name__} cannot be written as JSON")


_scan = make_scanner(_ParseRules())  # type: ignore[arg-type]  # any object with these attributes
_write = make_encoder(None, _refuse, encode_basestring_ascii, None, ":", ",", False, False, True)


def dumps(message: Any) -> bytes:
    """Return ``message`` (JSON types only: its values already encoded) as one ASCII line."""
    return "".join(_write(message, 0)).encode("ascii") + b"\n"


def loads(line: bytes | str) -> Any:
    """Parse one line of JSON.

    Raises:
        WireError: the line is not exactly one JSON value.
    """
    text = line.decode("utf-8", "surrogateescape") if isinstance(line, bytes) else line
    try:
        value, end = _scan(text, len(text) - len(text.lstrip()))
    except (ValueError, StopIteration, RecursionError) as exc:  # also integers past the digit limit
        raise WireError(f"not a valid message: {exc.__class__.__name__}") from None
    if text[end:].strip():
        raise WireError("not a valid message: data after the value")
    return value


def loads_message(line: bytes) -> dict[str, Any]:
    """Parse one line that must hold a JSON object.

    Raises:
        WireError: it does not.
    """
    message = loads(line)
    if type(message) is not dict:
        raise WireError("not a valid message")
    return message
