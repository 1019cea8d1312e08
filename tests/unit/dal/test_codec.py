"""The table codec: cursors, conditional writes, and values as DynamoDB stores them."""

from __future__ import annotations

import pytest

from herald.dal import layout
from herald.dal.codec import InvalidCursorError, from_ddb, pack_cursor, to_ddb, unpack_cursor
from herald.logic.services import Services


def test_a_cursor_round_trips_its_state() -> None:
    state = {"k": layout.subscription("p1", "s1")}

    assert unpack_cursor(pack_cursor(state)) == state


@pytest.mark.parametrize("cursor", ["not base64!", "bm90IGpzb24", pack_cursor({"k": 1})[:-2] + "!!"])
def test_a_cursor_this_api_did_not_make_is_an_invalid_cursor_error(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        unpack_cursor(cursor)


def test_a_cursor_of_another_list_is_refused_before_dynamodb_sees_it(services: Services) -> None:
    foreign = pack_cursor({"k": layout.subscription("p2", "s1")})

    with pytest.raises(InvalidCursorError, match="does not belong"):
        services.subscriptions.list_page("p1", 10, foreign)


def test_numbers_come_back_as_ints_and_floats_and_none_is_left_out() -> None:
    item = {"a": 1, "b": 0.25, "c": None, "d": [2, {"e": 1.5}]}

    assert from_ddb(to_ddb(item)) == {"a": 1, "b": 0.25, "d": [2, {"e": 1.5}]}


def test_a_conditional_put_that_loses_says_so(services: Services) -> None:
    item = {**layout.custom_code("p1", "X"), "code": "X"}

    assert services.table.put(item, condition="attribute_not_exists(pk)")
    assert not services.table.put(item, condition="attribute_not_exists(pk)")


def test_a_conditional_delete_gives_the_item_to_exactly_one_caller(services: Services) -> None:
    key = layout.console_link("h")
    services.table.put({**key, "keyHash": "k"})

    first = services.table.delete_if(key, "attribute_exists(pk)", returns_old=True)
    second = services.table.delete_if(key, "attribute_exists(pk)", returns_old=True)

    assert first is not None and first["keyHash"] == "k" and second is None
