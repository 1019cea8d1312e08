"""Cases restated from Jayway's own test suite (FilterCompilerTest, FilterTest, InlineFilterTest).

Jayway applies ``$[?(...)]`` to each element of an array; our filters apply to the payload itself, so
element-wise cases are checked by evaluating the filter on each element (none of them uses ``$``).
"""

from __future__ import annotations

from typing import Any

import pytest

from herald.filters import FilterSyntaxError, compile_filter

BOOKS: list[dict[str, Any]] = [
    {
        "category": "reference",
        "author": "Nigel Rees",
        "title": "Sayings of the Century",
        "display-price": 8.95,
    },
    {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword of Honour", "display-price": 12.99},
    {
        "category": "fiction",
        "author": "Herman Melville",
        "title": "Moby Dick",
        "isbn": "0-553-21311-3",
        "display-price": 8.99,
    },
    {
        "category": "fiction",
        "author": "J. R. R. Tolkien",
        "title": "The Lord of the Rings",
        "isbn": "0-395-19395-8",
        "display-price": 22.99,
    },
]


def selected(expression: str, elements: list[Any]) -> list[Any]:
    compiled = compile_filter(expression)
    return [element for element in elements if compiled.matches(element)]


@pytest.mark.parametrize(
    "expression",
    [
        "[?(@)]",
        "[?(@.firstname)]",
        "[?($['firstname'].lastname)]",
        "[?($['firstname']['lastname'].*)]",
        "[?($['firstname']['num_gt'] > 1.1)]",
        "[?($['firstname']['str_eq'] == '')]",
        "[?($['firstname']['str_eq'] == null)]",
        "[?((@.firstname || @.lastname) && @.and)]",
        "[?((@.a && @.b || @.c) || @.x)]",
        "[?(@.a IN [1,2,3])]",
        "[?(@.a IN {'foo':'bar'})]",
        "[?(@.value<'7')]",
        "[?(@.message == 'it\\\\')]",
        "[?(@.message.min() > 10)]",
        "[?(@.message.min()==10)]",
        "[?(10 == @.message.min())]",
        "[?(((@)))]",
        "[?(@.name =~ /.*?/i)]",
        '[?($["firstname"]["lastname"])]',
        '[?($["firstname", "lastname"])]',
        "[?(((@.a && @.b || @.c)) || @.x)]",
        "[?('apa' == \"apa\")]",
        "[?(@[')]@$)]'] == ')]@$)]')]",
        "[?(!@.foo)]",
    ],
)
def test_filter_compiler_test_valid_filters_compile(expression: str) -> None:
    assert compile_filter(expression).expression == expression


@pytest.mark.parametrize(
    "expression",
    [
        "[?(@.foo == x)]",
        "[?(@))]",
        "[?(@ FOO 1)]",
        "[?(@ || )]",
        "[?(@ == 'foo )]",
        "[?(@ == 1' )]",
        "[?(@.foo bar == 1)]",
        "[?(@.i == 5 @.i == 8)]",
        "[?(!5)]",
        "[?(!'foo')]",
    ],
)
def test_filter_compiler_test_invalid_filters_do_not_compile(expression: str) -> None:
    with pytest.raises(FilterSyntaxError):
        compile_filter(expression)


def test_number_and_numeric_string_are_equal_either_way_round() -> None:
    assert compile_filter("[?(1 == '1')]").matches({}) is True
    assert compile_filter("[?('1' == 1)]").matches({}) is True
    assert compile_filter("[?(1 === '1')]").matches({}) is False
    assert compile_filter("[?('1' === 1)]").matches({}) is False
    assert compile_filter("[?(1 === 1)]").matches({}) is True


def test_json_array_equality_against_a_path() -> None:
    assert compile_filter("[?(@.foo == [1,2])]").matches({"foo": [1, 2], "bar": {"a": True}}) is True


def test_or_inside_parentheses_then_and() -> None:
    person = {"firstname": "Bob", "surname": "Smith", "age": 30}

    assert (
        compile_filter("[?((@.firstname == 'Bob' || @.firstname == 'Jane') && @.surname == 'Doe')]").matches(
            person
        )
        is False
    )
    assert (
        compile_filter(
            "[?((@.firstname == 'Bob' || @.firstname == 'Jane') && @.surname == 'Smith')]"
        ).matches(person)
        is True
    )


def test_object_compared_with_itself() -> None:
    assert len(selected("[?(@ == @)]", BOOKS)) == 4
    assert len(selected("[?(@.category != @.category)]", BOOKS)) == 0
    assert len(selected("[?(@.category != @)]", BOOKS)) == 4


def test_or_of_equalities_selects_in_order() -> None:
    authors = [
        b["author"] for b in selected("[?(@.author == 'Nigel Rees' || @.author == 'Evelyn Waugh')]", BOOKS)
    ]

    assert authors == ["Nigel Rees", "Evelyn Waugh"]


def test_literal_only_filters_hit_all_or_none() -> None:
    assert len(selected("[?('a' == 'a')]", BOOKS)) == 4
    assert selected("[?('a' == 'b')]", BOOKS) == []


def test_pattern_on_either_side_and_ignore_case() -> None:
    assert [b["author"] for b in selected("[?(/reference/ =~ @.category)]", BOOKS)] == ["Nigel Rees"]
    assert selected("[?(@.category =~ /REFERENCE/)]", BOOKS) == []
    assert [b["author"] for b in selected("[?(@.category =~ /REFERENCE/i)]", BOOKS)] == ["Nigel Rees"]


def test_negated_existence() -> None:
    assert [b["author"] for b in selected("[?(!@.isbn)]", BOOKS)] == ["Nigel Rees", "Evelyn Waugh"]


def test_existence_of_null_elements() -> None:
    values = [0, 1, None, 2, 3]

    assert selected("[?(@)]", values) == values
    assert selected("[?(@ != null)]", values) == [0, 1, 2, 3]
    assert selected("[?(!@)]", values) == []


@pytest.mark.parametrize(
    ("expression", "value", "expected"),
    [
        ("[?(@.value=='5')]", "5", True),
        ("[?(@.value==5)]", 5, True),
        ("[?(@.value=='5.1.26')]", "5.1.26", True),
        ("[?(@.value=='5.1.26')]", "5", False),
        ("[?(@.value=='5.1.26')]", 5, False),
        ("[?(@.value=='5.1.26')]", 5.1, False),
        ("[?(@.value=='5')]", "5.1.26", False),
        ("[?(@.value==5)]", "5.1.26", False),
        ("[?(@.value==5.1)]", "5.1.26", False),
        ("[?(@.value<'7')]", "5", True),
        ("[?(@.value<'5')]", "7", False),
        ("[?(@.value<7)]", 5, True),
        ("[?(@.value<5)]", 7, False),
        ("[?(@.value<7.1)]", 5, True),
        ("[?(@.value<5.1)]", 7, False),
        ("[?(@.value<7)]", 5.1, True),
        ("[?(@.value<5)]", 7.1, False),
    ],
)
def test_comparisons_do_not_break_on_mixed_types(expression: str, value: Any, expected: bool) -> None:
    assert compile_filter(expression).matches({"value": value}) is expected


def test_escaped_quote_in_a_literal() -> None:
    assert compile_filter("[?(@ == '\\'foo')]").matches("'foo") is True


def test_escaped_slash_in_a_pattern_next_to_other_operands() -> None:
    assert compile_filter("[?(@ =~ /\\/|x/)]").matches("x") is True
    assert compile_filter('[?(@ == "abc" || @ =~ /\\/|x/)]').matches("x") is True
    assert compile_filter('[?(@ =~ /\\/|x/ || @ == "abc")]').matches("x") is True


def test_size_against_a_path() -> None:
    elements = [{"s": "fo", "expected_size": "m"}, {"s": "lo", "expected_size": 2}]

    assert selected("[?(@.s size @.expected_size)]", elements) == [elements[1]]
