"""Jayway's relational operators (``EvaluatorFactory``) over value nodes (see :mod:`.values`).

Behaviour worth knowing, all taken from Jayway 2.9.0 and kept on purpose:

* ``==`` dispatches on the left node. A number equals a string holding the same BigDecimal value
  (``1 == '1.0'`` is true), but a string equals a number only when the texts match
  (``'1.0' == 1`` is false: ``"1.0"`` vs BigDecimal ``1``'s text ``"1"``).
* A missing path (``UNDEFINED``) equals nothing, so ``$.missing != 'x'`` and ``$.missing nin [...]``
  are true, and ``$.missing == null`` is false.
* ``<``/``>`` compare numbers numerically, strings by UTF-16 code units, and a string with a number
  *as text* (``'10' > 9`` is false). Anything else is false.
* ``=~`` needs the regex on exactly one side; the other side's text is the string, the number's text
  or ``true``/``false`` -- and the empty string for anything else, so ``$.missing =~ /.*/`` is true.
  Against an array it matches if any element matches.
* ``in``/``nin``/``subsetof``/``anyof``/``noneof`` need arrays; a non-array JSON value makes them
  false (``nin``: true), a non-JSON value (string, number, missing path) is an evaluation error.
  Array elements are converted like ``ValueNode.toValueNode`` (nested arrays/objects are an error).
* ``size`` compares a string's UTF-16 length or an array's length (an object counts as -1);
  ``empty`` on an object is an error (``ClassCastException`` in Jayway 2.5+); ``all``, ``type`` and
  ``matches`` cannot be satisfied from a filter string and always fail evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .errors import FilterEvaluationError, SoftEvaluationError
from .javatext import compare_strings, int_value, parse_big_decimal, utf16_length
from .paths import is_path
from .regexes import JavaPattern
from .values import UNDEFINED, JsonLiteral, PathLikeString, describe, element_node, is_json, json_value

Comparator = Callable[[Any, Any], bool]


def java_equal(a: Any, b: Any) -> bool:
    """``Object.equals`` between parsed JSON values (Java List/Map/Integer/Double/String...)."""
    ka, kb = type(a), type(b)
    if ka is str or kb is str or ka is bool or kb is bool:
        return ka is kb and a == b
    if a is None or b is None:
        return a is b
    if ka is int and kb is int:
        return bool(a == b)
    if ka is float and kb is float:
        # Double.equals compares bits: NaN equals NaN, 0.0 differs from -0.0.
        return (a == b and str(a) == str(b)) or (a != a and b != b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(java_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(java_equal(a[k], b[k]) for k in a)
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a == b and str(a) == str(b)  # BigDecimal.equals includes the scale
    return False


def node_equals(left: Any, right: Any) -> bool:
    """``left.equals(right)`` for two value nodes."""
    # Type checks by `type() is` (exact Java node classes, and fast); mypy does not narrow on them.
    kind = type(left)
    if kind is str:
        other = type(right)
        if other is str:
            same: bool = left == right
            return same
        if other is Decimal:
            same = left == str(right)  # StringNode vs NumberNode: compare with the number's text
            return same
        return False
    if kind is Decimal:
        other = type(right)
        if other is Decimal:
            same = left == right  # BigDecimal.compareTo: 1 == 1.0
            return same
        if other is str:
            number = parse_big_decimal(right)
            return number is not None and left == number
        return False
    if kind is bool:
        return type(right) is bool and left == right
    if left is None:
        return right is None
    if kind is list or kind is dict:
        return (type(right) is list or type(right) is dict) and java_equal(left, right)
    if kind is JsonLiteral:
        return type(right) is JsonLiteral and left.text == right.text
    # UndefinedNode equals nothing; patterns and path nodes only themselves.
    return left is right and left is not UNDEFINED


def equals(left: Any, right: Any) -> bool:
    """The ``==`` operator."""
    if is_json(left) and is_json(right):
        if type(left) is JsonLiteral:
            return False  # Jayway compares the literal's *text* with the other side's parsed value
        return java_equal(left, json_value(right))
    return node_equals(left, right)


def not_equals(left: Any, right: Any) -> bool:
    return not equals(left, right)


def _node_class(node: Any) -> str:
    if node is UNDEFINED:
        return "undefined"
    if is_json(node):
        return "json"
    if isinstance(node, JavaPattern):
        return "pattern"
    if isinstance(node, PathLikeString):
        return "path"
    return type(node).__name__


def type_safe_equals(left: Any, right: Any) -> bool:
    """``===``: same node class, then ``==``."""
    return _node_class(left) == _node_class(right) and equals(left, right)


def type_safe_not_equals(left: Any, right: Any) -> bool:
    return not type_safe_equals(left, right)


def _ordering(left: Any, right: Any) -> int | None:
    kl, kr = type(left), type(right)
    if kl is Decimal:
        if kr is Decimal:
            order: int = (left > right) - (left < right)
            return order
        if kr is str:
            return compare_strings(str(left), right)
        return None
    if kl is str:
        if kr is str:
            return compare_strings(left, right)
        if kr is Decimal:
            return compare_strings(left, str(right))
    return None


def less_than(left: Any, right: Any) -> bool:
    order = _ordering(left, right)
    return order is not None and order < 0


def less_or_equal(left: Any, right: Any) -> bool:
    order = _ordering(left, right)
    return order is not None and order <= 0


def greater_than(left: Any, right: Any) -> bool:
    order = _ordering(left, right)
    return order is not None and order > 0


def greater_or_equal(left: Any, right: Any) -> bool:
    order = _ordering(left, right)
    return order is not None and order >= 0


def value_list(node: Any) -> list[Any] | None:
    """``JsonNode.asValueListNode``: element nodes of an array, ``None`` (UNDEFINED) otherwise."""
    kind = type(node)
    if kind is list:
        return [element_node(item, is_path) for item in node]
    if kind is JsonLiteral:
        elements: list[Any] | FilterEvaluationError | None = node.elements
        if isinstance(elements, FilterEvaluationError):
            raise elements
        return elements
    return None


def _list_operand(node: Any, operator: str, side: str) -> list[Any] | None:
    if is_json(node):
        return value_list(node)
    raise SoftEvaluationError(f"'{operator}' needs an array on the {side}, got {describe(node)}")


def regex_input(node: Any) -> str:
    """The text ``=~`` matches: strings, number text, ``true``/``false``; otherwise ``""``."""
    kind = type(node)
    if kind is str:
        text: str = node
        return text
    if kind is Decimal:
        return str(node)
    if kind is bool:
        return "true" if node else "false"
    return ""


def regex_matches(left: Any, right: Any) -> bool:
    left_is_pattern = type(left) is JavaPattern
    if left_is_pattern == (type(right) is JavaPattern):
        return False
    pattern, subject = (left, right) if left_is_pattern else (right, left)
    if is_json(subject) and isinstance(json_value(subject), list):
        elements = value_list(subject) or []
        return any(pattern.full_match(regex_input(element)) for element in elements)
    matched: bool = pattern.full_match(regex_input(subject))
    return matched


def is_in(left: Any, right: Any) -> bool:
    elements = _list_operand(right, "in", "right")
    if elements is None:
        return False
    return any(node_equals(left, element) for element in elements)


def not_in(left: Any, right: Any) -> bool:
    return not is_in(left, right)


def subset_of(left: Any, right: Any) -> bool:
    superset = _list_operand(right, "subsetof", "right")
    if superset is None:
        return False
    subset = _list_operand(left, "subsetof", "left")
    if subset is None:
        return False
    return all(any(node_equals(item, other) for other in superset) for item in subset)


def _overlaps(left: Any, right: Any, operator: str) -> bool | None:
    right_items = _list_operand(right, operator, "right")
    if right_items is None:
        return None
    left_items = _list_operand(left, operator, "left")
    if left_items is None:
        return None
    return any(node_equals(item, other) for item in left_items for other in right_items)


def any_of(left: Any, right: Any) -> bool:
    return _overlaps(left, right, "anyof") is True


def none_of(left: Any, right: Any) -> bool:
    return _overlaps(left, right, "noneof") is False


def size(left: Any, right: Any) -> bool:
    if type(right) is not Decimal:
        return False
    expected = int_value(right)
    if type(left) is str:
        return utf16_length(left) == expected
    if is_json(left):
        value = json_value(left)
        return (len(value) if isinstance(value, list) else -1) == expected
    return False


def _boolean(node: Any, operator: str) -> bool:
    if type(node) is not bool:
        raise SoftEvaluationError(f"'{operator}' needs true or false on the right, got {describe(node)}")
    return node


def empty(left: Any, right: Any) -> bool:
    if type(left) is str:
        return (not left) == _boolean(right, "empty")
    if is_json(left):
        value = json_value(left)
        if not isinstance(value, list):
            # JsonNode.isEmpty casts the map to Collection: ClassCastException since Jayway 2.5.
            raise FilterEvaluationError("'empty' cannot test an object (Jayway raises ClassCastException)")
        return (not value) == _boolean(right, "empty")
    return False


def contains(left: Any, right: Any) -> bool:
    if type(left) is str and type(right) is str:
        return right in left
    if is_json(left):
        elements = value_list(left)
        return elements is not None and any(node_equals(right, element) for element in elements)
    return False


def exists_operator(left: Any, right: Any) -> bool:
    """The ``exists`` *operator* (``$.a exists true``), not the bare-path existence test."""
    if type(left) is not bool and type(right) is not bool:
        raise FilterEvaluationError("Failed to evaluate exists expression")
    if type(left) is not bool or type(right) is not bool:
        raise SoftEvaluationError(f"'exists' compares booleans, got {describe(left)} and {describe(right)}")
    return left == right


def _unsatisfiable(operator: str) -> Comparator:
    def evaluate(left: Any, right: Any) -> bool:
        raise SoftEvaluationError(
            f"'{operator}' cannot be used in a filter string (Jayway fails to evaluate it)"
        )

    return evaluate


OPERATORS: dict[str, Comparator] = {
    "==": equals,
    "!=": not_equals,
    "===": type_safe_equals,
    "!==": type_safe_not_equals,
    "<": less_than,
    "<=": less_or_equal,
    ">": greater_than,
    ">=": greater_or_equal,
    "=~": regex_matches,
    "IN": is_in,
    "NIN": not_in,
    "SUBSETOF": subset_of,
    "ANYOF": any_of,
    "NONEOF": none_of,
    "SIZE": size,
    "EMPTY": empty,
    "CONTAINS": contains,
    "EXISTS": exists_operator,
    "ALL": _unsatisfiable("all"),
    "TYPE": _unsatisfiable("type"),
    "MATCHES": _unsatisfiable("matches"),
}
"""Operator text (upper-cased, as Jayway's ``RelationalOperator.fromString``) to its evaluator."""
