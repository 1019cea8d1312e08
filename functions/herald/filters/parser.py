"""The filter grammar, read the way Jayway's ``FilterCompiler`` reads it.

::

    filter      = "[" "?" "(" ... ")" "]"          (the outer parentheses are an ordinary group)
    or          = and { "||" and }
    and         = operand { "&&" operand }
    operand     = "!" operand | "(" or ")" | comparison
    comparison  = value [ operator value ]          (no operator: an existence test; path only)
    value       = path | "!" path | literal

Lexical rules that follow from Jayway's scanner, and are easy to get wrong:

* Only the space character separates tokens; tabs and newlines are ordinary characters.
* A path runs until a space, one of ``< > = ~ !``, or a ``)`` that does not close ``fn()``; ``[...]``
  segments are skipped whole. So ``$.a&&$.b`` is *one* path (property ``a&&$``, then ``b``).
* An operator is either a run of ``< > = ~ !`` characters or everything up to the next space, so
  word operators (``in``, ``nin``, ``size``...) need a space after them; they are case-insensitive.
* ``!`` before ``(`` or ``!`` negates; ``!`` before a path only matters for an existence test
  (``!$.a`` = "a does not exist"); ``!$.a == 1`` is the same as ``$.a == 1``.
* ``&&`` binds tighter than ``||``; both short-circuit left to right.
* Numbers are runs of digits, ``-``, ``.``, ``e``, ``E`` read as a BigDecimal (``1e3`` yes, ``1e+3`` no).
* Strings use ``'`` or ``"`` with backslash escapes; regexes are ``/.../`` followed by flags from
  ``dixmsuU``; ``[...]``/``{...}`` are JSON literals.
"""

from __future__ import annotations

from typing import Any

from .compare import OPERATORS
from .errors import FilterEvaluationError, FilterSyntaxError
from .javatext import parse_big_decimal, unescape
from .jsonliteral import JsonLiteralError, parse_json_literal
from .paths import NestedCompiler, compile_path, is_path
from .regexes import RegexDialectError, compile_java_pattern
from .scanner import CharacterIndex, is_digit
from .syntax import And, Comparison, Exists, Literal, Node, Not, Operand, Or, PathOperand
from .values import JsonLiteral, element_node

MAX_EXPRESSION_LENGTH = 2000
MAX_NESTING_DEPTH = 32

FORM = "[?(<expression>)]"
_OPERATOR_CHARS = "<>=~!"
_OPERATOR_NAMES = "==, !=, <, <=, >, >=, =~, in, nin, subsetof, anyof, noneof, size, empty, contains"
_WORD_OPERATORS = ("IN", "NIN", "SUBSETOF", "ANYOF", "NONEOF", "SIZE", "EMPTY", "CONTAINS")
_VALUE = "a value: a path ($... or @...), a 'string', a number, true, false, null, [...], {...} or /regex/"


class FilterParser(CharacterIndex):
    """Parses ``expression[lo:hi + 1]``, a ``[?(...)]`` filter, into a :data:`~.syntax.Node`."""

    def __init__(self, expression: str, lo: int, hi: int, depth: int, nested: NestedCompiler) -> None:
        super().__init__(expression, lo, hi)
        self.lo = lo
        self.depth = depth
        self.nested = nested

    def error(self, message: str, position: int, expected: str) -> FilterSyntaxError:
        return FilterSyntaxError(message, expression=self.s, position=position, expected=expected)

    # -- scanning helpers (besides CharacterIndex's) ---------------------------------------------------

    def cur(self) -> str:
        return self.s[self.pos] if self.pos <= self.end else ""

    def skip_blanks(self) -> int:
        while self.pos < self.end and self.s[self.pos] == " ":
            self.pos += 1
        return self.pos

    def has_significant(self, text: str) -> bool:
        self.skip_blanks()
        if self.pos + len(text) - 1 > self.end or not self.s.startswith(text, self.pos):
            return False
        self.pos += len(text)
        return True

    def read_significant(self, ch: str, context: str) -> None:
        self.skip_blanks()
        if self.cur() != ch:
            raise self.error(f"expected '{ch}' {context}", self.pos, f"'{ch}'")
        self.pos += 1

    def enter(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING_DEPTH:
            raise self.error(
                f"the filter is nested more than {MAX_NESTING_DEPTH} levels deep",
                position,
                "fewer nested parentheses, '!' or [?(...)]",
            )

    # -- grammar -----------------------------------------------------------------------------------

    def parse(self) -> Node:
        self._unwrap()
        node = self.parse_or()
        self.skip_blanks()
        if self.pos <= self.end:
            raise self.error("unexpected text after the filter expression", self.pos, "the end of the filter")
        return node

    def _unwrap(self) -> None:
        s, p, e = self.s, self.lo, self.end
        while p < e and s[p] == " ":
            p += 1
        while e > p and s[e] == " ":
            e -= 1
        if s[p : p + 1] != "[":
            raise self.error(f"a filter must have the form {FORM}", p, "'[' to start the filter")
        if s[e] != "]" or e == p:
            raise self.error(f"a filter must have the form {FORM}", e, "']' to end the filter")
        p, e = p + 1, e - 1
        while p < e and s[p] == " ":
            p += 1
        while e > p and s[e] == " ":
            e -= 1
        if p > e or s[p] != "?":
            raise self.error(f"a filter must have the form {FORM}", p, "'?' after '['")
        p += 1
        while p < e and s[p] == " ":
            p += 1
        if p > e or s[p] != "(":
            raise self.error(f"a filter must have the form {FORM}", p, "'(' after '[?'")
        if s[e] != ")" or e == p:
            raise self.error(f"a filter must have the form {FORM}", e, "')' before the closing ']'")
        self.pos, self.end = p, e

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while True:
            save = self.pos
            if self.has_significant("||"):
                operands.append(self.parse_and())
            else:
                self.pos = save
                break
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_operand()]
        while True:
            save = self.pos
            if self.has_significant("&&"):
                operands.append(self.parse_operand())
            else:
                self.pos = save
                break
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_operand(self) -> Node:
        save = self.skip_blanks()
        if self.cur() == "!":
            self.pos += 1
            self.skip_blanks()
            if self.cur() not in ("$", "@"):
                self.enter(save)
                operand = self.parse_operand()
                self.depth -= 1
                return Not(operand)
            self.pos = save  # "!$.x": the path reader sees the '!' (existence test)
        if self.cur() == "(":
            self.enter(self.pos)
            self.pos += 1
            node = self.parse_or()
            self.read_significant(")", "to close the parenthesis")
            self.depth -= 1
            return node
        return self.parse_comparison()

    def parse_comparison(self) -> Node:
        left_position = self.skip_blanks()
        left = self.read_value()
        save = self.pos
        operator_position = self.skip_blanks()
        operator = self.read_operator()
        if operator is not None:
            right = self.read_value()
            return Comparison(left, operator, right, operator_position)
        self.pos = save
        follows = self.s[operator_position : operator_position + 2]
        if not (follows in ("&&", "||") or follows[:1] == ")"):
            word = self._word_at(operator_position)
            hint = ""
            if any(word.upper().startswith(name) for name in _WORD_OPERATORS):
                hint = " (word operators such as 'in' need a space after them)"
            raise self.error(
                f"unknown operator {word!r}{hint}", operator_position, f"an operator ({_OPERATOR_NAMES})"
            )
        if not isinstance(left, PathOperand):
            raise self.error(
                "only a path can stand alone (as an existence test)",
                left_position,
                f"an operator ({_OPERATOR_NAMES}) after the value",
            )
        return Exists(left.path, left.should_exist)

    def _word_at(self, position: int) -> str:
        end = position
        while end <= self.end and self.s[end] != " ":
            end += 1
        return self.s[position:end] or self.s[position : position + 1]

    def read_operator(self) -> str | None:
        start = self.pos
        if self.cur() and self.cur() in _OPERATOR_CHARS:
            while self.pos <= self.end and self.s[self.pos] in _OPERATOR_CHARS:
                self.pos += 1
        else:
            while self.pos <= self.end and self.s[self.pos] != " ":
                self.pos += 1
        name = self.s[start : self.pos].upper()
        return name if name in OPERATORS else None

    def read_value(self) -> Operand:
        self.skip_blanks()
        c = self.cur()
        if c in ("$", "@"):
            return self.read_path()
        if c == "!":
            self.pos += 1
            self.skip_blanks()
            if self.cur() in ("$", "@"):
                return self.read_path()
            raise self.error("'!' must be followed by a path or '('", self.pos, "a path or '('")
        return self.read_literal()

    def read_path(self) -> PathOperand:
        s = self.s
        previous = self._previous_significant(self.pos)
        begin = self.pos
        self.pos += 1
        while self.pos <= self.end:
            if s[self.pos] == "[":
                close = self.matching_close(self.pos, "[", "]", skip_regex=False)
                if close == -1:
                    raise self.error("unclosed '[' in a path", self.pos, "']'")
                self.pos = close + 1
                if self.pos > self.end:
                    break
            c = s[self.pos]
            if c in _OPERATOR_CHARS or c == " " or (c == ")" and not self._closes_function(begin)):
                break
            self.pos += 1
        text = s[begin : self.pos]
        path = compile_path(self.s, text, begin, self.nested, self.depth)
        return PathOperand(path, previous != "!", begin)

    def _previous_significant(self, index: int) -> str:
        index -= 1
        while index >= self.lo and self.s[index] == " ":
            index -= 1
        return self.s[index] if index >= self.lo else " "

    def _closes_function(self, begin: int) -> bool:
        """Is the ``)`` at ``pos`` the end of ``.fn()`` (so part of the path)?"""
        index = self.pos - 1
        while index >= 0 and self.s[index] == " ":
            index -= 1
        if index < 0 or self.s[index] != "(":
            return False
        index -= 1
        while index > begin:
            if self.s[index] == ".":
                return True
            index -= 1
        return False

    # -- literals ----------------------------------------------------------------------------------

    def read_literal(self) -> Literal:
        c = self.cur()
        start = self.pos
        if c in ("'", '"'):
            value: Any = self._string(c)
        elif c in ("t", "f"):
            value = self._word("true" if c == "t" else "false", c == "t")
        elif c == "n":
            value = self._word("null", None)
        elif c in ("[", "{"):
            value = self._json(c)
        elif c == "/":
            value = self._pattern()
        else:
            value = self._number()
        return Literal(value, self.s[start : self.pos], start)

    def _string(self, quote: str) -> str:
        start = self.pos
        close = self.next_unescaped(start, quote)
        if close == -1:
            raise self.error("unterminated string", start, f"a closing {quote}")
        try:
            value = unescape(self.s[start + 1 : close])
        except ValueError as exc:
            raise self.error(str(exc), start, "a valid \\uXXXX escape") from None
        self.pos = close + 1
        return value

    def _word(self, word: str, value: bool | None) -> bool | None:
        if not self.s.startswith(word, self.pos) or self.pos + len(word) - 1 > self.end:
            raise self.error(f"expected {word}", self.pos, _VALUE)
        self.pos += len(word)
        return value

    def _number(self) -> Any:
        start = self.pos
        while self.pos <= self.end and (is_digit(self.s[self.pos]) or self.s[self.pos] in "-.eE"):
            self.pos += 1
        text = self.s[start : self.pos]
        if not text:
            found = self.cur()
            hint = " (strings must be quoted)" if found.isalpha() else ""
            raise self.error(f"unexpected {found!r}{hint}" if found else "a value is missing", start, _VALUE)
        number = parse_big_decimal(text)
        if number is None:
            raise self.error(f"invalid number {text!r}", start, "a number such as 42, -1.5 or 1e3")
        return number

    def _json(self, opening: str) -> JsonLiteral:
        start = self.pos
        closing = "]" if opening == "[" else "}"
        close = self.matching_close(start, opening, closing, skip_regex=False)
        if close == -1:
            raise self.error("unclosed JSON literal", start, f"'{closing}'")
        text = self.s[start : close + 1]
        try:
            value = parse_json_literal(text)
        except JsonLiteralError as exc:
            raise self.error(f"invalid JSON literal: {exc}", start + exc.offset, "valid JSON") from None
        self.pos = close + 1
        return make_json_literal(text, value)

    def _pattern(self) -> Any:
        start = self.pos
        close = self.next_unescaped(start, "/")
        if close == -1:
            raise self.error("unterminated regex", start, "a closing /")
        flags_end = close + 1
        while flags_end <= self.end and self.s[flags_end] in "dixmsuU":
            flags_end += 1
        source, flags = self.s[start + 1 : close], self.s[close + 1 : flags_end]
        try:
            pattern = compile_java_pattern(source, flags)
        except RegexDialectError as exc:
            raise self.error(
                f"invalid regex /{source}/: {exc}", start + 1 + exc.offset, "a Java regex"
            ) from None
        self.pos = flags_end
        return pattern


def make_json_literal(text: str, value: Any) -> JsonLiteral:
    """A literal with its array elements converted once (or the error converting them raises)."""
    elements: list[Any] | FilterEvaluationError | None = None
    if isinstance(value, list):
        try:
            elements = [element_node(item, is_path) for item in value]
        except FilterEvaluationError as exc:
            elements = exc
    return JsonLiteral(text, value, elements)
