"""The public API: what it exports, what it returns, and that matching never raises."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

import herald.filters as filters
from herald.filters import Filter, FilterEvaluationError, FilterSyntaxError, MatchResult, compile_filter


def test_public_names_are_exported() -> None:
    assert {"compile_filter", "Filter", "FilterSyntaxError", "FilterEvaluationError", "MatchResult"} <= set(
        filters.__all__
    )
    assert issubclass(FilterSyntaxError, ValueError)
    assert issubclass(FilterEvaluationError, Exception)


def test_compiled_filter_keeps_its_source_text() -> None:
    compiled = compile_filter("  [?($.a == 1)] ")

    assert isinstance(compiled, Filter)
    assert compiled.expression == "  [?($.a == 1)] "
    assert repr(compiled) == "Filter('  [?($.a == 1)] ')"


def test_match_result_is_truthy_only_when_matched() -> None:
    assert bool(MatchResult(True)) is True
    assert bool(MatchResult(False, "boom")) is False


def test_evaluate_reports_no_error_for_a_plain_mismatch() -> None:
    assert compile_filter("[?($.a == 1)]").evaluate({"a": 2}) == MatchResult(False, None)


def test_evaluate_reports_why_evaluation_failed() -> None:
    result = compile_filter("[?('x' in $.a)]").evaluate({"a": "text"})

    assert result.matched is False
    assert result.error == "'in' needs an array on the right, got a string"


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(None, id="null"),
        pytest.param("text", id="string"),
        pytest.param(42, id="number"),
        pytest.param([1, {"a": [None]}], id="array"),
        pytest.param({"a": float("nan")}, id="nan"),
        pytest.param({"a": float("inf")}, id="infinity"),
        pytest.param({"a": {1, 2}}, id="python-set"),
        pytest.param({"a": object()}, id="arbitrary-object"),
        pytest.param({"a": (1, 2)}, id="tuple"),
        pytest.param({"a": Decimal("1.0")}, id="decimal"),
    ],
)
def test_matches_never_raises(payload: Any) -> None:
    for expression in (
        "[?($.a == 1)]",
        "[?($.a[0] > 0)]",
        "[?($..a size 1)]",
        "[?(1 in $.a)]",
        "[?($.a =~ /1/)]",
    ):
        assert compile_filter(expression).matches(payload) in (True, False)


def test_deeply_nested_payload_does_not_raise() -> None:
    payload: Any = "bottom"
    for _ in range(5000):
        payload = {"a": payload}

    assert compile_filter("[?($..a size 5000)]").matches(payload) is True
    # Comparing two 5000-level objects exceeds Python's recursion limit: no match, with a reason.
    result = compile_filter("[?($.a == $.a)]").evaluate(payload)
    assert result.matched is False
    assert result.error is not None


def test_non_finite_number_fails_evaluation_like_bigdecimal() -> None:
    result = compile_filter("[?($.a == 1)]").evaluate({"a": float("nan")})

    assert result.matched is False
    assert result.error is not None


def test_top_level_array_payload_is_the_root_not_iterated() -> None:
    assert compile_filter("[?($[0] == 1)]").matches([1, 2]) is True
    assert compile_filter("[?(@.a == 1)]").matches([{"a": 1}]) is False


def test_exploding_deep_scan_is_cut_off_with_a_reason() -> None:
    payload: Any = "x"
    for _ in range(40):
        payload = {"a": payload}

    result = compile_filter("[?($..a..a..a..a..a..a..a..a..a..a size 1)]").evaluate(payload)

    # The node budget, not the clock, ends it: the reason names the budget.
    assert result.matched is False
    assert result.error is not None and "visited more than" in result.error
