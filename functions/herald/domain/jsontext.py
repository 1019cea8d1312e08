"""Strict, bounded JSON (RFC 8259): what Herald accepts is what every receiver can parse.

Python's `json` reads `NaN`, `Infinity` and numbers that overflow to infinity, and strings holding
lone surrogates; Herald would then deliver text that strict parsers (JavaScript's JSON.parse, Go,
Jackson) refuse. Deeply nested or enormous numbers raise errors that are not ValueError-shaped.
`loads` refuses all of them with one error that says why, and refuses JSON nested deeper or wider
than Herald's bounds (`herald.domain.limits`): the depth before parsing (a scan of the text whose cost
is bounded by the bound itself), the width right after.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from herald.domain.limits import MAX_JSON_DEPTH, MAX_JSON_MEMBERS


class NotJson(ValueError):
    """The text is not strict JSON; the message says where or why."""


class JsonTooComplex(NotJson):
    """Valid JSON, nested deeper or wider than Herald accepts; the message names the bound."""


def _no_constant(token: str) -> Any:
    raise NotJson(f"{token} is not a JSON value")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotJson(f"the number {text[:20]} is out of range")
    return value


_STRING = re.compile(r'"[^"]*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def nesting_depth(text: str, stop_after: int) -> int:
    """How deep the JSON text nests (arrays and objects), without parsing it; counting stops once
    it passes `stop_after`, so the scan costs at most that many passes over the text.

    Escapes go first (an escaped quote or backslash would confuse the next step), then strings
    (brackets inside them do not nest), then everything but brackets; each pass then removes the
    innermost pairs, so the number of passes is the depth. Invalid JSON gets some answer, and the
    parser that follows says what is wrong with it.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text.replace("\\\\", "").replace('\\"', "")))
    brackets = brackets.replace("{", "[").replace("}", "]")
    depth = 0
    while brackets and depth <= stop_after:
        inner = brackets.replace("[]", "")
        if inner == brackets:
            break  # unbalanced: not JSON
        brackets, depth = inner, depth + 1
    return depth


def check_shape(value: Any, max_depth: int = MAX_JSON_DEPTH, max_members: int = MAX_JSON_MEMBERS) -> None:
    """Raise JsonTooComplex if `value` nests deeper than `max_depth` containers or one of its
    objects or arrays has more than `max_members` members (the message names where)."""
    # (container, its depth, where it is: (parent's where, key) or None for the top)
    stack: list[tuple[Any, int, Any]] = [(value, 1, None)]
    while stack:
        node, depth, where = stack.pop()
        if depth > max_depth:
            raise JsonTooComplex(f"nested too deeply: more than {max_depth} levels (at {_where(where)})")
        if len(node) > max_members:
            raise JsonTooComplex(
                f"{_where(where)} has {len(node)} members; a JSON object or array may have at most "
                f"{max_members}"
            )
        pairs = node.items() if type(node) is dict else enumerate(node)
        for key, child in pairs:
            kind = type(child)
            if kind is dict or kind is list:
                stack.append((child, depth + 1, (where, key)))


def _where(where: Any) -> str:
    keys: list[Any] = []
    while where is not None:
        where, key = where
        keys.append(key)
    return "$" + "".join(f"[{k!r}]" if isinstance(k, str) else f"[{k}]" for k in reversed(keys))


def loads(text: str | bytes, max_depth: int = MAX_JSON_DEPTH, max_members: int = MAX_JSON_MEMBERS) -> Any:
    if isinstance(text, bytes | bytearray):
        try:
            # UTF-8 only (RFC 8259): `json` would guess UTF-16 or UTF-32 from the bytes.
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotJson(f"not UTF-8 text (byte {exc.start})") from None
    if nesting_depth(text, max_depth) > max_depth:
        raise JsonTooComplex(f"nested too deeply: more than {max_depth} levels")
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
        # Lone surrogates survive json.loads but not UTF-8: receivers could not decode them.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except NotJson:
        raise
    except RecursionError:
        raise NotJson("nested too deeply") from None
    except UnicodeError:
        raise NotJson("a string holds an unpaired surrogate (\\ud800-\\udfff)") from None
    except ValueError as exc:  # JSONDecodeError, or an integer beyond Python's 4300-digit limit
        raise NotJson(str(exc).split(":")[0]) from None
    # A container has at most one member more than the text has commas: few commas, no walk.
    if isinstance(value, dict | list) and text.count(",") >= max_members:
        check_shape(value, max_depth, max_members)
    return value


def nests_deeper_than(value: Any, max_depth: int) -> bool:
    """Whether `value` has containers more than `max_depth` levels deep (iterative; stops early)."""
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def cap_depth(value: Any, max_depth: int, marker: str) -> Any:
    """A copy of `value` whose containers deeper than `max_depth` levels are replaced by `marker`
    (for showing data stored before the depth bound existed; recursion is bounded by it)."""
    if not isinstance(value, dict | list):
        return value
    if max_depth <= 0:
        return marker
    if isinstance(value, dict):
        return {k: cap_depth(v, max_depth - 1, marker) for k, v in value.items()}
    return [cap_depth(v, max_depth - 1, marker) for v in value]
