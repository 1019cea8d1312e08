"""Strict JSON: nothing goes in that a strict receiver could not parse."""

from __future__ import annotations

import pytest

from herald.domain import jsontext


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"x": NaN}', "NaN is not a JSON value"),
        ('{"x": -Infinity}', "-Infinity is not a JSON value"),
        ('{"x": 1e400}', "the number 1e400 is out of range"),
        ('{"x": "\\ud800"}', "unpaired surrogate"),
        ('{"a": ' * 3000 + "1" + "}" * 3000, "nested too deeply"),
        ('{"x": ' + "9" * 5000 + "}", "Exceeds the limit"),
        ("{nope", "Expecting property name enclosed in double quotes"),
    ],
    ids=["nan", "infinity", "overflow", "lone-surrogate", "deep", "huge-integer", "syntax"],
)
def test_what_strict_parsers_refuse_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(jsontext.NotJson, match=reason):
        jsontext.loads(text)


def test_ordinary_json_including_paired_surrogates_is_read() -> None:
    assert jsontext.loads('{"emoji": "\\ud83d\\ude00", "n": 1.5, "big": 12345678901234567890}') == {
        "emoji": "😀",
        "n": 1.5,
        "big": 12345678901234567890,
    }
