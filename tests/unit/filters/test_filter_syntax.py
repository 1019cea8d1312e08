"""Syntax: what compiles, what does not, and where and why errors are reported."""

from __future__ import annotations

import pytest

from herald.filters import MAX_EXPRESSION_LENGTH, MAX_NESTING_DEPTH, FilterSyntaxError, compile_filter


def syntax_error(expression: str) -> FilterSyntaxError:
    with pytest.raises(FilterSyntaxError) as caught:
        compile_filter(expression)
    return caught.value


@pytest.mark.parametrize(
    ("expression", "position", "expected_fragment"),
    [
        pytest.param("$.status == 'X'", 0, "'['", id="bare-expression-needs-the-wrapper"),
        pytest.param("[?($.status == 'X')", 18, "']'", id="missing-closing-bracket"),
        pytest.param("[($.status == 'X')]", 1, "'?'", id="missing-question-mark"),
        pytest.param("[?$.status == 'X']", 2, "'('", id="missing-opening-parenthesis"),
        pytest.param("[?($.status == 'X']", 17, "')'", id="missing-closing-parenthesis"),
        pytest.param("[?($.status = 'X')]", 12, "operator", id="single-equals-is-not-an-operator"),
        pytest.param("[?($.a FOO 1)]", 7, "operator", id="unknown-word-operator"),
        pytest.param("[?($.a in['x'])]", 7, "operator", id="word-operator-needs-a-space"),
        pytest.param("[?($.status == 'X)]", 15, "closing '", id="unterminated-string"),
        pytest.param("[?(@.foo == x)]", 12, "'string'", id="unquoted-string"),
        pytest.param("[?(@.a == 1e+3)]", 10, "number", id="exponent-sign-is-not-part-of-a-number"),
        pytest.param("[?(@.a == )]", 10, "value", id="missing-right-operand"),
        pytest.param("[?(true)]", 3, "operator", id="literal-cannot-stand-alone"),
        pytest.param("[?(!5)]", 4, "operator", id="negated-literal"),
        pytest.param("[?(@.i == 5 @.i == 8)]", 12, "')'", id="missing-logical-operator"),
        pytest.param("[?(@ || )]", 8, "value", id="missing-operand-after-or"),
        pytest.param("[?(@))]", 5, "end of the filter", id="unbalanced-parenthesis"),
        pytest.param("[?(@.a in [1,2)]", 10, "']'", id="unclosed-json-literal"),
        pytest.param("[?(@.a in ['a' 'b'])]", 15, "valid JSON", id="malformed-json-literal"),
        pytest.param("[?(@.a =~ /abc)]", 10, "closing /", id="unterminated-regex"),
        pytest.param("[?(@.a =~ /(/)]", 12, "Java regex", id="invalid-regex"),
        pytest.param("[?(@.a =~ /a{e<=1}/)]", 12, "Java regex", id="regex-package-only-syntax-rejected"),
        pytest.param("[?(@.a =~ /abc/g)]", 15, "')'", id="unknown-regex-flag"),
        pytest.param("[?(@['a,b'] == 1)]", 10, "property", id="comma-inside-bracket-name-like-jayway"),
        pytest.param("[?($.a. == 1)]", 6, "property name", id="path-ending-with-dot"),
        pytest.param("[?($.a.length(1) > 0)]", 14, "')'", id="function-parameters"),
        pytest.param("[?($.a.concat() == 'x')]", 7, "supported function", id="unsupported-function"),
        pytest.param("[?($.a[?] == 1)]", 6, "valid path", id="placeholder-needs-java-predicates"),
        pytest.param("[?($.a == '\\uZZZZ')]", 10, "escape", id="bad-unicode-escape"),
        pytest.param("[?(\t@.a == 1)]", 3, "value", id="tab-is-not-whitespace-between-tokens"),
        pytest.param("[?($['a']['b c'] == 1)]", 10, "'", id="second-adjacent-bracket-is-not-protected"),
        pytest.param("[?($.items[?(@.x = 1)] size 1)]", 17, "operator", id="error-inside-a-nested-filter"),
    ],
)
def test_invalid_filter_reports_position_and_expectation(
    expression: str, position: int, expected_fragment: str
) -> None:
    error = syntax_error(expression)

    assert error.position == position
    assert expected_fragment in error.expected
    assert error.expression == expression


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param("  [?($.a == 1)]\n", id="surrounding-whitespace"),
        pytest.param("[ ? ( $.a == 1 ) ]", id="spaces-inside-the-wrapper"),
        pytest.param("[?(@.a IN [1,2])]", id="upper-case-word-operator"),
        pytest.param("[?(@.a==1&&@.b!=2)]", id="symbol-operators-need-no-spaces"),
        pytest.param("[?(((@.a)))]", id="redundant-parentheses"),
        pytest.param("[?(@.a) && (@.b)]", id="outer-parentheses-are-a-group"),
        pytest.param("[?(@.a == -1.5E3)]", id="negative-exponent-number"),
        pytest.param("[?(@[')]@$)]'] == ')]@$)]')]", id="brackets-and-parens-inside-strings"),
        pytest.param('[?(@["a"]["b"])]', id="double-quoted-brackets"),
        pytest.param("[?(@.a in {'foo':'bar'})]", id="json-object-literal"),
        pytest.param("[?(@.a in [a, 'b', \"c\", 1.5, true, null,])]", id="permissive-json-literal"),
        pytest.param("[?(@.message.min() > 10)]", id="function-call"),
        pytest.param("[?(10 == @.message.min())]", id="function-call-on-the-right"),
        pytest.param("[?(@.name =~ /.*?/i)]", id="regex-with-flag"),
        pytest.param("[?(@.a =~ /a\\/b/)]", id="regex-with-escaped-slash"),
        pytest.param("[?(@.a.foo() == 1)]", id="unknown-function-compiles-like-jayway"),
        pytest.param("[?(@.a exists true)]", id="exists-operator"),
        pytest.param("[?($['a'].b['c d'] == 1)]", id="bracket-after-a-dot-segment-is-protected"),
    ],
)
def test_valid_filter_compiles(expression: str) -> None:
    assert compile_filter(expression).expression == expression


def test_error_is_a_value_error_with_a_readable_message() -> None:
    error = syntax_error("[?($.status = 'X')]")

    assert isinstance(error, ValueError)
    assert "unknown operator '='" in str(error)
    assert "position 12" in str(error)


def test_caret_points_at_the_error_position() -> None:
    error = syntax_error("[?($.status = 'X')]")

    assert error.caret() == "[?($.status = 'X')]\n            ^"


def test_caret_stays_aligned_when_the_expression_contains_tabs() -> None:
    error = syntax_error("[?(@.a\t= 1)]")

    line, caret = error.caret().split("\n")
    assert line[len(caret) - 1] == "="


def test_bare_expression_error_names_the_required_form() -> None:
    error = syntax_error("$.status == 'SUCCEEDED'")

    assert "[?(<expression>)]" in error.message


def test_word_operator_without_space_gets_a_hint() -> None:
    assert "need a space" in syntax_error("[?($.a in['x'])]").message


def test_expression_longer_than_the_limit_is_rejected() -> None:
    padding = " " * (MAX_EXPRESSION_LENGTH - len("[?($.a == 1)]") + 1)
    error = syntax_error("[?($.a == 1" + padding + ")]")

    assert error.position == MAX_EXPRESSION_LENGTH
    assert str(MAX_EXPRESSION_LENGTH) in error.expected


def test_expression_at_the_limit_is_accepted() -> None:
    body = "[?($.a == 1)]"
    expression = "[?($.a == 1" + " " * (MAX_EXPRESSION_LENGTH - len(body)) + ")]"

    assert len(expression) == MAX_EXPRESSION_LENGTH
    assert compile_filter(expression).matches({"a": 1})


def test_nesting_beyond_the_limit_is_rejected() -> None:
    depth = MAX_NESTING_DEPTH + 1
    error = syntax_error("[?" + "(" * depth + "@.a" + ")" * depth + "]")

    assert "nested" in error.message
    assert error.position == 2 + MAX_NESTING_DEPTH  # the parenthesis one level too deep


def test_nesting_at_the_limit_is_accepted() -> None:
    depth = MAX_NESTING_DEPTH
    assert compile_filter("[?" + "(" * depth + "@.a" + ")" * depth + "]").matches({"a": 1})


def test_negations_count_towards_nesting() -> None:
    error = syntax_error("[?(" + "!" * (MAX_NESTING_DEPTH + 1) + "(@.a))]")

    assert "nested" in error.message


def test_empty_expression_is_rejected() -> None:
    assert syntax_error("   ").position == 0


def test_non_string_expression_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        compile_filter(42)  # type: ignore[arg-type]


def test_compiling_the_same_text_twice_reuses_the_compiled_filter() -> None:
    assert compile_filter("[?($.cache == 1)]") is compile_filter("[?($.cache == 1)]")


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param("[?(@.a in " + "[" * 900 + "]" * 900 + ")]", id="json-literal-nested-900-deep"),
        pytest.param("[?(@.a =~ /" + "(" * 900 + ")" * 900 + "/)]", id="regex-groups-nested-900-deep"),
    ],
)
def test_absurdly_nested_literals_are_syntax_errors_not_crashes(expression: str) -> None:
    assert "nested" in syntax_error(expression).message
