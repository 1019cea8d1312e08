"""Each operator against Jayway 2.9.0's semantics (EvaluatorFactory, ValueNodes), one behaviour per row.

Outcomes: True (match), False (no match, evaluation fine), "error" (evaluation failed: no match and
MatchResult.error says why).
"""

from __future__ import annotations

from typing import Any

import pytest

from herald.filters import compile_filter

PAYLOAD: dict[str, Any] = {
    "s": "abc",
    "empty_s": "",
    "n": 5,
    "f": 1.5,
    "one": 1,
    "one_f": 1.0,
    "numstr": "5",
    "numstr_dec": "1.0",
    "ten": "10",
    "t": True,
    "fl": False,
    "nul": None,
    "arr": ["a", "b", "c"],
    "nums": [1, 2, 3],
    "empty_arr": [],
    "obj": {"k": "v"},
    "empty_obj": {},
    "objs": [{"x": 1}, {"x": 2}],
    "mixed": [{"x": 1}, {"y": 2}],
    "big": 12345678901234567890,
    "tiny": 0.1,
    "exp": 1e20,
    "emoji": "\U0001f600",
    "ml": "a\nb",
    "cr": "a\rb",
    "word": "héllo",
    "ecole": "ÉCOLE",
    "quoted": ["'q'"],
    "pathlike": ["$.s"],
}


def outcome(expression: str, payload: Any = PAYLOAD) -> bool | str:
    result = compile_filter(expression).evaluate(payload)
    if result.error is not None:
        assert result.matched is False
        return "error"
    return result.matched


def rows(*table: tuple[str, bool | str, str]) -> Any:
    return pytest.mark.parametrize(
        ("expression", "expected"), [pytest.param(e, x, id=i) for e, x, i in table]
    )


@rows(
    ("[?($.s == 'abc')]", True, "string-equals-string"),
    ('[?($.s == "abc")]', True, "double-quoted-string"),
    ("[?($.s == 'ABC')]", False, "strings-are-case-sensitive"),
    ("[?($.n == 5)]", True, "number-equals-number"),
    ("[?($.n == 5.00)]", True, "numbers-compare-by-value-not-scale"),
    ("[?($.one_f == 1)]", True, "double-one-equals-integer-one"),
    ("[?($.tiny == 0.1)]", True, "decimal-literal-equals-the-doubles-shortest-text"),
    ("[?($.big == 12345678901234567890)]", True, "big-integers-are-exact"),
    ("[?($.exp == 1e20)]", True, "exponent-literal"),
    ("[?($.exp == 100000000000000000000)]", True, "exponent-double-equals-plain-integer"),
    ("[?($.n == '5')]", True, "number-left-string-right-compares-numerically"),
    ("[?($.one == '1.0')]", True, "number-left-equals-string-with-same-value"),
    ("[?('1.0' == $.one)]", False, "string-left-compares-with-the-numbers-text"),
    ("[?('1' == $.one)]", True, "string-left-equals-number-with-same-text"),
    ("[?($.numstr_dec == 1)]", False, "numeric-string-left-with-different-text"),
    ("[?($.s == 5)]", False, "string-vs-number-is-false-not-an-error"),
    ("[?($.n == 'abc')]", False, "number-vs-non-numeric-string"),
    ("[?($.t == true)]", True, "boolean-equals-boolean"),
    ("[?($.t == 'true')]", False, "boolean-never-equals-a-string"),
    ("[?($.nul == null)]", True, "null-equals-null"),
    ("[?($.missing == null)]", False, "missing-path-is-not-null"),
    ("[?($.s == null)]", False, "string-is-not-null"),
    ("[?($.missing == 'x')]", False, "missing-path-equals-nothing"),
    ("[?($.arr == ['a','b','c'])]", True, "array-equals-array-literal"),
    ("[?($.arr == ['a','c','b'])]", False, "array-equality-is-ordered"),
    ("[?(['a','b','c'] == $.arr)]", False, "array-literal-on-the-left-never-equals"),
    ("[?($.nums == [1,2,3])]", True, "integer-arrays"),
    ("[?($.nums == [1.0,2,3])]", False, "integer-and-double-elements-differ"),
    ("[?($.obj == {'k': 'v'})]", True, "object-equals-object-literal"),
    ("[?($.arr == 'a')]", False, "array-is-not-a-string"),
    ("[?($.emoji == '\\ud83d\\ude00')]", True, "surrogate-pair-escapes-form-one-character"),
    ("[?($.s == 'a\\u0062c')]", True, "unicode-escape"),
    ("[?($.s == 'ab\\c')]", True, "unknown-escape-keeps-the-character"),
)
def test_equals(expression: str, expected: bool | str) -> None:
    assert outcome(expression) == expected


@rows(
    ("[?($.s != 'x')]", True, "different-strings"),
    ("[?($.s != 'abc')]", False, "same-string"),
    ("[?($.missing != 'x')]", True, "missing-path-is-unequal-to-anything"),
    ("[?($.nul != null)]", False, "null-is-not-unequal-to-null"),
    ("[?($.s != 5)]", True, "string-and-number-are-unequal"),
    ("[?($.n === 5)]", True, "type-safe-equal-same-type"),
    ("[?($.n === '5')]", False, "type-safe-equal-different-types"),
    ("[?($.s === 'abc')]", True, "type-safe-equal-strings"),
    ("[?($.n !== '5')]", True, "type-safe-unequal-different-types"),
    ("[?($.s !== 'abc')]", False, "type-safe-unequal-same-value"),
)
def test_not_equals_and_type_safe_equality(expression: str, expected: bool | str) -> None:
    assert outcome(expression) == expected


@rows(
    ("[?($.n > 4)]", True, "greater"),
    ("[?($.n >= 5)]", True, "greater-or-equal"),
    ("[?($.n < 5)]", False, "not-less"),
    ("[?($.n <= 5)]", True, "less-or-equal"),
    ("[?($.f > 1.49)]", True, "decimals"),
    ("[?($.tiny < 0.10000000000000001)]", True, "exact-decimal-comparison"),
    ("[?($.exp > 99999999999999999999)]", True, "beyond-long-range"),
    ("[?($.s < 'abd')]", True, "strings-lexicographic"),
    ("[?($.s > 'ab')]", True, "longer-string-is-greater"),
    ("[?($.ten > 9)]", False, "string-vs-number-compares-text"),
    ("[?($.n > '10')]", True, "number-vs-string-compares-text"),
    ("[?($.emoji < '\\uffff')]", True, "strings-compare-by-utf16-code-units"),
    ("[?($.missing > 1)]", False, "missing-is-not-ordered"),
    ("[?($.nul < 1)]", False, "null-is-not-ordered"),
    ("[?($.t > false)]", False, "booleans-are-not-ordered"),
    ("[?($.arr > 1)]", False, "arrays-are-not-ordered"),
)
def test_ordering(expression: str, expected: bool | str) -> None:
    assert outcome(expression) == expected


@rows(
    ("[?($.s =~ /abc/)]", True, "whole-string-matches"),
    ("[?($.s =~ /ab/)]", False, "must-match-the-whole-string"),
    ("[?($.s =~ /.*b.*/)]", True, "wildcards"),
    ("[?($.s =~ /ABC/i)]", True, "flag-i-ignores-case"),
    ("[?($.s =~ /ABC/)]", False, "case-sensitive-by-default"),
    ("[?($.ecole =~ /école/i)]", False, "flag-i-alone-folds-ascii-only"),
    ("[?($.ecole =~ /école/iu)]", True, "flag-u-folds-unicode"),
    ("[?($.n =~ /5/)]", True, "number-matches-its-text"),
    ("[?($.one_f =~ /1\\.0/)]", True, "double-text-keeps-point-zero"),
    ("[?($.t =~ /true/)]", True, "boolean-matches-its-text"),
    ("[?($.missing =~ /.*/)]", True, "missing-path-matches-as-empty-string"),
    ("[?($.missing =~ /.+/)]", False, "missing-path-is-empty"),
    ("[?($.obj =~ /.*/)]", True, "object-matches-as-empty-string"),
    ("[?($.arr =~ /b/)]", True, "array-matches-if-any-element-matches"),
    ("[?($.arr =~ /z/)]", False, "array-without-matching-element"),
    ("[?($.objs =~ /x/)]", "error", "array-of-objects-cannot-be-matched"),
    ("[?(/ab./ =~ $.s)]", True, "regex-on-the-left"),
    ("[?($.s =~ 'abc')]", False, "a-string-is-not-a-regex"),
    ("[?($.ml =~ /a.b/)]", False, "dot-excludes-newline"),
    ("[?($.cr =~ /a.b/)]", False, "dot-excludes-every-java-line-terminator"),
    ("[?($.cr =~ /a.b/d)]", True, "flag-d-unix-lines-dot-excludes-only-newline"),
    ("[?($.ml =~ /a.b/s)]", True, "flag-s-dot-matches-newline"),
    ("[?($.word =~ /\\w+/)]", False, "word-class-is-ascii"),
    ("[?($.word =~ /\\w+/U)]", True, "flag-U-unicode-classes"),
    ("[?($.s =~ /a b c/x)]", True, "flag-x-ignores-pattern-whitespace"),
)
def test_regex_match(expression: str, expected: bool | str) -> None:
    assert outcome(expression) == expected


@rows(
    ("[?('a' in $.arr)]", True, "element-in-array"),
    ("[?('z' in $.arr)]", False, "element-not-in-array"),
    ("[?($.s in ['abc', 'x'])]", True, "value-in-literal-list"),
    ("[?($.s IN ['abc'])]", True, "word-operators-are-case-insensitive"),
    ("[?($.n in [1, 5])]", True, "number-in-numbers"),
    ("[?($.n in ['5'])]", True, "number-in-numeric-strings"),
    ("[?($.numstr in [5])]", True, "numeric-string-in-numbers-by-text"),
    ("[?($.numstr_dec in [1])]", False, "string-1.0-is-not-text-of-1"),
    ("[?($.nul in [null])]", True, "null-in-list"),
    ("[?($.t in [true])]", True, "boolean-in-list"),
    ("[?($.missing in ['x'])]", False, "missing-path-is-in-nothing"),
    ("[?($.missing nin ['x'])]", True, "missing-path-is-not-in-anything"),
    ("[?('a' nin $.arr)]", False, "nin-element-present"),
    ("[?('z' nin $.arr)]", True, "nin-element-absent"),
    ("[?('a' in $.s)]", "error", "string-on-the-right-is-an-error"),
    ("[?('a' nin $.s)]", "error", "nin-with-string-on-the-right-is-an-error-too"),
    ("[?('a' in $.missing)]", "error", "missing-path-on-the-right-is-an-error"),
    ("[?('a' in $.obj)]", False, "object-on-the-right-is-false"),
    ("[?('a' nin $.obj)]", True, "nin-object-on-the-right-is-true"),
    ("[?('x' in $.objs)]", "error", "array-of-objects-cannot-be-searched"),
    ("[?($.nums in [[1,2,3]])]", "error", "nested-array-literal-cannot-be-searched"),
    ("[?('$.s' in $.pathlike)]", False, "path-like-strings-never-equal"),
    ("[?('q' in $.quoted)]", True, "quoted-array-strings-lose-their-quotes"),
)
def test_in_and_nin(expression: str, expected: bool | str) -> None:
    assert outcome(expression) == expected


@rows(
    ("[?($.arr subsetof ['a','b','c','d'])]", True, "subset"),
    ("[?($.arr subsetof ['a'])]", False, "not-a-subset"),
    ("[?($.empty_arr subsetof ['a'])]", True, "empty-array-is-a-subset"),
    ("[?($.arr subsetof $.obj)]", False, "object-on-the-right-is-false"),
    ("[?($.obj subsetof ['a'])]", False, "object-on-the-left-is-false"),
    ("[?($.s subsetof ['abc'])]", "error", "string-on-the-left-is-an-error"),
    ("[?($.arr anyof ['z','c'])]", True, "anyof-overlap"),
    ("[?($.arr anyof ['z'])]", False, "anyof-no-overlap"),
    ("[?($.empty_arr anyof ['a'])]", False, "anyof-empty-array"),
    ("[?($.arr anyof 'a')]", "error", "anyof-string-on-the-right-is-an-error"),
    ("[?($.arr noneof ['z'])]", True, "noneof-no-overlap"),
    ("[?($.arr noneof ['a','z'])]", False, "noneof-overlap"),
    ("[?($.empty_arr noneof ['a'])]", True, "noneof-empty-array"),
    ("[?($.arr noneof $.obj)]", False, "noneof-object-is-false-not-true"),
    ("[?($.missing noneof ['a'])]", "error", "noneof-missing-path-is-an-error"),
)
def test_set_operators(expression: str, expected: bool | str) -> None:
    assert outcome(expression) == expected


@rows(
    ("[?($.arr size 3)]", True, "array-length"),
    ("[?($.arr size 2)]", False, "wrong-array-length"),
    ("[?($.empty_arr size 0)]", True, "empty-array"),
    ("[?($.s size 3)]", True, "string-length"),
    ("[?($.emoji size 2)]", True, "string-length-counts-utf16-units"),
    ("[?($.obj size -1)]", True, "object-size-is-minus-one"),
    ("[?($.n size 1)]", False, "number-has-no-size"),
    ("[?($.missing size 0)]", False, "missing-path-has-no-size"),
    ("[?($.arr size 3.9)]", True, "size-truncates-the-number"),
    ("[?($.arr size '3')]", False, "size-needs-a-number"),
    ("[?($.empty_arr empty true)]", True, "empty-array-is-empty"),
    ("[?($.arr empty false)]", True, "array-is-not-empty"),
    ("[?($.arr empty true)]", False, "array-is-not-empty-true"),
    ("[?($.empty_s empty true)]", True, "empty-string-is-empty"),
    ("[?($.s empty false)]", True, "string-is-not-empty"),
    ("[?($.empty_obj empty true)]", "error", "empty-on-an-object-fails-as-in-jayway"),
    ("[?($.n empty true)]", False, "number-is-never-empty"),
    ("[?($.missing empty false)]", False, "missing-path-is-neither"),
    ("[?($.s empty 1)]", "error", "empty-needs-a-boolean"),
)
def test_size_and_empty(expression: str, expected: bool | str) -> None:
    assert outcome(expression) == expected


@rows(
    ("[?($.s contains 'b')]", True, "string-contains-substring"),
    ("[?($.arr contains 'b')]", True, "array-contains-element"),
    ("[?($.arr contains 'z')]", False, "array-lacks-element"),
    ("[?($.n contains 5)]", False, "number-contains-nothing"),
    ("[?($.t exists true)]", True, "exists-operator-compares-booleans"),
    ("[?($.s exists true)]", "error", "exists-operator-on-a-string-fails"),
    ("[?($.s exists 'x')]", "error", "exists-operator-without-booleans-fails"),
    ("[?($.arr all ['a'])]", "error", "all-cannot-be-evaluated-from-a-string-filter"),
    ("[?($.s type 'string')]", "error", "type-cannot-be-evaluated-from-a-string-filter"),
    ("[?($.s matches 'x')]", "error", "matches-cannot-be-evaluated-from-a-string-filter"),
)
def test_other_operators(expression: str, expected: bool | str) -> None:
    assert outcome(expression) == expected


@rows(
    ("[?($.s)]", True, "present-property-exists"),
    ("[?($.missing)]", False, "absent-property"),
    ("[?(!$.missing)]", True, "negated-absent-property"),
    ("[?(!$.s)]", False, "negated-present-property"),
    ("[?($.nul)]", True, "null-value-exists"),
    ("[?($.empty_arr)]", True, "empty-array-exists-in-jayway-2.9"),
    ("[?($.objs[*].x)]", True, "property-on-every-element"),
    ("[?($.mixed[*].x)]", False, "property-missing-on-one-element-fails-the-test"),
    ("[?($..nothing)]", True, "deep-scan-selecting-nothing-still-exists-in-jayway-2.9"),
    ("[?($.arr[5])]", False, "out-of-range-index"),
    ("[?($.s.x)]", False, "property-of-a-string"),
    ("[?(@)]", True, "the-payload-itself"),
)
def test_existence(expression: str, expected: bool | str) -> None:
    assert outcome(expression) == expected


@rows(
    ("[?($.s == 'abc' && $.n == 5)]", True, "and-both-true"),
    ("[?($.s == 'abc' && $.n == 4)]", False, "and-one-false"),
    ("[?($.s == 'x' || $.n == 5)]", True, "or-one-true"),
    ("[?(!($.s == 'x'))]", True, "not-false"),
    ("[?(!($.s == 'abc'))]", False, "not-true"),
    ("[?($.s == 'x' && $.n == 5 || $.t == true)]", True, "and-binds-tighter-than-or"),
    ("[?($.s == 'x' && ($.n == 5 || $.t == true))]", False, "parentheses-override-precedence"),
    ("[?($.s == 'abc' || 'a' in $.s)]", True, "or-short-circuits-past-an-error"),
    ("[?($.s == 'x' && 'a' in $.s)]", False, "and-short-circuits-past-an-error"),
    ("[?($.s == 'x' || 'a' in $.s)]", "error", "error-reached-by-or"),
    ("[?(!('a' in $.s))]", "error", "negation-does-not-turn-an-error-into-a-match"),
    ("[?(!$.s == 'abc')]", True, "bang-before-a-compared-path-is-ignored"),
    ("[?(!!$.s)]", True, "double-negation"),
    ("[?(($.s == 'abc') && ($.n == 5))]", True, "parenthesised-operands"),
    ("[?($.s == 'abc') && ($.n == 5)]", True, "outer-parentheses-are-an-ordinary-group"),
)
def test_logical_operators(expression: str, expected: bool | str) -> None:
    assert outcome(expression) == expected
