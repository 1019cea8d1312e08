"""Properties that hold for every payload and every filter from a generated family of filters."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from herald.filters import FilterSyntaxError, compile_filter
from herald.filters.javatext import double_to_string, java_trim, parse_big_decimal, unescape
from herald.filters.paths import CompiledPath, EvalContext, compile_path

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = st.sampled_from(["a", "b", "c", "x y", "0"])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(["a", "b", "$.a", "[1]", "'q'", "1.0", "5", ""]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=20,
)
payloads = st.dictionaries(KEYS, json_values, max_size=5)

paths = st.sampled_from(
    [
        "$.a",
        "@.b",
        "$.a.b",
        "$['x y']",
        "$.a[0]",
        "$.a[-1]",
        "$.c[*]",
        "$..a",
        "$.a[0:2]",
        "$.b[*].c",
        "$.a[?(@.b == 1)]",
        "$.a.length()",
        "$",
    ]
)
literals = st.sampled_from(
    [
        "1",
        "-2.5",
        "'a'",
        '"b"',
        "true",
        "false",
        "null",
        "['a', 1]",
        "{'a': 1}",
        "/a.*/",
        "/.*/i",
        "'1.0'",
        "0",
    ]
)
operators = st.sampled_from(
    ["==", "!=", "<", "<=", ">", ">=", "=~", "in", "nin", "subsetof", "anyof", "noneof", "size", "empty",
     "contains", "==="]
)  # fmt: skip
operands = st.one_of(paths, literals)


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 4)) == 0:
        return draw(st.sampled_from(["", "!"])) + draw(paths)  # existence test
    return f"{draw(operands)} {draw(operators)} {draw(operands)}"


expressions = st.recursive(
    comparisons(),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda pair: f"({pair[0]}) && ({pair[1]})"),
        st.tuples(inner, inner).map(lambda pair: f"({pair[0]}) || ({pair[1]})"),
        inner.map(lambda e: f"!({e})"),
    ),
    max_leaves=4,
)


def wrap(expression: str) -> str:
    return f"[?({expression})]"


@SETTINGS
@given(payload=json_values)
def test_seed_filters_never_raise_on_any_json_value(payload: Any) -> None:
    for expression in (
        "[?($.status == 'SUCCEEDED')]",
        "[?(($.pipeline.code =~ /Copy.*/) && $.status == 'SUCCEEDED')]",
        "[?('Demo' in $.pipeline.pipelineTags.technicalTags)]",
        "[?($..a size 2 || @.b empty true)]",
    ):
        assert compile_filter(expression).matches(payload) in (True, False)


@SETTINGS
@given(expression=expressions, payload=payloads)
def test_generated_filters_compile_and_never_raise(expression: str, payload: dict[str, Any]) -> None:
    compiled = compile_filter(wrap(expression))

    assert compiled.matches(payload) in (True, False)
    result = compiled.evaluate(payload)
    assert result.matched == compiled.matches(payload)
    assert result.error is None or result.matched is False


@SETTINGS
@given(expression=expressions, payload=payloads)
def test_negation_inverts_an_evaluation_without_error(expression: str, payload: dict[str, Any]) -> None:
    plain = compile_filter(wrap(expression)).evaluate(payload)
    negated = compile_filter(wrap(f"!({expression})")).evaluate(payload)

    if plain.error is None:
        assert negated.error is None
        assert negated.matched is (not plain.matched)
    else:
        assert negated.matched is False  # an error is not a false that '!' turns into a match


@SETTINGS
@given(left=expressions, right=expressions, payload=payloads)
def test_and_is_commutative(left: str, right: str, payload: dict[str, Any]) -> None:
    forwards = compile_filter(wrap(f"({left}) && ({right})")).matches(payload)
    backwards = compile_filter(wrap(f"({right}) && ({left})")).matches(payload)

    assert forwards is backwards


@SETTINGS
@given(left=expressions, right=expressions, payload=payloads)
def test_or_is_commutative_when_neither_side_fails(left: str, right: str, payload: dict[str, Any]) -> None:
    if (
        compile_filter(wrap(left)).evaluate(payload).error
        or compile_filter(wrap(right)).evaluate(payload).error
    ):
        return
    forwards = compile_filter(wrap(f"({left}) || ({right})")).matches(payload)
    backwards = compile_filter(wrap(f"({right}) || ({left})")).matches(payload)

    assert forwards is backwards


@SETTINGS
@given(
    path=st.sampled_from(["$.a", "$.a.b", "$.a.b.c", "$['x y'].a", "$.a[0]", "$.a[-1].b", "$.b[1][0]", "$"]),
    payload=payloads,
)
def test_direct_lookup_agrees_with_the_token_walker(path: str, payload: dict[str, Any]) -> None:
    tokens = list(compile_path(path, path).tokens)
    fast = CompiledPath(path, True, tokens, fast=True)
    slow = CompiledPath(path, True, tokens, fast=False)

    def value(compiled: CompiledPath) -> Any:
        try:
            return ("ok", compiled.value(payload, payload, EvalContext()))
        except Exception as exc:  # NaN floats cannot become numbers either way
            return ("error", type(exc).__name__)

    assert repr(value(fast)) == repr(value(slow))
    assert fast.exists(payload, payload, EvalContext()) == slow.exists(payload, payload, EvalContext())


@SETTINGS
@given(number=st.floats(allow_nan=False, allow_infinity=False))
def test_java_double_text_denotes_the_same_number(number: float) -> None:
    text = double_to_string(number)

    assert float(text) == number
    assert ("E" in text) == (number != 0 and not 1e-3 <= abs(number) < 1e7)
    assert "." in text.split("E")[0]


@SETTINGS
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12))
def test_unescape_leaves_text_without_backslashes_alone(text: str) -> None:
    plain = text.replace("\\", "")

    assert unescape(plain) == plain


@SETTINGS
@given(number=st.decimals(allow_nan=False, allow_infinity=False))
def test_big_decimal_parsing_accepts_java_text(number: Decimal) -> None:
    parsed = parse_big_decimal(str(number))

    assert parsed is not None and parsed == number


def test_java_trim_removes_control_characters() -> None:
    assert java_trim("\x00\t a b \x1f") == "a b"


def test_double_text_examples_match_java() -> None:
    assert [double_to_string(x) for x in (1.0, 0.1, 1e7, 1.5e-4, -2.5, 123456.789, 1e21, 0.001)] == [
        "1.0",
        "0.1",
        "1.0E7",
        "1.5E-4",
        "-2.5",
        "123456.789",
        "1.0E21",
        "0.001",
    ]
    assert math.isclose(float(double_to_string(math.pi)), math.pi)


SEED_FILTERS = [
    "[?($.status == 'SUCCEEDED')]",
    "[?(($.pipeline.code =~ /Copy.*/i) && $.status == 'SUCCEEDED')]",
    "[?('Demo' in $.pipeline.pipelineTags.technicalTags)]",
    "[?($.a[?(@.b > 1)].c size 2 || !$.d)]",
    "[?(@['x y', 'z'] nin [1, 'a', {b: 2}])]",
    "[?($..a[0:2][-1].length() == 1)]",
    "[?(@.a =~ /[a-z\\d]+(?i:x)\\p{Lu}/sU)]",
]
FRAGMENTS = [
    *"[]()?$@.'\"/\\!=<>~&|*,:-019aeinstrufl {}\t",
    "in",
    "size",
    "&&",
    "||",
    "=~",
    "[?(",
    ")]",
    "..",
]


@SETTINGS
@given(
    seed=st.sampled_from(SEED_FILTERS),
    edits=st.lists(st.tuples(st.integers(0, 200), st.sampled_from(FRAGMENTS), st.booleans()), max_size=6),
)
def test_mangled_filters_either_compile_or_raise_a_positioned_syntax_error(
    seed: str, edits: list[tuple[int, str, bool]]
) -> None:
    text = seed
    for position, fragment, delete in edits:
        position %= len(text) + 1
        text = (
            text[:position] + text[position + 1 :] if delete else text[:position] + fragment + text[position:]
        )
    try:
        compiled = compile_filter(text)
    except FilterSyntaxError as error:
        assert 0 <= error.position <= len(text)
        assert error.caret().count("\n") == 1
        return
    result = compiled.evaluate({"a": [1, {"b": 2}], "status": "SUCCEEDED", "x y": "q"})
    assert result.error is None or not result.error.startswith("internal error")
