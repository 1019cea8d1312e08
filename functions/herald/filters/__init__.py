"""Subscription filters: the Jayway JsonPath filter language, as Illumina Connected Analytics accepts it.

Usage::

    from herald.filters import compile_filter, FilterSyntaxError

    f = compile_filter("[?($.status == 'SUCCEEDED')]")   # FilterSyntaxError if invalid
    f.matches(payload)          # bool; never raises
    f.evaluate(payload)         # MatchResult(matched, error) -- error says why evaluation failed
    f.expression                # the source text

The reference is Jayway JsonPath 2.9.0 (github.com/json-path/JsonPath), read from its source:
``FilterCompiler`` (grammar), ``CharacterIndex`` (scanning), ``ValueNode``/``ValueNodes`` (value
conversion and equality), ``EvaluatorFactory``/``RelationalOperator`` (operators),
``LogicalExpressionNode`` (``&&``/``||``/``!``), ``PathCompiler`` and the ``*PathToken`` classes (paths),
``PredicatePathToken`` (error handling), ``PatternFlag`` (regex flags) and ``Utils.unescape``.
Module docstrings list the behaviours each part reproduces.

Decisions:

* **Context.** ICA applies the filter to the event payload itself, so ``$`` and ``@`` both mean the
  payload. The predicate is evaluated once, whatever the payload's JSON type (a top-level array is
  *not* iterated element by element as Jayway's ``$[?(...)]`` would; ICA payloads are objects).
* **Form.** Only ``[?(<expression>)]`` is accepted (surrounding whitespace is ignored); a bare
  ``$.status == 'X'`` is a FilterSyntaxError naming the expected form, as ICA requires the wrapper.
* **Errors.** What Jayway reports as ``InvalidPathException`` during evaluation makes the element
  under test not match (inside a nested ``[?(...)]`` the other elements are still tried); any other
  evaluation failure (e.g. ``in`` over an array of objects, ``empty`` on an object, a regex timeout)
  makes the payload not match. Either way :meth:`Filter.evaluate` records the reason. An error is
  not a ``false`` that ``!`` can invert: ``!(A)`` fails too when ``A`` fails.
* **Version.** Jayway's master branch (2025, PR #1044, after 2.9.0) makes an existence test of an
  empty array false; 2.9.0, the release ICA can be running, treats ``[?($.tags)]`` with
  ``tags: []`` -- and any indefinite path, even one selecting nothing -- as existing. We follow 2.9.0.
* **Surprises kept on purpose** (each has a test): numbers compare as BigDecimal (``1 == 1.0``,
  ``0.1`` is exact); ``1 == '1.0'`` is true but ``'1.0' == 1`` is false; ``$.missing != 'x'`` and
  ``$.missing nin [...]`` are true; ``$.missing =~ /.*/`` is true; ``'10' > 9`` compares text;
  ``=~`` must match the whole value; ``$.a&&$.b`` is one path (spaces separate tokens, and only
  spaces: a tab is part of a name); word operators need a space after them; ``!$.a == 1`` ignores
  the ``!``; an existence test of a ``$`` path inside a nested filter reads the current element.
* **Stricter than Jayway** (rejected at compile time instead of silently never matching): a malformed
  JSON literal (Jayway parses it lazily), ``[?]`` placeholders, functions with parameters, functions
  after an indefinite path, ``concat/append/first/last/index()``, and Java regex features ``regex``
  cannot run faithfully (see :mod:`.regexes`).
* **Limits.** At most 2000 characters (ICA's limit) and 32 levels of nesting (parentheses, ``!``,
  nested filters); regexes that can backtrack catastrophically are bounded to 50 ms per match; one
  evaluation may visit at most 200,000 nodes along its paths (``$..a..a..a`` explodes otherwise).
  Hitting a runtime bound fails that evaluation only, with a recorded reason.
* **Speed.** Filters compile to nested closures with direct dict lookups for simple paths; compiled
  filters are cached by expression text. No jsonpath-ng: see :mod:`.paths`.
"""

from __future__ import annotations

from .compiler import Filter, MatchResult, compile_filter
from .errors import FilterBoundError, FilterEvaluationError, FilterSyntaxError
from .parser import MAX_EXPRESSION_LENGTH, MAX_NESTING_DEPTH
from .paths import MAX_EVALUATION_STEPS
from .regexes import REGEX_TIMEOUT_SECONDS

__all__ = [
    "MAX_EVALUATION_STEPS",
    "MAX_EXPRESSION_LENGTH",
    "MAX_NESTING_DEPTH",
    "REGEX_TIMEOUT_SECONDS",
    "Filter",
    "FilterBoundError",
    "FilterEvaluationError",
    "FilterSyntaxError",
    "MatchResult",
    "compile_filter",
]
