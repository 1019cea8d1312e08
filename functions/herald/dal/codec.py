"""The table codec every entity module shares: DynamoDB (de)serialisation, payload packing,
conditional writes, batch reads and paged queries behind opaque cursors.

It knows the table's schema (its key attributes and indexes, from `herald.names`), never a key's
format: that is `herald.dal.layout`'s.

Lists are paged with opaque cursors (`Page.cursor`): base64 JSON naming the last item's keys.
A cursor is checked against the query it continues before DynamoDB sees it, so a forged or
foreign cursor is an `InvalidCursorError`, never a DynamoDB validation error.
"""

from __future__ import annotations

import base64
import json
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from herald.adapters import aws
from herald.names import (
    GSI1_NAME,
    GSI1_PARTITION_KEY,
    GSI1_SORT_KEY,
    GSI2_NAME,
    GSI2_PARTITION_KEY,
    GSI2_SORT_KEY,
    TABLE_PARTITION_KEY,
    TABLE_SORT_KEY,
)

PK, SK = TABLE_PARTITION_KEY, TABLE_SORT_KEY
T = TypeVar("T")
Item = dict[str, Any]
_ser = TypeSerializer()
_de = TypeDeserializer()

# Key attributes of an item as each index sees it: what a cursor (ExclusiveStartKey) must hold.
_KEYS: dict[str | None, tuple[str, ...]] = {
    None: (PK, SK),
    GSI1_NAME: (PK, SK, GSI1_PARTITION_KEY, GSI1_SORT_KEY),
    GSI2_NAME: (PK, SK, GSI2_PARTITION_KEY, GSI2_SORT_KEY),
}
INDEX_KEYS: dict[str | None, tuple[str, str]] = {
    None: (PK, SK),
    GSI1_NAME: (GSI1_PARTITION_KEY, GSI1_SORT_KEY),
    GSI2_NAME: (GSI2_PARTITION_KEY, GSI2_SORT_KEY),
}
# A page stops after this many DynamoDB reads even if filters kept fewer than `limit` items; the
# cursor continues where it stopped. Keeps one API request well inside API Gateway's 29 s.
MAX_READS_PER_PAGE = 10
# zlib level for event payloads: 6 and 9 give the same size on ICA's payloads, 6 is faster.
PAYLOAD_COMPRESSION_LEVEL = 6
# BatchGetItem: at most 100 keys a call; unprocessed keys are asked for again this many times.
BATCH_GET_KEYS = 100
BATCH_GET_TRIES = 6


class InvalidCursorError(ValueError):
    """A pagination cursor this API did not return, or one of another list."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list; `cursor` continues it (None: nothing more)."""

    items: list[T]
    cursor: str | None = None


def pack_cursor(state: dict[str, Any]) -> str:
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unpack_cursor(cursor: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        state = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursorError("the pagination cursor is not one this API returned") from None
    if not isinstance(state, dict):
        raise InvalidCursorError("the pagination cursor is not one this API returned")
    return state


# --- (de)serialisation ----------------------------------------------------------------------------
def to_ddb(item: Item) -> Item:
    """An item (or expression values) in DynamoDB's typed form; None values are left out."""
    return {k: _ser.serialize(_decimalize(v)) for k, v in item.items() if v is not None}


def to_ddb_with_nulls(values: Item) -> Item:
    """Expression values in DynamoDB's typed form, None as NULL (e.g. clearing an attribute)."""
    return {k: _ser.serialize(_decimalize(v)) for k, v in values.items()}


def from_ddb(item: Item) -> Item:
    return {k: _plain(_de.deserialize(v)) for k, v in item.items()}


def _decimalize(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _decimalize(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_decimalize(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def pack_payload(payload: dict[str, Any]) -> str | bytes:
    """An event payload as stored: its compact JSON text (exact numbers, no float/Decimal round
    trips), zlib-compressed (a Binary attribute) whenever that is smaller.

    Compression keeps the event item small: ICA's 1.4 KB analysis payload becomes ~640 bytes,
    and the item, written at ingest and on every status change, fits in one write unit (1 KB).
    """
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    packed = zlib.compress(text, PAYLOAD_COMPRESSION_LEVEL)
    return packed if len(packed) < len(text) else text.decode()


def unpack_payload(stored: Any) -> dict[str, Any]:
    """The payload from either form (items written before compression hold the JSON text)."""
    if isinstance(stored, Binary):
        stored = stored.value  # type: ignore[attr-defined,unused-ignore]  # boto3-stubs omit it; set in __init__
    if isinstance(stored, bytes | bytearray):
        stored = zlib.decompress(stored)
    result: dict[str, Any] = json.loads(stored)
    return result


# --- conditional writes ---------------------------------------------------------------------------
def is_condition_failure(exc: ClientError) -> bool:
    return bool(exc.response["Error"]["Code"] == "ConditionalCheckFailedException")


def conditional_write(write: Callable[[], object]) -> bool:
    """Run a conditional DynamoDB write; False when its condition did not hold (the item was not
    in the state the write expected: another writer got there first, or it is gone)."""
    try:
        write()
    except ClientError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


# --- the table ------------------------------------------------------------------------------------
class Table:
    """Herald's one table: its name, how long items are kept, and the calls every entity makes.

    Keys are given whole, as `herald.dal.layout` makes them ({pk, sk} dicts).
    """

    def __init__(self, name: str, retention_seconds: int, ddb: Any | None = None) -> None:
        self.name = name
        self.retention_seconds = retention_seconds
        self.ddb = ddb if ddb is not None else aws.client("dynamodb")

    def expires_at(self, created_at: float) -> int:
        """The TTL of an item made at `created_at`: kept for the retention period."""
        return int(created_at) + self.retention_seconds

    # --- single items -----------------------------------------------------------------------------
    def get(self, key: Item, consistent: bool = False) -> Item | None:
        resp = self.ddb.get_item(TableName=self.name, Key=to_ddb(key), ConsistentRead=consistent)
        item = resp.get("Item")
        return from_ddb(item) if item else None

    def put(self, item: Item, condition: str | None = None) -> bool:
        """Write the item; with `condition`, False when it did not hold."""
        kwargs: dict[str, Any] = {"TableName": self.name, "Item": to_ddb(item)}
        if condition:
            kwargs["ConditionExpression"] = condition
        return conditional_write(lambda: self.ddb.put_item(**kwargs))

    def delete(self, key: Item) -> None:
        self.ddb.delete_item(TableName=self.name, Key=to_ddb(key))

    def delete_if(
        self,
        key: Item,
        condition: str,
        *,
        names: dict[str, str] | None = None,
        values: Item | None = None,
        returns_old: bool = False,
    ) -> Item | None:
        """Delete the item if `condition` holds: the deleted item ({} unless `returns_old`), or
        None when the condition failed (so exactly one caller takes it)."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "Key": to_ddb(key),
            "ConditionExpression": condition,
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if values:
            kwargs["ExpressionAttributeValues"] = to_ddb(values)
        if returns_old:
            kwargs["ReturnValues"] = "ALL_OLD"
        try:
            resp = self.ddb.delete_item(**kwargs)
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return from_ddb(resp.get("Attributes", {}))

    def update(
        self,
        key: Item,
        expression: str,
        values: Item | None = None,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        returns: str | None = None,
        nulls: bool = False,
    ) -> Item:
        """One UpdateItem; the attributes `returns` asks for (plain values), else {}. `nulls`:
        None values are NULLs (else left out). A failed `condition` raises (see `update_if`)."""
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": to_ddb(key), "UpdateExpression": expression}
        if values:
            kwargs["ExpressionAttributeValues"] = to_ddb_with_nulls(values) if nulls else to_ddb(values)
        if condition:
            kwargs["ConditionExpression"] = condition
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if returns:
            kwargs["ReturnValues"] = returns
        resp = self.ddb.update_item(**kwargs)
        return from_ddb(resp.get("Attributes", {}))

    def update_if(
        self,
        key: Item,
        expression: str,
        values: Item | None = None,
        *,
        condition: str,
        names: dict[str, str] | None = None,
        nulls: bool = False,
    ) -> bool:
        """A conditional UpdateItem; False when its condition did not hold."""
        return conditional_write(
            lambda: self.update(key, expression, values, condition=condition, names=names, nulls=nulls)
        )

    def batch_get(self, keys: list[tuple[str, str]], consistent: bool = False) -> dict[tuple[str, str], Item]:
        """Items by (pk, sk), eventually consistent unless `consistent`; missing ones are absent
        from the answer. 100 keys a BatchGetItem call."""
        found: dict[tuple[str, str], Item] = {}
        unique = list(dict.fromkeys(keys))
        for at in range(0, len(unique), BATCH_GET_KEYS):
            chunk = unique[at : at + BATCH_GET_KEYS]
            request: dict[str, Any] = {
                self.name: {
                    "Keys": [to_ddb({PK: pk, SK: sk}) for pk, sk in chunk],
                    "ConsistentRead": consistent,
                }
            }
            for attempt in range(BATCH_GET_TRIES):
                resp = self.ddb.batch_get_item(RequestItems=request)
                for raw in resp.get("Responses", {}).get(self.name, []):
                    item = from_ddb(raw)
                    found[(item[PK], item[SK])] = item
                request = resp.get("UnprocessedKeys") or {}
                if not request:
                    break
                if attempt == BATCH_GET_TRIES - 1:
                    raise RuntimeError(f"DynamoDB left {len(request[self.name]['Keys'])} keys unread")
                time.sleep(0.05 * 2**attempt)  # throttled: back off as the SDK's retries do
        return found

    # --- queries ----------------------------------------------------------------------------------
    def query(
        self,
        key_condition: str,
        values: Item,
        index: str | None = None,
        limit: int | None = None,
        cursor: Item | None = None,
        forward: bool = True,
        consistent: bool = False,
        names: dict[str, str] | None = None,
        filter_expression: str | None = None,
        projection: str | None = None,
    ) -> tuple[list[Item], Item | None]:
        """One Query call: its items (plain) and DynamoDB's LastEvaluatedKey (typed)."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": to_ddb(values),
            "ScanIndexForward": forward,
        }
        if index:
            kwargs["IndexName"] = index
        else:
            kwargs["ConsistentRead"] = consistent
        if limit:
            kwargs["Limit"] = limit
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if filter_expression:
            kwargs["FilterExpression"] = filter_expression
        if projection:
            kwargs["ProjectionExpression"] = projection
        resp = self.ddb.query(**kwargs)
        return [from_ddb(i) for i in resp.get("Items", [])], resp.get("LastEvaluatedKey")

    def query_all(self, key_condition: str, values: Item, **kwargs: Any) -> list[Item]:
        """Every item a query matches, page after page."""
        items: list[Item] = []
        cursor = None
        while True:
            page, cursor = self.query(key_condition, values, cursor=cursor, **kwargs)
            items.extend(page)
            if not cursor:
                return items

    def partition_all(
        self,
        partition: str,
        index: str | None = None,
        *,
        between: tuple[str, str] | None = None,
        below: str | None = None,
        projection: str | None = None,
        names: dict[str, str] | None = None,
        consistent: bool = False,
    ) -> list[Item]:
        """Every item of one partition of the table or an index, optionally within a sort key
        range (`between` inclusive, or `below` exclusive)."""
        pk_attr, sk_attr = INDEX_KEYS[index]
        attribute_names = {"#pk": pk_attr, **(names or {})}
        values: Item = {":pk": partition}
        condition = "#pk = :pk"
        if between is not None:
            attribute_names["#sk"] = sk_attr
            condition += " AND #sk BETWEEN :lo AND :hi"
            values[":lo"], values[":hi"] = between
        elif below is not None:
            attribute_names["#sk"] = sk_attr
            condition += " AND #sk < :below"
            values[":below"] = below
        return self.query_all(
            condition,
            values,
            index=index,
            names=attribute_names,
            projection=projection,
            consistent=consistent,
        )

    def count(self, partition: str, index: str | None) -> int:
        """How many items one partition of the table or an index holds."""
        pk_attr, _ = INDEX_KEYS[index]
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": pk_attr},
            "ExpressionAttributeValues": to_ddb({":pk": partition}),
            "Select": "COUNT",
        }
        if index:
            kwargs["IndexName"] = index
        total = 0
        while True:
            resp = self.ddb.query(**kwargs)
            total += int(resp.get("Count", 0))
            if not resp.get("LastEvaluatedKey"):
                return total
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def page(
        self,
        *,
        partition: str,
        index: str | None = None,
        sk_prefix: str | None = None,
        sk_between: tuple[str, str] | None = None,
        forward: bool = True,
        limit: int,
        start: Item | None = None,
        keep: Callable[[Item], bool] | None = None,
        filter_expression: str | None = None,
        filter_values: Item | None = None,
        filter_names: dict[str, str] | None = None,
        max_reads: int = MAX_READS_PER_PAGE,
        chunk: int | None = None,
    ) -> tuple[list[Item], Item | None]:
        """Up to `limit` items of one partition that `keep` accepts, and where to continue.

        `start` is a previous call's continuation (plain strings); it is checked against this
        query first. The continuation is the last returned item's keys when the page filled up,
        else DynamoDB's own LastEvaluatedKey (reads budget spent) or None (the end).

        `resolve` turns index entries into the items they stand for (None: gone, skipped), a
        slice at a time so that no more are fetched than the page needs; `keep` sees the
        resolved items, the continuation keeps naming the index entries.
        """
        pk_attr, sk_attr = INDEX_KEYS[index]
        names = {"#pk": pk_attr, **(filter_names or {})}
        values: Item = {":pk": partition, **(filter_values or {})}
        condition = "#pk = :pk"
        if sk_prefix is not None or sk_between is not None:
            names["#sk"] = sk_attr
        if sk_prefix is not None:
            condition += " AND begins_with(#sk, :prefix)"
            values[":prefix"] = sk_prefix
        elif sk_between is not None:
            condition += " AND #sk BETWEEN :lo AND :hi"
            values[":lo"], values[":hi"] = sk_between
        if start is not None:
            _check_start(start, index, partition, sk_prefix, sk_between)
        key_attrs = _KEYS[index]
        if chunk is None:
            chunk = limit if keep is None and filter_expression is None else max(2 * limit, 50)
        found: list[Item] = []
        cursor = to_ddb(start) if start else None
        for _ in range(max_reads):
            page, last = self.query(
                condition,
                values,
                index=index,
                limit=chunk,
                cursor=cursor,
                forward=forward,
                names=names,
                filter_expression=filter_expression,
            )
            for position, item in enumerate(page, 1):
                if keep is not None and not keep(item):
                    continue
                found.append(item)
                if len(found) == limit:
                    more = position < len(page) or last is not None
                    return found, ({a: item[a] for a in key_attrs} if more else None)
            if not last:
                return found, None
            cursor = last
        return found, from_ddb(cursor) if cursor else None

    def paged(self, cursor: str | None, build: Callable[[Item], T], **query: Any) -> Page[T]:
        """`page` behind an opaque cursor, items built into models."""
        start = None
        if cursor:
            state = unpack_cursor(cursor)
            start = state.get("k")
            if set(state) != {"k"} or not isinstance(start, dict):
                raise InvalidCursorError("the pagination cursor is not one this API returned")
        items, after = self.page(start=start, **query)
        return Page([build(i) for i in items], pack_cursor({"k": after}) if after else None)


@dataclass
class _Stream:
    """One partition of a merge: its entries read so far and not yet taken, and where to go on."""

    partition: str
    index: str | None
    chunk: int
    entries: deque[tuple[str, Item]]
    after: Item | None = None  # DynamoDB's LastEvaluatedKey: more to read
    started: bool = False


@dataclass
class ReadBudget:
    """Queries one call may still make (shared by every merge the call runs), and entries it may
    still examine (counted by the caller)."""

    queries: int
    entries: int


class MergedPartitions:
    """Several partitions (of the table or its indexes, each sorted by sort key) read newest
    first as one sequence: a k-way merge of descending queries within a sort key range.

    Iterating yields (sort key, item), each sort key once (a key found in two partitions, e.g. an
    entry written in two layouts, is taken from the first). Each partition is queried once before
    the first item (its head decides the order), then again, with twice the chunk, whenever its
    entries read so far have all been taken. `below` excludes it and every larger key (a page's
    continuation). Iteration stops early, with `spent` set, when a query is due and `budget` has
    none left; every key larger than the last one yielded has then been yielded.
    """

    def __init__(
        self,
        table: Table,
        partitions: list[tuple[str, str | None]],
        *,
        between: tuple[str, str],
        below: str | None,
        first_chunk: int,
        max_chunk: int,
        budget: ReadBudget,
    ) -> None:
        self.table = table
        self.streams = [_Stream(p, index, first_chunk, deque()) for p, index in partitions]
        self.lo = between[0]
        self.hi = between[1] if below is None else min(between[1], below)
        self.below = below
        self.max_chunk = max_chunk
        self.budget = budget
        self.spent = False

    def pending(self) -> bool:
        """Whether anything may remain after what was yielded (read but not taken, or unread)."""
        return self.spent or any(s.entries or s.after or not s.started for s in self.streams)

    def _read(self, stream: _Stream) -> bool:
        if self.budget.queries <= 0:
            self.spent = True
            return False
        self.budget.queries -= 1
        pk_attr, sk_attr = INDEX_KEYS[stream.index]
        items, stream.after = self.table.query(
            "#pk = :pk AND #sk BETWEEN :lo AND :hi",
            {":pk": stream.partition, ":lo": self.lo, ":hi": self.hi},
            index=stream.index,
            limit=stream.chunk,
            cursor=stream.after,
            forward=False,
            names={"#pk": pk_attr, "#sk": sk_attr},
        )
        stream.started = True
        stream.chunk = min(2 * stream.chunk, self.max_chunk)
        stream.entries.extend((i[sk_attr], i) for i in items if self.below is None or i[sk_attr] < self.below)
        return True

    def __iter__(self) -> Iterator[tuple[str, Item]]:
        if self.lo > self.hi:
            return
        last: str | None = None
        while True:
            # Every partition that may hold more must show its head before the newest is chosen:
            # each is read once at first, and again whenever its read entries are all taken.
            for stream in self.streams:
                while not stream.entries and (not stream.started or stream.after is not None):
                    if not self._read(stream):
                        return
            live = [s for s in self.streams if s.entries]
            if not live:
                return
            top = max(live, key=lambda s: s.entries[0][0])
            key, item = top.entries.popleft()
            if key != last:
                last = key
                yield key, item


def _check_start(
    start: Item,
    index: str | None,
    partition: str,
    sk_prefix: str | None,
    sk_between: tuple[str, str] | None,
) -> None:
    pk_attr, sk_attr = INDEX_KEYS[index]
    ok = (
        set(start) == set(_KEYS[index])
        and all(isinstance(v, str) and 0 < len(v.encode()) <= 1024 for v in start.values())
        and start[pk_attr] == partition
        and (sk_prefix is None or start[sk_attr].startswith(sk_prefix))
        and (sk_between is None or sk_between[0] <= start[sk_attr] <= sk_between[1])
    )
    if not ok:
        raise InvalidCursorError("the pagination cursor does not belong to this list")
