"""Turns a parsed filter into nested Python closures, and the public :class:`Filter` object.

Each node becomes ``predicate(item, root, context) -> bool``: ``item`` is what ``@`` refers to (the
payload at the top level, the element under test inside a nested ``[?(...)]``), ``root`` what ``$``
refers to (always the payload), and ``context`` an :class:`~.paths.EvalContext` carrying Jayway's
REQUIRE_PROPERTIES option (on while evaluating an existence test) and the evaluation's step budget.
Filters whose paths are all simple lookups never need a context and get ``None``.

The common shapes -- a simple path compared with a string, a regex or a list -- get dedicated
closures that look the value up directly and only fall back to the general comparison when the value
is not a plain string. Everything else goes through :data:`.compare.OPERATORS`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import compare, regexes
from .errors import FilterBoundError, FilterEvaluationError, FilterSyntaxError
from .parser import MAX_EXPRESSION_LENGTH, FilterParser
from .paths import CompiledPath, EvalContext, Predicate, register_nested_compiler
from .regexes import JavaPattern
from .syntax import And, Comparison, Exists, Literal, Node, Not, Operand, Or, PathOperand
from .values import MISSING, UNDEFINED, node_of

Evaluator = Callable[[Any, Any, EvalContext | None], Any]
"""An operand: ``evaluator(item, root, context)`` is the value node it compares."""


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Outcome of :meth:`Filter.evaluate`. ``error`` says why evaluation failed (then no match)."""

    matched: bool
    error: str | None = None
    bound_hit: bool = False  # the error is a bound (regex timeout, path-node limit): a costly filter

    def __bool__(self) -> bool:
        return self.matched


class Filter:
    """A compiled filter. Compile once with :func:`compile_filter`, evaluate many times."""

    __slots__ = ("_needs_context", "_predicate", "expression", "size")

    def __init__(
        self, expression: str, predicate: Predicate, needs_context: bool = True, size: int = 0
    ) -> None:
        self.expression = expression
        self._predicate = predicate
        self._needs_context = needs_context
        self.size = size  # its regexes' compiled size together (what it weighs in the cache)

    def matches(self, payload: Any) -> bool:
        """True if the payload matches. Never raises: a failed evaluation is "no match"."""
        try:
            return self._predicate(payload, payload, EvalContext() if self._needs_context else None)
        except Exception:
            return False

    def evaluate(self, payload: Any) -> MatchResult:
        """Like :meth:`matches`, also telling why an evaluation failed."""
        try:
            context = EvalContext() if self._needs_context else None
            return MatchResult(self._predicate(payload, payload, context))
        except FilterBoundError as exc:
            return MatchResult(False, str(exc), bound_hit=True)
        except FilterEvaluationError as exc:
            return MatchResult(False, str(exc))
        except RecursionError:
            return MatchResult(False, "the payload is nested too deeply to evaluate")
        except Exception as exc:  # a bug here must not break delivery for other subscriptions
            return MatchResult(
                False, f"internal error while evaluating the filter: {type(exc).__name__}: {exc}"
            )

    def __repr__(self) -> str:
        return f"Filter({self.expression!r})"


# Compiled filters are cached by text, at most this many and at most this much compiled regex
# size together (~150 bytes a unit): 4096 filters with the largest regexes allowed would hold
# ~2.4 GB, more than a Lambda has.
CACHE_MAX_FILTERS = 4096
CACHE_MAX_SIZE = 50 * regexes.MAX_COMPILED_SIZE
_cache: OrderedDict[str, Filter] = OrderedDict()
_cache_size = 0
_cache_lock = threading.Lock()


def compile_filter(expression: str) -> Filter:
    """Compile a Jayway filter ``[?(<expression>)]``; raise FilterSyntaxError if it is invalid."""
    global _cache_size
    if not isinstance(expression, str):
        raise TypeError(f"a filter expression must be a str, not {type(expression).__name__}")
    with _cache_lock:
        cached = _cache.get(expression)
        if cached is not None:
            _cache.move_to_end(expression)
            return cached
    compiled = compile_uncached(expression)
    with _cache_lock:
        if expression not in _cache:
            _cache[expression] = compiled
            _cache_size += compiled.size
        while len(_cache) > CACHE_MAX_FILTERS or (_cache_size > CACHE_MAX_SIZE and len(_cache) > 1):
            _, evicted = _cache.popitem(last=False)
            _cache_size -= evicted.size
    return compiled


def clear_cache() -> None:
    global _cache_size
    with _cache_lock:
        _cache.clear()
        _cache_size = 0


def compile_uncached(expression: str) -> Filter:
    """:func:`compile_filter` without the cache (what a cache miss costs; the benchmark times it)."""
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise FilterSyntaxError(
            f"the filter is longer than {MAX_EXPRESSION_LENGTH} characters",
            expression=expression,
            position=MAX_EXPRESSION_LENGTH,
            expected=f"at most {MAX_EXPRESSION_LENGTH} characters",
        )
    lo, hi = 0, len(expression) - 1
    # Lenient about surrounding whitespace of any kind (Jayway trims only spaces).
    while lo <= hi and expression[lo].isspace():
        lo += 1
    while hi >= lo and expression[hi].isspace():
        hi -= 1
    if lo > hi:
        raise FilterSyntaxError(
            "the filter is empty",
            expression=expression,
            position=0,
            expected="a filter of the form [?(<expression>)]",
        )
    budget = regexes.MAX_COMPILED_SIZE
    try:
        # All of the filter's regexes, nested filters' included, share one compiled-size bound.
        with regexes.compile_budget(budget) as left:
            node = FilterParser(expression, lo, hi, 0, _compile_nested).parse()
    except RecursionError:  # defence in depth: every nesting construct is bounded already
        raise FilterSyntaxError(
            "the filter is nested too deeply", expression=expression, position=lo, expected="less nesting"
        ) from None
    return Filter(expression, compile_node(node), _needs_context(node), budget - left[0])


def _compile_nested(expression: str, criteria: str, offset: int, depth: int) -> Predicate:
    """A ``[?(...)]`` inside a path, which starts at ``expression[offset]``."""
    node = FilterParser(expression, offset, offset + len(criteria) - 1, depth, _compile_nested).parse()
    return compile_node(node)


register_nested_compiler(_compile_nested)


def _needs_context(node: Node) -> bool:
    """Does any path need the general walker (which uses the context)?"""
    if isinstance(node, Comparison):
        operands = (node.left, node.right)
        return any(isinstance(o, PathOperand) and o.path.simple_getter is None for o in operands)
    if isinstance(node, Exists):
        return node.path.simple_getter is None
    if isinstance(node, Not):
        return _needs_context(node.operand)
    return any(_needs_context(operand) for operand in node.operands)


# -- node compilation ---------------------------------------------------------------------------


def compile_node(node: Node) -> Predicate:
    if isinstance(node, Comparison):
        return _comparison(node)
    if isinstance(node, Exists):
        return _exists(node.path, node.should_exist)
    if isinstance(node, Not):
        inner = compile_node(node.operand)
        return lambda item, root, context: not inner(item, root, context)
    if isinstance(node, And):
        return _and([compile_node(operand) for operand in node.operands])
    if isinstance(node, Or):
        return _or([compile_node(operand) for operand in node.operands])
    raise TypeError(f"unknown filter node {node!r}")  # pragma: no cover


def _and(parts: list[Predicate]) -> Predicate:
    if len(parts) == 2:
        first, second = parts
        return lambda item, root, context: first(item, root, context) and second(item, root, context)

    def all_of(item: Any, root: Any, context: EvalContext | None) -> bool:
        return all(part(item, root, context) for part in parts)

    return all_of


def _or(parts: list[Predicate]) -> Predicate:
    if len(parts) == 2:
        first, second = parts
        return lambda item, root, context: first(item, root, context) or second(item, root, context)

    def any_of(item: Any, root: Any, context: EvalContext | None) -> bool:
        return any(part(item, root, context) for part in parts)

    return any_of


def _exists(path: CompiledPath, should_exist: bool) -> Predicate:
    # Jayway evaluates existence tests from the current item even for '$' paths.
    if should_exist:
        return lambda item, root, context: path.exists(item, root, context)
    return lambda item, root, context: not path.exists(item, root, context)


def _operand(operand: Operand) -> Evaluator:
    if isinstance(operand, Literal):
        value = operand.value
        return lambda item, root, context: value
    path = operand.path
    getter = path.simple_getter
    if getter is None:
        return path.value
    if path.from_root:

        def from_root(item: Any, root: Any, context: EvalContext | None) -> Any:
            raw = getter(root)
            if type(raw) is str:
                return raw
            return UNDEFINED if raw is MISSING else node_of(raw)

        return from_root

    def from_item(item: Any, root: Any, context: EvalContext | None) -> Any:
        raw = getter(item)
        if type(raw) is str:
            return raw
        return UNDEFINED if raw is MISSING else node_of(raw)

    return from_item


def _comparison(node: Comparison) -> Predicate:
    special = _specialised(node)
    if special is not None:
        return special
    evaluate = compare.OPERATORS[node.operator]
    left, right = _operand(node.left), _operand(node.right)
    return lambda item, root, context: evaluate(left(item, root, context), right(item, root, context))


def _specialised(node: Comparison) -> Predicate | None:
    """Fast closures for ``path == 'text'``, ``path != 'text'`` and ``path =~ /re/``."""
    left, right, operator = node.left, node.right, node.operator
    if not (isinstance(left, PathOperand) and isinstance(right, Literal)):
        return None
    getter = left.path.simple_getter
    if getter is None:
        return None
    from_root = left.path.from_root
    literal = right.value
    if operator in ("==", "!=") and type(literal) is str:
        negate = operator == "!="

        def string_equality(item: Any, root: Any, context: EvalContext | None) -> bool:
            raw = getter(root if from_root else item)
            if type(raw) is str:
                return (raw == literal) is not negate
            node_value = UNDEFINED if raw is MISSING else node_of(raw)
            return compare.equals(node_value, literal) is not negate

        return string_equality
    if operator == "=~" and isinstance(literal, JavaPattern) and not literal.timed:
        fullmatch = literal.compiled.fullmatch

        def regex_match(item: Any, root: Any, context: EvalContext | None) -> bool:
            raw = getter(root if from_root else item)
            if type(raw) is str:
                return fullmatch(raw) is not None
            node_value = UNDEFINED if raw is MISSING else node_of(raw)
            return compare.regex_matches(node_value, literal)

        return regex_match
    return None
