"""Regexes: the Java dialect, and hostile patterns bounded in time without affecting other filters."""

from __future__ import annotations

import pytest

from herald.filters import REGEX_TIMEOUT_SECONDS, FilterSyntaxError, compile_filter

HOSTILE = "[?($.s =~ /(a|aa)+$/)]"
HOSTILE_PAYLOAD = {"s": "a" * 60 + "b", "status": "SUCCEEDED"}


def regex_matches(pattern_and_flags: str, text: str) -> bool:
    result = compile_filter(f"[?($.s =~ {pattern_and_flags})]").evaluate({"s": text})
    assert result.error is None
    return result.matched


@pytest.mark.parametrize(
    ("regex", "text", "expected"),
    [
        pytest.param(r"/\d+/", "123", True, id="digit-class"),
        pytest.param(r"/\d+/", "١٢٣", False, id="digit-class-is-ascii-without-U"),
        pytest.param(r"/\d+/U", "١٢٣", True, id="digit-class-is-unicode-with-U"),
        pytest.param(r"/\s/", "\u00a0", False, id="space-class-is-ascii"),
        pytest.param(r"/\p{Alpha}+/", "abc", True, id="posix-class"),
        pytest.param(r"/\p{Alpha}+/", "àbc", False, id="posix-class-is-ascii"),
        pytest.param(r"/\p{Lu}\p{Ll}+/", "Émile", True, id="unicode-category"),
        pytest.param(r"/\p{IsLu}.*/", "Émile", True, id="java-is-prefixed-category"),
        pytest.param(r"/\p{javaLowerCase}+/", "abc", True, id="java-character-class"),
        pytest.param(r"/a++b/", "aaab", True, id="possessive-quantifier"),
        pytest.param(r"/a*+a/", "aaa", False, id="possessive-quantifier-does-not-backtrack"),
        pytest.param(r"/(?>a+)b/", "aab", True, id="atomic-group"),
        pytest.param(r"/\Qa.b\E/", "a.b", True, id="quoted-section"),
        pytest.param(r"/\Qa.b\E/", "axb", False, id="quoted-section-is-literal"),
        pytest.param(r"/\x{41}\u0042\x43/", "ABC", True, id="hex-and-unicode-escapes"),
        pytest.param(r"/(?<w>ab)\k<w>/", "abab", True, id="named-group-back-reference"),
        pytest.param(r"/(a)\1/", "aa", True, id="numbered-back-reference"),
        pytest.param(r"/a\hb/", "a\tb", True, id="horizontal-whitespace"),
        pytest.param(r"/a\Rb/", "a\r\nb", True, id="linebreak-matcher"),
        pytest.param(r"/abc\Z/", "abc", True, id="end-of-input"),
        pytest.param(r"/a(?i)bc/", "aBC", True, id="inline-flag"),
        pytest.param(r"/a(?i:b)c/", "aBC", False, id="scoped-inline-flag"),
        pytest.param(r"/[\w.-]+@[\w.-]+/", "jo.e@example.com", True, id="shorthand-inside-a-class"),
        pytest.param(r"/[^\d]+/", "abc", True, id="negated-class"),
        pytest.param(r"/\bfoo\b.*/", "foo bar", True, id="word-boundary"),
        pytest.param(r"/a\/b/", "a/b", True, id="escaped-slash"),
        pytest.param(r"/.*/", "", True, id="empty-input"),
        pytest.param(r"/[a-c]+/i", "AbC", True, id="case-insensitive-range"),
        pytest.param(r"/[^a-z]/i", "Q", False, id="case-insensitive-negated-range"),
        pytest.param(r"/(?i)é/", "É", False, id="inline-i-folds-ascii-only"),
        pytest.param(r"/(?iu)é/", "É", True, id="inline-iu-folds-unicode"),
        pytest.param(r"/(?i)x(?-i)y/", "Xy", True, id="inline-flag-turned-off"),
        pytest.param(r"/(?i)x(?-i)y/", "XY", False, id="inline-flag-turned-off-is-case-sensitive"),
    ],
)
def test_java_regex_dialect(regex: str, text: str, expected: bool) -> None:
    assert regex_matches(regex, text) is expected


@pytest.mark.parametrize(
    "regex",
    [
        pytest.param("/[a-z&&[^q]]/", id="class-intersection-unsupported"),
        pytest.param("/[a[b]]/", id="class-union-unsupported"),
        pytest.param("/a{e<=1}/", id="fuzzy-matching-is-not-java"),
        pytest.param("/(?V1)a/", id="regex-version-flag-is-not-java"),
        pytest.param(r"/\Ka/", id="unknown-escape"),
        pytest.param("/a{/", id="illegal-repetition"),
        pytest.param("/*a/", id="dangling-quantifier"),
        pytest.param("/a)/", id="unmatched-parenthesis"),
    ],
)
def test_unsupported_or_invalid_regex_is_a_syntax_error(regex: str) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        compile_filter(f"[?($.s =~ {regex})]")

    assert caught.value.position >= len("[?($.s =~ /")


def test_hostile_regex_times_out_with_a_recorded_reason() -> None:
    result = compile_filter(HOSTILE).evaluate(HOSTILE_PAYLOAD)

    assert result.matched is False
    assert result.error is not None
    assert f"timed out after {REGEX_TIMEOUT_SECONDS * 1000:.0f} ms" in result.error


def test_hostile_regex_makes_matches_return_false_without_raising() -> None:
    assert compile_filter(HOSTILE).matches(HOSTILE_PAYLOAD) is False


def test_hostile_regex_still_matches_harmless_input() -> None:
    assert compile_filter(HOSTILE).matches({"s": "aaaa"}) is True


def test_other_filters_keep_working_after_a_timeout() -> None:
    compile_filter(HOSTILE).evaluate(HOSTILE_PAYLOAD)

    assert compile_filter("[?($.status == 'SUCCEEDED')]").matches(HOSTILE_PAYLOAD) is True
    assert compile_filter("[?($.s =~ /a+b/)]").matches(HOSTILE_PAYLOAD) is True


def test_short_circuit_skips_a_hostile_regex() -> None:
    expression = "[?($.status == 'SUCCEEDED' || $.s =~ /(a|aa)+$/)]"

    assert compile_filter(expression).evaluate(HOSTILE_PAYLOAD).matched is True


def test_timeout_inside_a_nested_filter_fails_the_whole_filter() -> None:
    payload = {"items": [{"s": "a" * 60 + "b"}, {"s": "aa"}]}
    result = compile_filter("[?($.items[?(@.s =~ /(a|aa)+$/)] size 1)]").evaluate(payload)

    assert result.matched is False
    assert result.error is not None and "timed out" in result.error
