"""Errors raised while compiling a filter, and the ones used internally while evaluating it.

Jayway distinguishes two kinds of evaluation failure, and the distinction is observable:

* ``InvalidPathException`` is caught by the filter that is being applied: the element under test
  simply does not match (inside a nested ``[?(...)]`` the other elements are still tried).
* Any other exception (``JsonPathException``, ``ClassCastException``, ...) escapes the whole read.

:class:`SoftEvaluationError` models the first, :class:`FilterEvaluationError` the second. At the top
level both mean "no match"; :meth:`Filter.evaluate` reports the reason.
"""

from __future__ import annotations


class FilterSyntaxError(ValueError):
    """The expression is not a valid Jayway filter.

    ``position`` is the 0-based index in ``expression`` where the problem was found and ``expected``
    names what would have been valid there.
    """

    def __init__(self, message: str, *, expression: str, position: int, expected: str) -> None:
        self.message = message
        self.expression = expression
        self.position = max(0, min(position, len(expression)))
        self.expected = expected
        super().__init__(f"{message} at position {self.position} (expected {expected})")

    def caret(self) -> str:
        """The expression on one line and a caret under the error position on the next."""
        # Control characters would break the alignment of the caret, so show them as spaces.
        shown = "".join(" " if ch in "\t\r\n\f\v" else ch for ch in self.expression)
        return f"{shown}\n{' ' * self.position}^"


class FilterEvaluationError(Exception):
    """Evaluating the filter against one payload failed; the payload does not match.

    Raised internally only: :meth:`Filter.matches` returns ``False`` and :meth:`Filter.evaluate`
    returns the message as ``MatchResult.error``.
    """


class FilterBoundError(FilterEvaluationError):
    """The evaluation hit one of its bounds (a regex's time limit, the path-node limit): the filter
    is costly on this payload, which routing counts against it (see herald.logic.routing)."""


class SoftEvaluationError(FilterEvaluationError):
    """Jayway's ``InvalidPathException`` during evaluation: the element under test does not match."""


class PathNotFound(Exception):
    """Jayway's ``PathNotFoundException``: a definite path has no value. Never leaves the package."""
