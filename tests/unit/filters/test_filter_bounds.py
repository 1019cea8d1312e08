"""Regex bounds: what a pattern may make the compiler do is checked before `regex` does any of it.

`regex` expands a repeat's minimum count into copies (`a{3000000}` held ~1 GB, `a{99999999}` grew
the API past 23 GB). Each member of that class is refused while translating, with the position of
the repeat that crossed the bound, and `regex.compile` is never called for it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from herald.filters import FilterSyntaxError, compile_filter, compiler, regexes
from herald.filters.regexes import (
    MAX_COMPILED_SIZE,
    MAX_GROUP_DEPTH,
    MAX_PATTERN_LENGTH,
    MAX_REPEAT_COUNT,
)


@pytest.fixture
def no_regex_compile(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fails the test if `regex` is asked to compile anything: the bound must come first."""
    compiled: list[str] = []
    real = regexes.regex.compile

    def spy(pattern: str, *args: object, **kwargs: object) -> object:
        compiled.append(pattern)
        return real(pattern, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(regexes.regex, "compile", spy)
    compiler.clear_cache()
    yield compiled
    compiler.clear_cache()


def refused(expression: str) -> FilterSyntaxError:
    with pytest.raises(FilterSyntaxError) as caught:
        compile_filter(expression)
    return caught.value


# (filter, what the message says, the text the caret points at)
OVER_THE_BOUNDS = [
    pytest.param("[?($.a =~ /a{99999999}/)]", "repeat count 99999999 is over 1000", "{", id="issue-example"),
    pytest.param("[?($.a =~ /a{3000000}/)]", "repeat count 3000000", "{", id="three-million"),
    pytest.param(f"[?($.a =~ /a{{{MAX_REPEAT_COUNT + 1}}}/)]", "is over 1000", "{", id="one-over"),
    pytest.param("[?($.a =~ /a{1,1001}/)]", "repeat count 1001", "{", id="upper-bound-over"),
    pytest.param("[?($.a =~ /a{0,99999}?/)]", "repeat count 99999", "{", id="lazy-upper-bound"),
    pytest.param(
        "[?($.a =~ /a{1" + "0" * 40 + ",}+/)]", "repeat count 100000000000…", "{", id="forty-digit-count"
    ),
    pytest.param("[?($.a =~ /(a{1000}){1000}/)]", "too large", "{", id="nested-counts-multiply"),
    pytest.param("[?($.a =~ /(?:(?:ab{20}){20}){20}/)]", "too large", "{", id="three-levels-of-20"),
    pytest.param("[?($.a =~ /((((a{10}){10}){10}){10})/)]", "too large", "{", id="four-levels-of-10"),
    pytest.param("[?($.a =~ /(?:\\b\\w+\\b\\s*){100}/)]", "too large", "{", id="lookarounds-repeated"),
    pytest.param("[?($.a =~ /" + "\\b" * 60 + "/)]", "too large", "\\", id="lookarounds-unrepeated"),
    pytest.param("[?($.a =~ /" + "." * 400 + "/)]", "too large", ".", id="long-run-of-dots"),
]


@pytest.mark.parametrize(("expression", "message", "at"), OVER_THE_BOUNDS)
def test_a_regex_over_the_bounds_is_refused_before_regex_compiles_it(
    no_regex_compile: list[str], expression: str, message: str, at: str
) -> None:
    error = refused(expression)

    assert message in error.message
    assert expression[error.position] == at
    assert error.caret().splitlines()[1] == " " * error.position + "^"
    assert no_regex_compile == []


def test_a_filters_regexes_share_one_compiled_size_bound(no_regex_compile: list[str]) -> None:
    # Each alone is well within the bound (~1,000 units); eight of them in one filter are not.
    one = "$.a =~ /x{990}/"
    assert compile_filter(f"[?({one})]")
    expression = "[?(" + " || ".join([one] * 8) + ")]"

    error = refused(expression)

    assert "too large" in error.message and "share" in error.message
    assert error.position > expression.index("||")  # not the first regex: the one that crossed
    assert len(no_regex_compile) < 8


def test_regexes_in_nested_filters_count_towards_the_same_bound() -> None:
    inner = "@.n =~ /y{990}/"
    expression = "[?($.items[?(" + " || ".join([inner] * 5) + ")])]"
    assert "too large" in refused(expression).message


def test_groups_nested_past_the_bound_are_refused() -> None:
    deep = "(" * (MAX_GROUP_DEPTH + 1) + "a" + ")" * (MAX_GROUP_DEPTH + 1)
    assert f"nested more than {MAX_GROUP_DEPTH} levels" in refused(f"[?($.a =~ /{deep}/)]").message


def test_a_pattern_longer_than_the_bound_is_refused() -> None:
    # Free-spacing mode: long in source, small once translated.
    pattern = "a" + " " * MAX_PATTERN_LENGTH + "b"
    error = refused(f"[?($.a =~ /{pattern}/x)]")
    assert f"longer than {MAX_PATTERN_LENGTH} characters" in error.message


@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param(f"a{{{MAX_REPEAT_COUNT}}}", id="count-at-the-bound"),
        pytest.param(".{0,1000}", id="wide-upper-bound"),
        pytest.param("(a{1,1000}){1,1000}", id="nested-upper-bounds-copy-nothing"),
        pytest.param("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", id="uuid"),
        pytest.param("[A-Z]{3}[0-9]{1,6}_(R1|R2)\\.fastq\\.gz", id="fastq-name"),
        pytest.param("((a{10}){10}){10}", id="three-levels-of-ten"),
        pytest.param("\\bCopy\\b.*", id="word-boundaries"),
    ],
)
def test_ordinary_and_large_but_bounded_patterns_compile_and_match(pattern: str) -> None:
    compiled = compile_filter(f"[?($.a =~ /{pattern}/)]")
    assert compiled.size <= MAX_COMPILED_SIZE
    assert compiled.evaluate({"a": "not matching !"}).error is None


def test_the_filter_cache_is_bounded_by_the_compiled_size_it_holds(no_regex_compile: list[str]) -> None:
    big = [f"[?($.a{i} =~ /x{{{MAX_REPEAT_COUNT}}}/)]" for i in range(compiler.CACHE_MAX_SIZE // 1000 + 5)]
    for expression in big:
        compile_filter(expression)
    held = sum(f.size for f in compiler._cache.values())
    assert held <= compiler.CACHE_MAX_SIZE
    assert len(compiler._cache) < len(big)
    assert big[-1] in compiler._cache and big[0] not in compiler._cache  # least recently used go first
