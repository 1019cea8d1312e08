"""The values a relational operator compares: Jayway's ``ValueNode`` kinds, as plain Python objects.

==============================  ===================================================================
Jayway node                     Python representation
==============================  ===================================================================
``UndefinedNode`` (no value)    :data:`UNDEFINED`
``NullNode``                    ``None``
``BooleanNode``                 ``bool``
``StringNode``                  ``str``
``NumberNode`` (BigDecimal)     :class:`decimal.Decimal` (from the number's Java ``toString``)
``JsonNode`` from a path        the payload's ``list`` / ``dict`` itself (elements stay raw)
``JsonNode`` literal            :class:`JsonLiteral` (keeps its source text: Jayway compares it)
``PatternNode``                 :class:`~.regexes.JavaPattern`
``PathNode`` inside a list      :class:`PathLikeString` (never equal to anything)
==============================  ===================================================================

Payload values become nodes with :func:`node_of`; elements of an array become nodes with
:func:`element_node`, which follows ``ValueNode.toValueNode`` (different rules: a string element
that looks like a path or like JSON is not a plain string, and a nested array or object is an error).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .errors import FilterEvaluationError
from .javatext import decimal_of_float, java_trim, unescape
from .jsonliteral import JsonLiteralError, parse_json_literal


class _Undefined:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Any = _Undefined()
"""A path that selects nothing (Jayway's ``UndefinedNode``)."""

MISSING: Any = UNDEFINED
"""Returned by fast path getters when the path has no value."""


@dataclass(frozen=True, eq=False)
class JsonLiteral:
    """A ``[...]`` / ``{...}`` literal from the filter text."""

    text: str
    value: Any
    # ValueListNode of the literal when it is an array (computed once): the nodes, or the error that
    # converting them raises. Jayway converts lazily, so the error only fires when evaluated.
    elements: list[Any] | FilterEvaluationError | None = field(default=None, compare=False)


@dataclass(frozen=True, eq=False)
class PathLikeString:
    """A string element that Jayway's ``toValueNode`` turns into a path node (e.g. ``"$.a"``)."""

    text: str


def node_of(value: Any) -> Any:
    """``PathNode.evaluate``'s conversion of a payload value to a node."""
    kind = type(value)
    if kind is str or kind is dict or kind is list or kind is bool or value is None:
        return value
    if kind is int:
        return Decimal(value)
    if kind is float:
        return _float_node(value)
    return _unusual_node(value)


def _float_node(value: float) -> Decimal:
    try:
        return decimal_of_float(value)
    except ValueError as exc:
        # new BigDecimal("NaN") throws NumberFormatException, which escapes Jayway's filter.
        raise FilterEvaluationError(f"cannot compare the number {value!r}: {exc}") from None


def _unusual_node(value: Any) -> Any:
    """Subclasses of the JSON types, tuples and Decimals from Python callers; anything else fails."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return Decimal(int(value))
    if isinstance(value, float):
        return _float_node(float(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise FilterEvaluationError(f"cannot compare the number {value}")
        return value
    if isinstance(value, dict):
        return value
    if isinstance(value, (list, tuple)):
        return list(value)
    raise FilterEvaluationError(f"Could not convert {type(value).__name__} to a ValueNode")


def element_node(value: Any, is_path: Callable[[str], bool]) -> Any:
    """``ValueNode.toValueNode`` for one element of an array (``in``, ``anyof``, ``=~`` over arrays)."""
    if type(value) is str:
        return _string_element(value, is_path)
    if value is None:
        return None
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, (int, float, Decimal)):
        return node_of(value)
    if isinstance(value, str):
        return _string_element(str(value), is_path)
    # A nested array or object: "Could not determine value type" (a JsonPathException).
    raise FilterEvaluationError(
        f"cannot compare an array element of type {_json_type(value)} (Jayway: could not determine value type)"
    )


def _string_element(text: str, is_path: Callable[[str], bool]) -> Any:
    # Fast path: the common plain word cannot be a path, JSON, quoted or escaped.
    if not text or (text[0] > " " and text[0] not in "$@[{'\"" and "\\" not in text):
        return text
    trimmed = java_trim(text)
    if trimmed[:1] in ("$", "@") and is_path(trimmed):
        return PathLikeString(text)
    if len(trimmed) > 1 and (trimmed[0], trimmed[-1]) in (("[", "]"), ("{", "}")):
        try:
            return JsonLiteral(text, parse_json_literal(trimmed))
        except JsonLiteralError:
            pass
    # StringNode(text, escape=true): strip one pair of matching quotes, then unescape.
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    try:
        return unescape(text)
    except ValueError as exc:
        raise FilterEvaluationError(f"cannot compare the array element {text!r}: {exc}") from None


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def describe(node: Any) -> str:
    """A short human name for a node's kind, used in evaluation error messages."""
    if node is UNDEFINED:
        return "nothing (the path has no value)"
    if node is None:
        return "null"
    if isinstance(node, bool):
        return "a boolean"
    if isinstance(node, str):
        return "a string"
    if isinstance(node, Decimal):
        return "a number"
    if isinstance(node, (list, JsonLiteral)) and isinstance(json_value(node), list):
        return "an array"
    if isinstance(node, (dict, JsonLiteral)):
        return "an object"
    return "a regex" if hasattr(node, "full_match") else "a path"


def is_json(node: Any) -> bool:
    kind = type(node)
    return kind is list or kind is dict or kind is JsonLiteral


def json_value(node: Any) -> Any:
    return node.value if type(node) is JsonLiteral else node
