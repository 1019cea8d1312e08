"""Paths inside filters: notation, definite vs indefinite results, nested filters, functions."""

from __future__ import annotations

from typing import Any

import pytest

from herald.filters import compile_filter
from herald.filters.paths import CompiledPath, EvalContext, compile_path
from herald.filters.values import UNDEFINED

DOC: dict[str, Any] = {
    "a": {"b": {"c": "deep"}},
    "name with space": "spaced",
    "dotted.key": "dotted",
    "list": [10, 20, 30, 40],
    "items": [
        {"id": 1, "tag": "x", "sub": {"id": 11}},
        {"id": 2, "tag": "y"},
        {"id": 3, "tag": "x"},
    ],
    "matrix": [[1, 2], [3, 4]],
    "s": "text",
    "flag": True,
    "a&&$": {"b": "weird"},
}


def value_of(path_text: str, doc: Any = DOC, fast: bool = True) -> Any:
    tokens = compile_path(path_text, path_text).tokens
    compiled = CompiledPath(path_text, path_text.startswith("$"), list(tokens), fast=fast)
    return compiled.value(doc, doc, EvalContext())


def matches(expression: str, doc: Any = DOC) -> bool:
    return compile_filter(expression).matches(doc)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("$.a.b.c", "deep", id="dot-notation"),
        pytest.param("$['a']['b']['c']", "deep", id="bracket-notation"),
        pytest.param('$["a"].b["c"]', "deep", id="double-quoted-brackets-mixed-with-dots"),
        pytest.param("$.['a'].b", {"c": "deep"}, id="dot-before-bracket"),
        pytest.param("$['name with space']", "spaced", id="bracket-name-with-space"),
        pytest.param("$['dotted.key']", "dotted", id="bracket-name-with-dot"),
        pytest.param("$.list[0]", 10, id="index"),
        pytest.param("$.list[-1]", 40, id="negative-index-counts-from-the-end"),
        pytest.param("$.list[4]", UNDEFINED, id="index-past-the-end-is-undefined"),
        pytest.param("$.list[-5]", UNDEFINED, id="negative-index-before-the-start-is-undefined"),
        pytest.param("$.matrix[1][0]", 3, id="nested-indexes"),
        pytest.param("$.s.length", UNDEFINED, id="property-of-a-string-is-undefined"),
        pytest.param("$.s[0]", UNDEFINED, id="index-of-a-string-is-undefined"),
        pytest.param("$.a[0]", UNDEFINED, id="index-of-an-object-is-undefined"),
        pytest.param("$.nope.deeper", UNDEFINED, id="missing-intermediate-is-undefined"),
        pytest.param("$", DOC, id="root"),
    ],
)
def test_definite_path_yields_one_value(path: str, expected: Any) -> None:
    value = value_of(path)
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        assert value == expected  # numbers come back as Decimal nodes
    else:
        assert value == expected or value is expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("$.list[*]", [10, 20, 30, 40], id="wildcard-over-array"),
        pytest.param("$.a.*", [{"c": "deep"}], id="wildcard-over-object-values"),
        pytest.param("$.list[0,2]", [10, 30], id="index-union"),
        pytest.param("$.list[1:3]", [20, 30], id="slice"),
        pytest.param("$.list[-2:]", [30, 40], id="slice-from-the-end"),
        pytest.param("$.list[:-3]", [10], id="slice-up-to-negative"),
        pytest.param("$.list[2:99]", [30, 40], id="slice-clamped"),
        pytest.param("$.items[*].id", [1, 2, 3], id="property-of-each-element"),
        pytest.param("$..id", [1, 11, 2, 3], id="deep-scan-in-document-order"),
        pytest.param("$..nothing", [], id="deep-scan-selecting-nothing-is-an-empty-array"),
        pytest.param("$.items[?(@.tag == 'x')].id", [1, 3], id="nested-filter"),
        pytest.param("$.items[*].sub.id", [11], id="missing-branches-are-skipped"),
        pytest.param("$['s','flag']", {"s": "text", "flag": True}, id="multi-property-leaf-merges"),
    ],
)
def test_indefinite_path_yields_the_array_of_results(path: str, expected: Any) -> None:
    assert value_of(path) == expected


@pytest.mark.parametrize(
    "path",
    ["$.a.b.c", "$['a']['b']", "$.list[-1]", "$.list[9]", "$.s.x", "$.matrix[0][1]", "$.nope", "$.a.b.c.d"],
)
def test_fast_lookup_agrees_with_the_general_walker(path: str) -> None:
    assert value_of(path, fast=True) == value_of(path, fast=False)


def test_comparing_an_indefinite_path_compares_the_whole_array() -> None:
    assert matches("[?($.items[*].id == [1,2,3])]") is True
    assert matches("[?($.items[*].id == 1)]") is False


def test_membership_in_an_indefinite_path() -> None:
    assert matches("[?('y' in $.items[*].tag)]") is True
    assert matches("[?('z' in $.items[*].tag)]") is False


def test_size_of_a_nested_filter_result() -> None:
    assert matches("[?($.items[?(@.tag == 'x')] size 2)]") is True


def test_nested_filter_can_compare_with_the_root_document() -> None:
    doc = {"limit": 2, "items": [{"n": 1}, {"n": 2}, {"n": 3}]}

    assert matches("[?($.items[?(@.n <= $.limit)] size 2)]", doc) is True


def test_dollar_existence_test_inside_a_nested_filter_reads_the_current_item() -> None:
    # Jayway evaluates existence tests from ctx.item(), even for '$' paths.
    doc = {"items": [{"x": 1}, {"y": 2}]}

    assert matches("[?($.items[?($.x)] size 1)]", doc) is True


def test_nested_filter_error_only_drops_that_element() -> None:
    doc = {"items": [{"v": "text"}, {"v": ["a"]}]}

    # 'a' in "text" fails (InvalidPathException) for the first element; the second still matches.
    assert matches("[?($.items[?('a' in @.v)] size 1)]", doc) is True


def test_filter_step_on_an_object_tests_the_object_itself() -> None:
    assert matches("[?($.a[?(@.b)])]") is True
    assert matches("[?($.a[?(@.b.c == 'deep')].b.c == ['deep'])]") is True


def test_filter_step_on_a_primitive_fails_evaluation() -> None:
    result = compile_filter("[?($.s[?(@ == 1)] size 0)]").evaluate(DOC)

    assert result.matched is False
    assert result.error is not None and "primitive" in result.error


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        pytest.param("[?($.list.length() == 4)]", True, id="length-of-array"),
        pytest.param("[?($.a.size() == 1)]", True, id="size-of-object"),
        pytest.param("[?($.list.min() == 10)]", True, id="min"),
        pytest.param("[?($.list.max() == 40)]", True, id="max"),
        pytest.param("[?($.list.sum() == 100)]", True, id="sum-is-a-double"),
        pytest.param("[?($.list.avg() == 25)]", True, id="avg"),
        pytest.param("[?($.s.length() == 4)]", False, id="length-of-a-string-is-null"),
        pytest.param("[?($.s.length() == null)]", True, id="length-of-a-string-is-null-value"),
        pytest.param("[?($.nope.length() == 0)]", False, id="length-of-missing-is-undefined"),
    ],
)
def test_path_functions(expression: str, expected: bool) -> None:
    assert matches(expression) is expected


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param("[?($.s.min() == 1)]", id="aggregate-of-non-array"),
        pytest.param("[?($.list.foo() == 1)]", id="unknown-function"),
        pytest.param("[?($.a.keys() contains 'b')]", id="keys-yields-a-set-jayway-cannot-compare"),
    ],
)
def test_failing_functions_record_an_error(expression: str) -> None:
    result = compile_filter(expression).evaluate(DOC)

    assert result.matched is False
    assert result.error


def test_a_path_runs_through_double_ampersand_without_spaces() -> None:
    # Jayway reads "$.a&&$.b" as ONE path: property "a&&$" then "b".
    assert matches("[?($.a&&$.b)]") is True
    assert matches("[?($.a&&$.b)]", {"a": 1, "b": 2}) is False


def test_a_tab_is_part_of_the_property_name() -> None:
    assert matches("[?($.s\t== 'text')]") is False
    assert matches("[?($.s\t== 'text')]", {"s\t": "text"}) is True


def test_text_after_a_final_bracket_is_ignored_like_jayway() -> None:
    assert matches("[?($['s']x == 'text')]") is True
