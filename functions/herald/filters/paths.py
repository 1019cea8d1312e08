"""Paths inside filters (``$.a.b``, ``@['x'][0]``, ``$..name``, ``$.list[*].id``): parsing and evaluation.

Parsing follows Jayway's ``PathCompiler`` character by character, including its quirks (a property
name may contain any character but ``.``, ``[``, ``(`` and space; ``['a,b']`` is rejected; text after
a closing bracket at the very end of the path is ignored).

Evaluation follows Jayway's path tokens:

* A *definite* path (only single properties / single indexes) yields one value or nothing
  (``UNDEFINED``). A property of a non-object, an index of a non-array or an out-of-range index is
  "nothing", never an error.
* An *indefinite* path (``*``, ``..``, ``[0,1]``, ``[1:3]``, ``['a','b']`` before more segments,
  ``[?(...)]``) yields the array of everything it selects -- possibly empty -- and that array is what
  gets compared (``$..id == [1]``, ``'x' in $.a[*].tag``).
* Existence tests (``[?($.x)]``) evaluate with Jayway's ``REQUIRE_PROPERTIES``: a property missing on
  any branch makes the whole test false; an indefinite path that selects nothing still *exists* (its
  value is an empty array) -- that is Jayway 2.9.0, see the package docstring.

Simple definite paths are compiled to a direct dict/list lookup closure (~0.1 µs); everything else
goes through the general token walker. Both share the semantics above (the tests check they agree).
jsonpath-ng is not used: its semantics differ from Jayway's in the places listed above, and a
lookup closure is two orders of magnitude faster than its evaluator.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from .errors import (
    FilterBoundError,
    FilterEvaluationError,
    FilterSyntaxError,
    PathNotFound,
    SoftEvaluationError,
)
from .javatext import java_trim, unescape
from .scanner import CharacterIndex, is_digit
from .values import MISSING, UNDEFINED, node_of

Predicate = Callable[[Any, Any, "EvalContext | None"], bool]
"""A compiled filter: ``predicate(item, root, context) -> bool``."""
NestedCompiler = Callable[[str, str, int, int], Predicate]
"""Compiles a nested ``[?(...)]``: ``(expression, criteria_text, offset, depth) -> Predicate``."""

_INT32 = re.compile(r"-?\d+")
_SUPPORTED_FUNCTIONS = {"length", "size", "min", "max", "avg", "sum", "stddev", "keys"}
_UNSUPPORTED_FUNCTIONS = {"concat", "append", "first", "last", "index"}


MAX_EVALUATION_STEPS = 200_000
"""Path steps (nodes visited) one filter evaluation may take; ``$..a..a..a`` can otherwise explode."""


class EvalContext:
    """Per-evaluation state: Jayway's REQUIRE_PROPERTIES option and a step budget shared by all paths.

    Only filters with paths that need the general walker get one; simple lookups never touch it.
    """

    __slots__ = ("_strict", "budget", "require")

    def __init__(self, require: bool = False, budget: list[int] | None = None) -> None:
        self.require = require
        self.budget = budget if budget is not None else [MAX_EVALUATION_STEPS]
        self._strict: EvalContext | None = self if require else None

    def strict(self) -> EvalContext:
        """The same evaluation with REQUIRE_PROPERTIES on (existence tests)."""
        if self._strict is None:
            self._strict = EvalContext(True, self.budget)
        return self._strict


def _exhausted() -> FilterEvaluationError:
    return FilterBoundError(f"the filter's paths visited more than {MAX_EVALUATION_STEPS:,} nodes")


# -- tokens -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Property:
    names: tuple[str, ...]


@dataclass(frozen=True)
class Index:
    indexes: tuple[int, ...]


@dataclass(frozen=True)
class Slice:
    start: int | None
    stop: int | None


@dataclass(frozen=True)
class Wildcard:
    pass


@dataclass(frozen=True)
class Scan:
    pass


@dataclass(frozen=True)
class FilterStep:
    text: str
    predicate: Predicate


@dataclass(frozen=True)
class Function:
    name: str


Token = Property | Index | Slice | Wildcard | Scan | FilterStep | Function


# -- parsing ------------------------------------------------------------------------------------


class _PathParser(CharacterIndex):
    """Jayway's ``PathCompiler`` over ``text`` (positions reported relative to ``expression``)."""

    def __init__(
        self, expression: str, text: str, base: int, nested: NestedCompiler | None, depth: int
    ) -> None:
        super().__init__(text, 0, len(text) - 1)
        self.expression = expression
        self.base = base
        self.nested = nested
        self.depth = depth
        self.tokens: list[Token] = []

    # CharacterIndex helpers; reads outside the path count as a space.
    def char(self, index: int) -> str:
        return self.s[index] if 0 <= index <= self.end else " "

    def error(self, message: str, position: int, expected: str) -> FilterSyntaxError:
        return FilterSyntaxError(
            f"invalid path {self.s!r}: {message}",
            expression=self.expression,
            position=self.base + max(0, position),
            expected=expected,
        )

    def fail(self, message: str, at: int | None = None, expected: str = "a valid path") -> FilterSyntaxError:
        """:meth:`error` at ``at`` or, by default, at the cursor."""
        return self.error(message, self.pos if at is None else at, expected)

    def next_significant_is(self, index: int, ch: str) -> bool:
        found = self.next_significant(index)
        return found != -1 and self.s[found] == ch

    def parse(self) -> list[Token]:
        s = self.s
        while self.pos < self.end and s[self.pos] == " ":
            self.pos += 1
        while self.end > self.pos and s[self.end] == " ":
            self.end -= 1
        if self.char(self.end) == ".":
            raise self.fail("a path must not end with '.' or '..'", self.end, "a property name after '.'")
        if self.char(self.pos) not in "$@":
            raise self.fail("a path must start with '$' or '@'", self.pos, "'$' or '@'")
        if self.pos >= self.end:
            return self.tokens
        self.pos += 1
        if self.char(self.pos) not in ".[":
            raise self.fail("expected '.' or '[' after the root", self.pos, "'.' or '['")
        while True:
            was_dot = self.read_token()
            if not was_dot and self.pos >= self.end:
                break
        self._check_functions()
        return self.tokens

    def read_token(self) -> bool:
        """Read one token; True if it was '.' or '..' (which must be followed by another token)."""
        c = self.char(self.pos)
        if c == "[":
            if not (
                self.bracket_property()
                or self.array_token()
                or self.wildcard()
                or self.filter_token()
                or self.placeholder()
            ):
                raise self.fail("could not parse the bracket", expected="['name'], [0], [*] or [?(...)]")
            return False
        if c == ".":
            self.dot()
            return True
        if c == "*":
            if not self.wildcard():
                raise self.fail("could not parse '*'")
            return False
        if not self.property_or_function():
            raise self.fail("could not parse the path segment", expected="a property name")
        return False

    def dot(self) -> None:
        if self.char(self.pos + 1) == "." and self.pos + 1 <= self.end:
            self.tokens.append(Scan())
            self.pos += 2
        elif self.pos + 1 > self.end:
            raise self.fail("a path must not end with '.'", expected="a property name")
        else:
            self.pos += 1
        if self.char(self.pos) == ".":
            raise self.fail("'.' is not valid here", expected="a property name")

    def property_or_function(self) -> bool:
        s = self.s
        if self.char(self.pos) in "[*. ":
            return False
        start = read = self.pos
        stop = 0
        is_function = False
        while read <= self.end:
            c = s[read]
            if c == " ":
                raise self.fail("use the bracket notation ['my prop'] for names with spaces", read)
            if c in ".[":
                stop = read
                break
            if c == "(":
                is_function, stop = True, read
                break
            read += 1
        if stop == 0:
            stop = self.end + 1
        name = s[start:stop]
        if is_function:
            if read + 1 <= self.end and s[read + 1] != ")":
                raise self.fail("functions with parameters are not supported", read + 1, "')'")
            self.pos = read + 1 if read + 1 <= self.end else read
            if name in _UNSUPPORTED_FUNCTIONS:
                raise self.fail(f"the function {name}() is not supported", start, "a supported function")
            self.tokens.append(Function(name))
        else:
            self.pos = stop
            self.tokens.append(Property((name,)))
        return True

    def bracket_property(self) -> bool:
        s = self.s
        if self.char(self.pos) != "[":
            return False
        delim_at = self.next_significant(self.pos)
        delim = self.char(delim_at) if delim_at != -1 else " "
        if delim not in "'\"":
            return False
        names: list[str] = []
        start = read = self.pos + 1
        end_quote = 0
        in_name = escaped = last_was_comma = False
        while read <= self.end:
            c = s[read]
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == "]" and not in_name:
                if last_was_comma:
                    raise self.fail("empty property name", read, "a quoted property name")
                break
            elif c == delim:
                if in_name:
                    after = self.next_significant(read)
                    if after == -1 or s[after] not in "],":
                        raise self.fail(
                            "properties must be separated by ',' and closed by ']'", read, "',' or ']'"
                        )
                    end_quote = read
                    try:
                        names.append(unescape(s[start:end_quote]))
                    except ValueError as exc:
                        raise self.fail(str(exc), start) from None
                    in_name = False
                else:
                    start, in_name, last_was_comma = read + 1, True, False
            elif c == ",":
                # Jayway counts commas even inside quotes, so ['a,b'] is an "empty property" error.
                if last_was_comma:
                    raise self.fail("empty property name", read, "a quoted property name")
                last_was_comma = True
            read += 1
        if in_name:
            raise self.fail(f"property name not closed, missing {delim}", start - 1, delim)
        close = self.next_significant(end_quote)
        if close == -1 or s[close] != "]" or not names:
            raise self.fail("property bracket not closed", self.pos, "']'")
        self.pos = close + 1
        self.tokens.append(Property(tuple(names)))
        return True

    def array_token(self) -> bool:
        s = self.s
        if self.char(self.pos) != "[":
            return False
        nxt = self.char(self.next_significant(self.pos))
        if not (is_digit(nxt) or nxt in "-:"):
            return False
        begin = self.pos + 1
        close = s.find("]", begin, self.end + 1)
        if close == -1:
            return False
        body = java_trim(s[begin:close])
        if body == "*" or not all(is_digit(c) or c in ",-: " for c in body):
            return False
        if ":" in body:
            self.tokens.append(self._slice(body, begin))
        else:
            self.tokens.append(self._indexes(body, begin))
        self.pos = close + 1
        return True

    def _int(self, text: str, at: int) -> int:
        if not _INT32.fullmatch(text) or not -(2**31) <= int(text) < 2**31:
            raise self.fail(f"invalid array index {text!r}", at, "an integer")
        return int(text)

    def _slice(self, body: str, at: int) -> Slice:
        if " " in body:
            raise self.fail(f"invalid slice [{body}]", at, "[from:to]")
        parts = body.split(":")
        while parts and parts[-1] == "":
            parts.pop()  # Java's String.split drops trailing empty strings
        start = self._int(parts[0], at) if len(parts) > 0 and parts[0] != "" else None
        stop = self._int(parts[1], at) if len(parts) > 1 and parts[1] != "" else None
        if start is None and stop is None:
            raise self.fail(f"invalid slice [{body}]", at, "[from:], [:to] or [from:to]")
        return Slice(start, stop)

    def _indexes(self, body: str, at: int) -> Index:
        return Index(tuple(self._int(part, at) for part in re.split(r"\s*,\s*", body)))

    def wildcard(self) -> bool:
        in_bracket = self.char(self.pos) == "["
        if in_bracket and not self.next_significant_is(self.pos, "*"):
            return False
        if self.char(self.pos) != "*" and self.pos + 1 > self.end:
            return False
        if in_bracket:
            star = self.next_significant(self.pos)
            if not self.next_significant_is(star, "]"):
                raise self.fail("expected ']' after '*'", star + 1, "']'")
            self.pos = self.next_significant(star) + 1
        else:
            self.pos += 1
        self.tokens.append(Wildcard())
        return True

    def filter_token(self) -> bool:
        s = self.s
        if self.char(self.pos) != "[":
            return False
        question = self.next_significant(self.pos)
        if question == -1 or s[question] != "?":
            return False
        open_paren = self.next_significant(question)
        if open_paren == -1 or s[open_paren] != "(":
            return False
        close_paren = self.matching_close(open_paren, "(", ")", skip_regex=True)
        if close_paren == -1 or not self.next_significant_is(close_paren, "]"):
            return False
        close = self.next_significant(close_paren)
        criteria = s[self.pos : close + 1]
        if self.nested is None:
            raise self.fail("nested filters are not available here")
        predicate = self.nested(self.expression, criteria, self.base + self.pos, self.depth + 1)
        self.tokens.append(FilterStep(criteria, predicate))
        self.pos = close + 1
        return True

    def placeholder(self) -> bool:
        question = self.next_significant(self.pos)
        if question == -1 or self.s[question] != "?":
            return False
        if self.char(self.next_significant(question)) not in "],":
            return False
        raise self.fail("'[?]' placeholders need predicates, which a filter string cannot supply")

    def _check_functions(self) -> None:
        for i, token in enumerate(self.tokens):
            if isinstance(token, Function):
                if i != len(self.tokens) - 1:
                    raise self.fail(
                        f"the function {token.name}() must be the last segment", expected="end of path"
                    )
                if not _all_definite(self.tokens[:i]):
                    raise self.fail(
                        f"{token.name}() after a wildcard, deep scan, slice or filter is not supported",
                        expected="a definite path before the function",
                    )


def _token_definite(token: Token, leaf: bool) -> bool:
    if isinstance(token, Property):
        return len(token.names) == 1 or leaf
    if isinstance(token, Index):
        return len(token.indexes) == 1
    return isinstance(token, Function)


def _all_definite(tokens: list[Token] | tuple[Token, ...]) -> bool:
    return all(_token_definite(t, i == len(tokens) - 1) for i, t in enumerate(tokens))


_nested_hook: NestedCompiler | None = None


def register_nested_compiler(compiler: NestedCompiler) -> None:
    """Called once by the filter compiler so :func:`is_path` can validate nested filters."""
    global _nested_hook
    _nested_hook = compiler


def is_path(text: str) -> bool:
    """``ValueNode.isPath``: would Jayway read this array element string as a path?"""
    # Only short strings are cached: payload strings are unbounded and the cache keeps them alive.
    return _is_path_cached(text) if len(text) <= 256 else _is_path(text)


@lru_cache(maxsize=1024)
def _is_path_cached(text: str) -> bool:
    return _is_path(text)


def _is_path(text: str) -> bool:
    trimmed = java_trim(text)
    if not trimmed or trimmed[0] not in "$@":
        return False
    try:
        _PathParser(trimmed, trimmed, 0, _nested_hook, 0).parse()
    except FilterSyntaxError:
        return False
    return True


# -- evaluation ---------------------------------------------------------------------------------


class CompiledPath:
    """A parsed path, evaluated against ``$`` (the root) or ``@`` (the current item)."""

    __slots__ = ("_definite", "_getter", "_leaf", "_upstream", "from_root", "text", "tokens")

    def __init__(self, text: str, from_root: bool, tokens: list[Token], fast: bool = True) -> None:
        self.text = text
        self.from_root = from_root
        self.tokens = tuple(tokens)
        count = len(self.tokens)
        self._leaf = tuple(i == count - 1 for i in range(count))
        token_definite = [_token_definite(t, self._leaf[i]) for i, t in enumerate(self.tokens)]
        self._upstream = tuple(all(token_definite[:i]) for i in range(count))
        self._definite = all(token_definite)
        # ``fast=False`` forces the general walker (tests compare the two).
        self._getter = _fast_getter(self.tokens) if fast else None

    @property
    def definite(self) -> bool:
        return self._definite

    @property
    def simple_getter(self) -> Callable[[Any], Any] | None:
        """A direct lookup returning the raw value or MISSING, when the path allows one."""
        return self._getter

    def value(self, item: Any, root: Any, context: EvalContext | None) -> Any:
        """The node Jayway compares: the value, UNDEFINED, or (indefinite paths) the result list.

        ``context`` may be None only for a path with a :attr:`simple_getter` (which never uses it).
        """
        start = root if self.from_root else item
        if self._getter is not None:
            raw = self._getter(start)
            return UNDEFINED if raw is MISSING else node_of(raw)
        assert context is not None, "a path that walks needs an EvalContext"
        results: list[Any] = []
        try:
            self._walk(0, start, root, context, results)
        except PathNotFound:
            return UNDEFINED
        if self._definite:
            return node_of(results[-1]) if results else UNDEFINED
        return results

    def exists(self, item: Any, root: Any, context: EvalContext | None) -> bool:
        """The bare-path test ``[?(@.x)]``: evaluated with REQUIRE_PROPERTIES.

        Jayway evaluates it from the current item even for a ``$`` path (``PathNode.evaluate``
        passes ``ctx.item()`` as the document); at the top level item and root are the payload.
        """
        start = item
        if self._getter is not None:
            return self._getter(start) is not MISSING
        assert context is not None, "a path that walks needs an EvalContext"
        results: list[Any] = []
        try:
            self._walk(0, start, root, context.strict(), results)
        except PathNotFound:
            return False
        return bool(results) if self._definite else True

    # The walker mirrors Jayway's PathToken.evaluate implementations.
    def _walk(self, i: int, model: Any, root: Any, context: EvalContext, out: list[Any]) -> None:
        budget = context.budget
        budget[0] -= 1
        if budget[0] < 0:
            raise _exhausted()
        tokens = self.tokens
        if i == len(tokens):
            out.append(model)
            return
        # Dispatched on `kind` (one type() call, compared by identity); mypy does not narrow
        # through it, hence Any.
        token: Any = tokens[i]
        kind = type(token)
        if kind is Property:
            if not isinstance(model, dict):
                if self._upstream[i]:
                    raise PathNotFound
                return
            names = token.names
            if len(names) == 1:
                self._property(i, names[0], model, root, context, out, True)
            elif self._leaf[i]:
                merged = {}
                for name in names:
                    if name in model:
                        merged[name] = model[name]
                    elif context.require:
                        raise PathNotFound
                out.append(merged)
            else:
                for name in names:
                    self._property(i, name, model, root, context, out, False)
        elif kind is Index or kind is Slice:
            if not isinstance(model, (list, tuple)):
                if self._upstream[i]:
                    raise PathNotFound
                return
            for index in _array_indexes(token, len(model)):
                self._walk(i + 1, model[index], root, context, out)
        elif kind is Wildcard:
            if isinstance(model, dict):
                for key in model:
                    self._property(i, key, model, root, context, out, False)
            elif isinstance(model, (list, tuple)):
                for element in model:
                    try:
                        self._walk(i + 1, element, root, context, out)
                    except PathNotFound:
                        if context.require:
                            raise
        elif kind is Scan:
            self._scan(i + 1, model, root, context, out)
        elif kind is FilterStep:
            predicate = token.predicate
            if isinstance(model, dict):
                if _accept(predicate, model, root, context):
                    self._walk(i + 1, model, root, context, out)
            elif isinstance(model, (list, tuple)):
                for element in model:
                    if _accept(predicate, element, root, context):
                        self._walk(i + 1, element, root, context, out)
            elif self._upstream[i]:
                raise SoftEvaluationError(f"the filter {token.text} cannot be applied to a primitive value")
        else:
            out.append(_call_function(token.name, model))

    def _property(
        self,
        i: int,
        name: str,
        model: dict[str, Any],
        root: Any,
        context: EvalContext,
        out: list[Any],
        definite: bool,
    ) -> None:
        if name not in model:
            if self._leaf[i]:
                if context.require:
                    raise PathNotFound
                return
            if not (self._upstream[i] and definite) and not context.require:
                return
            raise PathNotFound
        self._walk(i + 1, model[name], root, context, out)

    def _scan(self, target: int, model: Any, root: Any, context: EvalContext, out: list[Any]) -> None:
        """``ScanPathToken.walk``: visit every node, applying the next token where its kind fits."""
        token = self.tokens[target]
        leaf = self._leaf[target]
        stack = [model]
        # Iterative pre-order walk (payloads may be deeper than Python's recursion limit).
        budget = context.budget
        while stack:
            budget[0] -= 1
            if budget[0] < 0:
                raise _exhausted()
            node = stack.pop()
            if isinstance(node, dict):
                if self._scan_matches(token, target, node, root, context):
                    self._walk(target, node, root, context, out)
                stack.extend(reversed(list(node.values())))
            elif isinstance(node, (list, tuple)):
                if self._scan_matches(token, target, node, root, context):
                    if leaf:
                        self._walk(target, node, root, context, out)
                    else:
                        # Jayway applies the token *after* the matched one to each element here.
                        for element in node:
                            self._walk(target + 1, element, root, context, out)
                stack.extend(reversed(node))

    def _scan_matches(self, token: Any, index: int, node: Any, root: Any, context: EvalContext) -> bool:
        """Does the scan's target `token` (a Token, dispatched on its exact type) apply to `node`?"""
        kind = type(token)
        if kind is Property:
            if not isinstance(node, dict):
                return False
            if not _token_definite(token, self._leaf[index]):
                return True
            return all(name in node for name in token.names)
        if kind is Index or kind is Slice:
            return isinstance(node, (list, tuple))
        if kind is Wildcard:
            return True
        if kind is FilterStep:
            return _accept(token.predicate, node, root, context)
        return False


def _accept(predicate: Predicate, item: Any, root: Any, context: EvalContext) -> bool:
    """``PredicatePathToken.accept``: an InvalidPathException means "this element does not match"."""
    try:
        return predicate(item, root, context)
    except SoftEvaluationError:
        return False


def _array_indexes(token: Index | Slice, length: int) -> list[int]:
    if isinstance(token, Index):
        result = []
        for index in token.indexes:
            effective = length + index if index < 0 else index
            if 0 <= effective < length:
                result.append(effective)
        return result
    start, stop = token.start, token.stop
    if start is not None and stop is None:  # [from:]
        begin = max(0, length + start if start < 0 else start)
        return list(range(begin, length))
    if start is None:  # [:to]
        assert stop is not None
        if length == 0:
            return []
        end = min(length, length + stop if stop < 0 else stop)
        return list(range(0, max(0, end)))
    assert stop is not None  # [from:to]: Jayway does not adjust negative bounds here
    end = min(length, stop)
    if start >= end or length == 0:
        return []
    return [
        i if i >= 0 else length + i for i in range(start, end) if 0 <= (i if i >= 0 else length + i) < length
    ]


def _fast_getter(tokens: tuple[Token, ...]) -> Callable[[Any], Any] | None:
    steps: list[tuple[bool, Any]] = []
    for token in tokens:
        if isinstance(token, Property) and len(token.names) == 1:
            steps.append((True, token.names[0]))
        elif isinstance(token, Index) and len(token.indexes) == 1:
            steps.append((False, token.indexes[0]))
        else:
            return None
    if not steps:
        return lambda model: model
    if all(is_key for is_key, _ in steps) and len(steps) <= 3:
        return _key_getter(*[key for _, key in steps])

    def get(model: Any) -> Any:
        for is_key, key in steps:
            if is_key:
                if not isinstance(model, dict) or key not in model:
                    return MISSING
            elif not isinstance(model, (list, tuple)) or not -len(model) <= key < len(model):
                return MISSING
            model = model[key]
        return model

    return get


def _key_getter(*keys: str) -> Callable[[Any], Any]:
    # dict.get with a sentinel: no exception on the common "key absent" path.
    if len(keys) == 1:
        (k1,) = keys

        def get1(model: Any) -> Any:
            return model.get(k1, MISSING) if isinstance(model, dict) else MISSING

        return get1
    if len(keys) == 2:
        k1, k2 = keys

        def get2(model: Any) -> Any:
            if isinstance(model, dict):
                value = model.get(k1, MISSING)
                if isinstance(value, dict):
                    return value.get(k2, MISSING)
            return MISSING

        return get2
    k1, k2, k3 = keys

    def get3(model: Any) -> Any:
        if isinstance(model, dict):
            value = model.get(k1, MISSING)
            if isinstance(value, dict):
                value = value.get(k2, MISSING)
                if isinstance(value, dict):
                    return value.get(k3, MISSING)
        return MISSING

    return get3


def _call_function(name: str, model: Any) -> Any:
    """Jayway's path functions (the parameterless ones)."""
    if name in ("length", "size"):
        return len(model) if isinstance(model, (list, tuple, dict)) else None
    if name == "keys":
        if isinstance(model, dict):
            # KeySetFunction returns a Set, which PathNode cannot turn into a value node.
            raise FilterEvaluationError("keys() yields a set, which Jayway cannot compare")
        return None
    if name in ("min", "max", "avg", "sum", "stddev"):
        return _aggregate(name, model)
    raise SoftEvaluationError(f"Function with name: {name} does not exist.")


def _aggregate(name: str, model: Any) -> float:
    numbers: list[float] = []
    if isinstance(model, (list, tuple)):
        for item in model:
            if isinstance(item, (int, float, Decimal)) and not isinstance(item, bool):
                try:
                    numbers.append(float(item))  # Number.doubleValue()
                except OverflowError:
                    numbers.append(math.copysign(math.inf, item))
    if not numbers:
        raise FilterEvaluationError("Aggregation function attempted to calculate value using empty array")
    # Same accumulation order and start values as Jayway's Min/Max/Sum/Average/StandardDeviation.
    if name == "min":
        low = sys.float_info.max
        for number in numbers:
            low = number if low > number else low
        return low
    if name == "max":
        high = -sys.float_info.max
        for number in numbers:
            high = number if high < number else high
        return high
    total = squares = 0.0
    for number in numbers:
        total += number
        squares += number * number
    count = float(len(numbers))
    if name == "sum":
        return total
    if name == "avg":
        return total / count
    variance = squares / count - total * total / count / count
    return math.sqrt(variance) if variance >= 0 else math.nan


def compile_path(
    expression: str, text: str, base: int = 0, nested: NestedCompiler | None = None, depth: int = 0
) -> CompiledPath:
    """Parse a path that starts at ``expression[base]``; raise FilterSyntaxError with positions.

    Nested ``[?(...)]`` filters are compiled with ``nested``, by default the filter compiler's.
    """
    tokens = _PathParser(expression, text, base, nested or _nested_hook, depth).parse()
    return CompiledPath(text, java_trim(text)[:1] == "$", tokens)
