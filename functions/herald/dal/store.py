"""DynamoDB access: the only module that knows Herald's key layout.

One table, overloaded keys (names in `herald.names`):

Items (pk, sk; then the index entries):
- channel: CHANNEL#{id}, CHANNEL; gsi2 CHANNELS / {createdAt}#{id}
- subscription: PROJECT#{p}, SUBSCRIPTION#{id}; gsi1 PROJECT#{p}#CODE#{code} / {id};
  gsi2 CHANNEL#{c}#SUBSCRIPTIONS / {id}
- custom event code: PROJECT#{p}, CUSTOMCODE#{code}
- event: EVENT#{id}, EVENT (no index keys: its updates are one table write; the payload is
  zlib-compressed JSON, a Binary attribute, or JSON text when that is smaller or older)
- event list entry: EVENT#{id}, LISTING (its code, no payload); gsi1 PROJECT#{p}#EVENTS / {time}#{id};
  gsi2 EVENTS#{yyyy-mm-dd} / {time}#{id}. Events stored before list entries existed carry these
  index keys on the event item itself; lists read both kinds.
- unqueued event marker: EVENT#{id}, UNQUEUED; gsi2 UNQUEUED#EVENTS / {time}#{id} (only while an
  event that could not be queued for routing waits for the sweeper)
- notification: EVENT#{eventId}, NOTIFICATION#{subId}; gsi2 SUBSCRIPTION#{s}#OPEN / {createdAt}#{id}
  (only while not delivered)
- inbound webhook (a project's secret for a platform's signed webhooks): PROJECT#{p}, INBOUND#{id}
- api key: APIKEY#{sha256 of the key}, APIKEY; gsi1 APIKEY#ID#{keyId} / APIKEY;
  gsi2 APIKEYS / {createdAt}#{keyId}

An event and its notifications share a partition, so one query reads an event with every
delivery and attempt. Both indexes project ALL: an item with index keys is copied, and every
write to it rewritten, into each index, which is why the event item (payload, status) has none
and lists fetch the events behind their small list entries (BatchGetItem). Notifications are updated in place (attempts appended), and the
subscription's "open" index entry exists only while a notification is pending, retryable or
failed, which is what the delete guard and the failed-notifications list read.

Lists are paged with opaque cursors (`Page.cursor`): base64 JSON naming the last item's keys.
A cursor is checked against the query it continues before DynamoDB sees it, so a forged or
foreign cursor is a `InvalidCursorError`, never a DynamoDB validation error.
"""

from __future__ import annotations

import base64
import functools
import json
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from herald.adapters import aws
from herald.domain.models import (
    ApiKey,
    Attempt,
    Channel,
    CustomEventCode,
    DeliveryCycle,
    Event,
    InboundWebhook,
    Notification,
    NotificationStatus,
    Subscription,
)
from herald.names import (
    GSI1_NAME,
    GSI1_PARTITION_KEY,
    GSI1_SORT_KEY,
    GSI2_NAME,
    GSI2_PARTITION_KEY,
    GSI2_SORT_KEY,
    TABLE_PARTITION_KEY,
    TABLE_SORT_KEY,
    TABLE_TTL_ATTRIBUTE,
)

PK, SK = TABLE_PARTITION_KEY, TABLE_SORT_KEY
_ser = TypeSerializer()
_de = TypeDeserializer()
T = TypeVar("T")

# Key attributes of an item as each index sees it: what a cursor (ExclusiveStartKey) must hold.
_KEYS: dict[str | None, tuple[str, ...]] = {
    None: (PK, SK),
    GSI1_NAME: (PK, SK, GSI1_PARTITION_KEY, GSI1_SORT_KEY),
    GSI2_NAME: (PK, SK, GSI2_PARTITION_KEY, GSI2_SORT_KEY),
}
_INDEX_KEYS: dict[str | None, tuple[str, str]] = {
    None: (PK, SK),
    GSI1_NAME: (GSI1_PARTITION_KEY, GSI1_SORT_KEY),
    GSI2_NAME: (GSI2_PARTITION_KEY, GSI2_SORT_KEY),
}
# A page stops after this many DynamoDB reads even if filters kept fewer than `limit` items; the
# cursor continues where it stopped. Keeps one API request well inside API Gateway's 29 s.
MAX_READS_PER_PAGE = 10
# Cycles of attempts kept on a notification after reprocessing (item size stays bounded).
MAX_PREVIOUS_CYCLES = 10
# An event is two items in its partition: the event (payload, status) and its list entry (the
# events indexes' keys), plus one item per notification.
EVENT_SK = "EVENT"
CHANNEL_SK = "CHANNEL"  # a channel's own item (its health and rate items sit beside it)
LISTING_SK = "LISTING"
# An event stored but not queued for routing: a marker item in its partition, listed in gsi2
# for the scheduled function's sweeper until it is queued.
UNQUEUED_SK = "UNQUEUED"
UNQUEUED_PARTITION = "UNQUEUED#EVENTS"
_NOT_ROUTED = "(attribute_not_exists(routed) OR routed = :false)"
# Set on an event whose delivery finished before routing marked it routed (see
# `Store.refresh_event_status`).
PROGRESS_BEFORE_ROUTED = "progressBeforeRouted"
# The sort key upper bound for "everything after": above digits, letters and '#'.
_HIGH = "~"
# zlib level for event payloads: 6 and 9 give the same size on ICA's payloads, 6 is faster.
PAYLOAD_COMPRESSION_LEVEL = 6
# A page of index entries that stand for other items (event list entries) fetches at least
# this many of them at a time.
RESOLVE_AT_LEAST = 10
# BatchGetItem: at most 100 keys a call; unprocessed keys are asked for again this many times.
BATCH_GET_KEYS = 100
BATCH_GET_TRIES = 6


class ConflictError(Exception):
    """A conditional write lost: the item exists with different content."""


class InvalidCursorError(ValueError):
    pass


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


def _to_ddb(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(_decimalize(v)) for k, v in item.items() if v is not None}


def _from_ddb(item: dict[str, Any]) -> dict[str, Any]:
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


def _pack_payload(payload: dict[str, Any]) -> str | bytes:
    """An event payload as stored: its compact JSON text (exact numbers, no float/Decimal round
    trips), zlib-compressed (a Binary attribute) whenever that is smaller.

    Compression keeps the event item small: ICA's 1.4 KB analysis payload becomes ~640 bytes,
    and the item, written at ingest and on every status change, fits in one write unit (1 KB).
    """
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    packed = zlib.compress(text, PAYLOAD_COMPRESSION_LEVEL)
    return packed if len(packed) < len(text) else text.decode()


def _unpack_payload(stored: Any) -> dict[str, Any]:
    """The payload from either form (items written before compression hold the JSON text)."""
    if isinstance(stored, Binary):
        stored = stored.value
    if isinstance(stored, bytes | bytearray):
        stored = zlib.decompress(stored)
    result: dict[str, Any] = json.loads(stored)
    return result


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


def aggregate_status(event: Event, notifications: Iterable[Notification]) -> NotificationStatus:
    """One Codex's event status: failed > retryable > pending > success."""
    if event.routingError:
        return NotificationStatus.FAILED
    if not event.routed:
        return NotificationStatus.PENDING
    statuses = {n.status for n in notifications}
    for status in (NotificationStatus.FAILED, NotificationStatus.RETRYABLE, NotificationStatus.PENDING):
        if status in statuses:
            return status
    return NotificationStatus.SUCCESS


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d")


def _sort_time(ts: float) -> str:
    # Fixed width so that string order is time order.
    return f"{ts:017.6f}"


def _attempt_count_condition(attempts_before: int | None) -> str | None:
    if attempts_before is None:
        return None
    if attempts_before == 0:
        return "attribute_not_exists(attempts) OR size(attempts) = :n"
    return "size(attempts) = :n"


class Store:
    def __init__(self, table_name: str, retention_seconds: int, ddb: Any | None = None) -> None:
        self.table = table_name
        self.retention_seconds = retention_seconds
        self.ddb = ddb if ddb is not None else aws.client("dynamodb")

    # --- low level --------------------------------------------------------------------------
    def _get(self, pk: str, sk: str, consistent: bool = False) -> dict[str, Any] | None:
        resp = self.ddb.get_item(
            TableName=self.table, Key=_to_ddb({PK: pk, SK: sk}), ConsistentRead=consistent
        )
        item = resp.get("Item")
        return _from_ddb(item) if item else None

    def _put(self, item: dict[str, Any], condition: str | None = None) -> bool:
        kwargs: dict[str, Any] = {"TableName": self.table, "Item": _to_ddb(item)}
        if condition:
            kwargs["ConditionExpression"] = condition
        return conditional_write(lambda: self.ddb.put_item(**kwargs))

    def _delete(self, pk: str, sk: str) -> None:
        self.ddb.delete_item(TableName=self.table, Key=_to_ddb({PK: pk, SK: sk}))

    def _batch_get(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """Items by (pk, sk), eventually consistent; missing ones are absent from the answer."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        for at in range(0, len(unique), BATCH_GET_KEYS):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [_to_ddb({PK: pk, SK: sk}) for pk, sk in unique[at : at + BATCH_GET_KEYS]]
                }
            }
            for attempt in range(BATCH_GET_TRIES):
                resp = self.ddb.batch_get_item(RequestItems=request)
                for raw in resp.get("Responses", {}).get(self.table, []):
                    item = _from_ddb(raw)
                    found[(item[PK], item[SK])] = item
                request = resp.get("UnprocessedKeys") or {}
                if not request:
                    break
                if attempt == BATCH_GET_TRIES - 1:
                    raise RuntimeError(f"DynamoDB left {len(request[self.table]['Keys'])} keys unread")
                time.sleep(0.05 * 2**attempt)  # throttled: back off as the SDK's retries do
        return found

    def _query(
        self,
        key_condition: str,
        values: dict[str, Any],
        index: str | None = None,
        limit: int | None = None,
        cursor: dict[str, Any] | None = None,
        forward: bool = True,
        consistent: bool = False,
        names: dict[str, str] | None = None,
        filter_expression: str | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": _to_ddb(values),
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
        resp = self.ddb.query(**kwargs)
        return [_from_ddb(i) for i in resp.get("Items", [])], resp.get("LastEvaluatedKey")

    def _query_all(self, key_condition: str, values: dict[str, Any], **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page, cursor = self._query(key_condition, values, cursor=cursor, **kwargs)
            items.extend(page)
            if not cursor:
                return items

    def _page(
        self,
        *,
        partition: str,
        index: str | None = None,
        sk_prefix: str | None = None,
        sk_between: tuple[str, str] | None = None,
        forward: bool = True,
        limit: int,
        start: dict[str, Any] | None = None,
        keep: Callable[[dict[str, Any]], bool] | None = None,
        filter_expression: str | None = None,
        filter_values: dict[str, Any] | None = None,
        filter_names: dict[str, str] | None = None,
        max_reads: int = MAX_READS_PER_PAGE,
        chunk: int | None = None,
        resolve: Callable[[list[dict[str, Any]]], list[dict[str, Any] | None]] | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Up to `limit` items of one partition that `keep` accepts, and where to continue.

        `start` is a previous call's continuation (plain strings); it is checked against this
        query first. The continuation is the last returned item's keys when the page filled up,
        else DynamoDB's own LastEvaluatedKey (reads budget spent) or None (the end).

        `resolve` turns index entries into the items they stand for (None: gone, skipped), a
        slice at a time so that no more are fetched than the page needs; `keep` sees the
        resolved items, the continuation keeps naming the index entries.
        """
        pk_attr, sk_attr = _INDEX_KEYS[index]
        names = {"#pk": pk_attr, **(filter_names or {})}
        values: dict[str, Any] = {":pk": partition, **(filter_values or {})}
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
            self._check_start(start, index, partition, sk_prefix, sk_between)
        key_attrs = _KEYS[index]
        if chunk is None:
            chunk = limit if keep is None and filter_expression is None else max(2 * limit, 50)
        found: list[dict[str, Any]] = []
        cursor = _to_ddb(start) if start else None
        for _ in range(max_reads):
            page, last = self._query(
                condition,
                values,
                index=index,
                limit=chunk,
                cursor=cursor,
                forward=forward,
                names=names,
                filter_expression=filter_expression,
            )
            position = 0
            while position < len(page):
                entries = page[position:]
                if resolve is not None:
                    # At least a few at a time: one fetch per returned item would be many calls.
                    entries = entries[: max(limit - len(found), RESOLVE_AT_LEAST)]
                    items: list[dict[str, Any] | None] = list(resolve(entries))
                else:
                    items = list(entries)
                for entry, item in zip(entries, items, strict=True):
                    position += 1
                    if item is None or (keep is not None and not keep(item)):
                        continue
                    found.append(item)
                    if len(found) == limit:
                        more = position < len(page) or last is not None
                        return found, ({a: entry[a] for a in key_attrs} if more else None)
            if not last:
                return found, None
            cursor = last
        return found, _from_ddb(cursor) if cursor else None

    @staticmethod
    def _check_start(
        start: dict[str, Any],
        index: str | None,
        partition: str,
        sk_prefix: str | None,
        sk_between: tuple[str, str] | None,
    ) -> None:
        pk_attr, sk_attr = _INDEX_KEYS[index]
        ok = (
            set(start) == set(_KEYS[index])
            and all(isinstance(v, str) and 0 < len(v.encode()) <= 1024 for v in start.values())
            and start[pk_attr] == partition
            and (sk_prefix is None or start[sk_attr].startswith(sk_prefix))
            and (sk_between is None or sk_between[0] <= start[sk_attr] <= sk_between[1])
        )
        if not ok:
            raise InvalidCursorError("the pagination cursor does not belong to this list")

    def _paged(self, cursor: str | None, build: Callable[[dict[str, Any]], T], **query: Any) -> Page[T]:
        """`_page` behind an opaque cursor, items built into models."""
        start = None
        if cursor:
            state = unpack_cursor(cursor)
            start = state.get("k")
            if set(state) != {"k"} or not isinstance(start, dict):
                raise InvalidCursorError("the pagination cursor is not one this API returned")
        items, after = self._page(start=start, **query)
        return Page([build(i) for i in items], pack_cursor({"k": after}) if after else None)

    # --- channels ---------------------------------------------------------------------------
    def put_channel(self, channel: Channel) -> None:
        item = channel.model_dump(mode="json")
        item.update(
            {
                PK: f"CHANNEL#{channel.id}",
                SK: CHANNEL_SK,
                GSI2_PARTITION_KEY: "CHANNELS",
                GSI2_SORT_KEY: f"{channel.createdAt}#{channel.id}",
            }
        )
        self._put(item)

    def get_channel(self, channel_id: str) -> Channel | None:
        item = self._get(f"CHANNEL#{channel_id}", CHANNEL_SK)
        return Channel.model_validate(item) if item else None

    def list_channels(self) -> list[Channel]:
        items = self._query_all(f"{GSI2_PARTITION_KEY} = :pk", {":pk": "CHANNELS"}, index=GSI2_NAME)
        return [Channel.model_validate(i) for i in items]

    def list_channels_page(
        self, limit: int, cursor: str | None, visible: Callable[[Channel], bool] | None = None
    ) -> Page[Channel]:
        """Oldest first; `visible` decides which channels the caller may see."""

        def keep(item: dict[str, Any]) -> bool:
            return visible is None or visible(Channel.model_validate(item))

        return self._paged(
            cursor, Channel.model_validate, partition="CHANNELS", index=GSI2_NAME, limit=limit, keep=keep
        )

    def replace_channel(self, channel: Channel) -> bool:
        """Overwrite a channel that still exists; False if it was deleted meanwhile."""
        item = channel.model_dump(mode="json")
        item.update(
            {
                PK: f"CHANNEL#{channel.id}",
                SK: CHANNEL_SK,
                GSI2_PARTITION_KEY: "CHANNELS",
                GSI2_SORT_KEY: f"{channel.createdAt}#{channel.id}",
            }
        )
        return self._put(item, condition=f"attribute_exists({PK})")

    def delete_channel(self, channel_id: str) -> None:
        self.ddb.delete_item(TableName=self.table, Key=_to_ddb({PK: f"CHANNEL#{channel_id}", SK: CHANNEL_SK}))

    def channel_subscription_projects(self, channel_id: str) -> set[str]:
        """The projects of the subscriptions (of any project) that deliver through this channel."""
        projects: set[str] = set()
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": GSI2_NAME,
            "KeyConditionExpression": "#pk = :pk",
            "ProjectionExpression": "projectId",
            "ExpressionAttributeNames": {"#pk": GSI2_PARTITION_KEY},
            "ExpressionAttributeValues": _to_ddb({":pk": f"CHANNEL#{channel_id}#SUBSCRIPTIONS"}),
        }
        while True:
            resp = self.ddb.query(**kwargs)
            projects.update(str(_from_ddb(i).get("projectId")) for i in resp.get("Items", []))
            if not resp.get("LastEvaluatedKey"):
                return projects
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def count_channel_subscriptions(self, channel_id: str) -> int:
        """How many subscriptions (of any project) deliver through this channel."""
        return self._count(f"CHANNEL#{channel_id}#SUBSCRIPTIONS", GSI2_NAME)

    def _count(self, partition: str, index: str | None) -> int:
        pk_attr, _ = _INDEX_KEYS[index]
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": pk_attr},
            "ExpressionAttributeValues": _to_ddb({":pk": partition}),
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

    # --- subscriptions ----------------------------------------------------------------------
    @staticmethod
    def _subscription_item(sub: Subscription) -> dict[str, Any]:
        item = sub.model_dump(mode="json")
        item.update(
            {
                PK: f"PROJECT#{sub.projectId}",
                SK: f"SUBSCRIPTION#{sub.id}",
                GSI1_PARTITION_KEY: f"PROJECT#{sub.projectId}#CODE#{sub.eventCode}",
                GSI1_SORT_KEY: sub.id,
                GSI2_PARTITION_KEY: f"CHANNEL#{sub.notificationChannelId}#SUBSCRIPTIONS",
                GSI2_SORT_KEY: sub.id,
            }
        )
        return item

    def put_subscription(self, sub: Subscription) -> None:
        self._put(self._subscription_item(sub))

    def replace_subscription(self, sub: Subscription) -> bool:
        """Overwrite a subscription that still exists; False if it was deleted meanwhile."""
        return self._put(self._subscription_item(sub), condition=f"attribute_exists({PK})")

    def delete_subscription(self, project_id: str, subscription_id: str) -> None:
        self.ddb.delete_item(
            TableName=self.table,
            Key=_to_ddb({PK: f"PROJECT#{project_id}", SK: f"SUBSCRIPTION#{subscription_id}"}),
        )

    def list_subscriptions_page(
        self,
        project_id: str,
        limit: int,
        cursor: str | None,
        *,
        event_code: str | None = None,
        channel_id: str | None = None,
        enabled: bool | None = None,
        custom: bool | None = None,
    ) -> Page[Subscription]:
        def keep(item: dict[str, Any]) -> bool:
            return (
                (event_code is None or item.get("eventCode") == event_code)
                and (channel_id is None or item.get("notificationChannelId") == channel_id)
                and (enabled is None or bool(item.get("enabled", True)) == enabled)
                and (custom is None or bool(item.get("custom", False)) == custom)
            )

        return self._paged(
            cursor,
            Subscription.model_validate,
            partition=f"PROJECT#{project_id}",
            sk_prefix="SUBSCRIPTION#",
            limit=limit,
            keep=keep,
        )

    def add_filter_strike(self, project_id: str, subscription_id: str) -> int | None:
        """One more costly evaluation of the subscription's filter; its count now (None: gone)."""
        try:
            resp = self.ddb.update_item(
                TableName=self.table,
                Key=_to_ddb({PK: f"PROJECT#{project_id}", SK: f"SUBSCRIPTION#{subscription_id}"}),
                UpdateExpression="ADD filterStrikes :one",
                ConditionExpression=f"attribute_exists({PK})",
                ExpressionAttributeValues=_to_ddb({":one": 1}),
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return int(_from_ddb(resp["Attributes"])["filterStrikes"])

    def clear_filter_strikes(self, project_id: str, subscription_id: str) -> None:
        conditional_write(
            lambda: self.ddb.update_item(
                TableName=self.table,
                Key=_to_ddb({PK: f"PROJECT#{project_id}", SK: f"SUBSCRIPTION#{subscription_id}"}),
                UpdateExpression="SET filterStrikes = :zero",
                ConditionExpression=f"attribute_exists({PK})",
                ExpressionAttributeValues=_to_ddb({":zero": 0}),
            )
        )

    def quarantine_subscription(self, project_id: str, subscription_id: str, reason: str, at: str) -> bool:
        """Disable an enabled subscription, saying why; False if it was not enabled (or is gone)."""
        return conditional_write(
            lambda: self.ddb.update_item(
                TableName=self.table,
                Key=_to_ddb({PK: f"PROJECT#{project_id}", SK: f"SUBSCRIPTION#{subscription_id}"}),
                UpdateExpression="SET enabled = :false, disabledReason = :why, disabledAt = :at, updatedAt = :at",
                ConditionExpression=f"attribute_exists({PK}) AND (enabled = :true OR attribute_not_exists(enabled))",
                ExpressionAttributeValues=_to_ddb(
                    {":false": False, ":true": True, ":why": reason, ":at": at}
                ),
            )
        )

    def get_subscription(self, project_id: str, subscription_id: str) -> Subscription | None:
        item = self._get(f"PROJECT#{project_id}", f"SUBSCRIPTION#{subscription_id}")
        return Subscription.model_validate(item) if item else None

    def list_subscriptions(self, project_id: str) -> list[Subscription]:
        items = self._query_all(
            f"{PK} = :pk AND begins_with({SK}, :sk)",
            {":pk": f"PROJECT#{project_id}", ":sk": "SUBSCRIPTION#"},
        )
        return [Subscription.model_validate(i) for i in items]

    def subscriptions_for(
        self, project_id: str, event_codes: Iterable[str], include_wildcard: bool = True
    ) -> list[Subscription]:
        """Subscriptions of a project to any of these codes or to every code (`*`): index lookups."""
        subs: list[Subscription] = []
        for code in dict.fromkeys((*event_codes, "*") if include_wildcard else tuple(event_codes)):
            items = self._query_all(
                f"{GSI1_PARTITION_KEY} = :pk",
                {":pk": f"PROJECT#{project_id}#CODE#{code}"},
                index=GSI1_NAME,
            )
            subs.extend(Subscription.model_validate(i) for i in items)
        return subs

    # --- custom event codes -----------------------------------------------------------------
    def put_custom_code_if_new(self, code: CustomEventCode) -> bool:
        item = code.model_dump(mode="json")
        item.update({PK: f"PROJECT#{code.projectId}", SK: f"CUSTOMCODE#{code.code}"})
        return self._put(item, condition=f"attribute_not_exists({PK})")

    def get_custom_code(self, project_id: str, code: str) -> CustomEventCode | None:
        item = self._get(f"PROJECT#{project_id}", f"CUSTOMCODE#{code}")
        return CustomEventCode.model_validate(item) if item else None

    def list_custom_codes_page(
        self, project_id: str, limit: int, cursor: str | None
    ) -> Page[CustomEventCode]:
        return self._paged(
            cursor,
            CustomEventCode.model_validate,
            partition=f"PROJECT#{project_id}",
            sk_prefix="CUSTOMCODE#",
            limit=limit,
        )

    # --- events -----------------------------------------------------------------------------
    def _event_item(self, event: Event) -> dict[str, Any]:
        """The event itself, with its payload; no index keys (its list entry carries them)."""
        item = event.model_dump(mode="json", exclude={"payload"})
        item["payload"] = _pack_payload(event.payload)
        item.update(
            {
                PK: f"EVENT#{event.id}",
                SK: EVENT_SK,
                TABLE_TTL_ATTRIBUTE: int(event.createdAt) + self.retention_seconds,
            }
        )
        return item

    def _event_listing_item(self, event: Event) -> dict[str, Any]:
        """The event's entry in the events indexes: keys and code, never the payload.

        Both indexes project ALL, so whatever an item holds is copied, and rewritten, into each
        index entry it has. Keeping the index keys here and off the event item means the event's
        updates (routed, status) are one table write, and the indexes hold a small copy.
        """
        when = _sort_time(event.createdAt)
        return {
            PK: f"EVENT#{event.id}",
            SK: LISTING_SK,
            "eventCode": event.eventCode,
            GSI1_PARTITION_KEY: f"PROJECT#{event.projectId}#EVENTS",
            GSI1_SORT_KEY: f"{when}#{event.id}",
            GSI2_PARTITION_KEY: f"EVENTS#{_day(event.createdAt)}",
            GSI2_SORT_KEY: f"{when}#{event.id}",
            TABLE_TTL_ATTRIBUTE: int(event.createdAt) + self.retention_seconds,
        }

    @staticmethod
    def _event_from(item: dict[str, Any]) -> Event:
        item = dict(item)
        item["payload"] = _unpack_payload(item["payload"])
        return Event.model_validate(item)

    def put_event_if_new(self, event: Event) -> tuple[Event, bool]:
        """Store the event unless one with its id exists; return the stored one and whether it is new.

        The list entry is written first, also only if new: an entry whose event is missing (the
        second write failed) is skipped by lists until a repost of the same id stores the event.
        """
        listed = self._put(self._event_listing_item(event), condition=f"attribute_not_exists({PK})")
        if self._put(self._event_item(event), condition=f"attribute_not_exists({PK})"):
            return event, True
        item = self._get(f"EVENT#{event.id}", EVENT_SK, consistent=True)
        if item is None:  # expired between the two calls: store it again
            self._put(self._event_item(event))
            self._put(self._event_listing_item(event))
            return event, True
        if listed and GSI1_PARTITION_KEY in item:
            # Stored before list entries existed: its own index keys list it already.
            self._delete(f"EVENT#{event.id}", LISTING_SK)
        return self._event_from(item), False

    def get_event(self, event_id: str, consistent: bool = False) -> Event | None:
        item = self._get(f"EVENT#{event_id}", EVENT_SK, consistent=consistent)
        return self._event_from(item) if item else None

    def _listed_events(
        self, entries: list[dict[str, Any]], event_code: str | None = None
    ) -> list[dict[str, Any] | None]:
        """The event items behind events-index entries (None: gone, or not of `event_code`).

        An entry is a list entry (its event is fetched, eventually consistent, as index reads
        are) or, for events stored before list entries existed, the event item itself.
        """
        wanted = {
            e[PK]: True
            for e in entries
            if e[SK] == LISTING_SK and (event_code is None or e.get("eventCode") == event_code)
        }
        fetched = self._batch_get([(pk, EVENT_SK) for pk in wanted])
        out: list[dict[str, Any] | None] = []
        for entry in entries:
            if entry[SK] == LISTING_SK:
                out.append(fetched.get((entry[PK], EVENT_SK)) if entry[PK] in wanted else None)
            else:
                out.append(entry)
        return out

    def get_event_with_notifications(
        self, event_id: str, consistent: bool = False
    ) -> tuple[Event | None, list[Notification]]:
        item, notifications = self._event_partition(event_id, consistent)
        return (self._event_from(item) if item else None), notifications

    def _event_partition(
        self, event_id: str, consistent: bool
    ) -> tuple[dict[str, Any] | None, list[Notification]]:
        """The event's item as stored, and its notifications: one query of its partition."""
        items = self._query_all(f"{PK} = :pk", {":pk": f"EVENT#{event_id}"}, consistent=consistent)
        event: dict[str, Any] | None = None
        notifications: list[Notification] = []
        for item in items:
            if item[SK] == EVENT_SK:
                event = item
            elif item[SK].startswith("NOTIFICATION#"):
                notifications.append(Notification.model_validate(item))
        return event, notifications

    def list_events(
        self,
        project_id: str | None,
        limit: int,
        cursor: str | None,
        *,
        since: float | None = None,
        until: float | None = None,
        event_code: str | None = None,
        status: NotificationStatus | None = None,
        now: float,
        max_days: int = 40,
    ) -> Page[Event]:
        """Events newest first, triggered within [since, until] and the retention period.

        With a project: that project's index. Without (admins): the day buckets, from `until`'s
        day back to `since`'s (or the retention horizon), at most `max_days` buckets per call.
        """
        # Nothing is older than the retention period or newer than now: clamping to both also
        # keeps the fixed-width sort keys and the day buckets within range.
        since = max(since or 0.0, now - self.retention_seconds)
        until = now if until is None else min(until, now)
        bounds = (_sort_time(max(since, 0.0)), _sort_time(max(until, 0.0)) + "#" + _HIGH)

        def keep(item: dict[str, Any]) -> bool:
            return (event_code is None or item.get("eventCode") == event_code) and (
                status is None or item.get("status") == status.value
            )

        if since > until:
            return Page([])

        def resolve(entries: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
            return self._listed_events(entries, event_code)

        if project_id is not None:
            return self._paged(
                cursor,
                self._event_from,
                partition=f"PROJECT#{project_id}#EVENTS",
                index=GSI1_NAME,
                sk_between=bounds,
                forward=False,
                limit=limit,
                keep=keep,
                resolve=resolve,
            )
        first_day, last_day = _day(since), _day(until)
        day, start = last_day, None
        if cursor:
            state = unpack_cursor(cursor)
            day, start = state.get("d"), state.get("k")
            if (
                not set(state) <= {"d", "k"}
                or not isinstance(day, str)
                or not first_day <= day <= last_day
                or (start is not None and not isinstance(start, dict))
            ):
                raise InvalidCursorError("the pagination cursor does not belong to this list")
        found: list[dict[str, Any]] = []
        for _ in range(max_days):
            items, after = self._page(
                partition=f"EVENTS#{day}",
                index=GSI2_NAME,
                sk_between=bounds,
                forward=False,
                limit=limit - len(found),
                start=start,
                keep=keep,
                resolve=resolve,
            )
            found.extend(items)
            if after:
                return Page([self._event_from(i) for i in found], pack_cursor({"d": day, "k": after}))
            day = (datetime.fromisoformat(day) - timedelta(days=1)).date().isoformat()
            start = None
            if day < first_day:
                return Page([self._event_from(i) for i in found])
            if len(found) >= limit:
                break
        return Page([self._event_from(i) for i in found], pack_cursor({"d": day}))

    def mark_routed(self, event_id: str, error: str | None = None) -> None:
        """Routed (clearing an earlier queueing failure), or given up on with `error`."""
        expr = "SET routed = :true"
        values: dict[str, Any] = {":true": True}
        if error:
            expr += ", routingError = :err"
            values[":err"] = error
        else:
            expr += " REMOVE routingError"
        self.ddb.update_item(
            TableName=self.table,
            Key=_to_ddb({PK: f"EVENT#{event_id}", SK: EVENT_SK}),
            UpdateExpression=expr,
            ExpressionAttributeValues=_to_ddb(values),
            ConditionExpression=f"attribute_exists({PK})",
        )

    def mark_unqueued(self, event_id: str, project_id: str, reason: str, at: float) -> bool:
        """The event is stored but could not be queued for routing: failed, visibly, and listed
        for the scheduled function's sweeper, which queues it (or a repost of the same event, or
        the bridge's redelivery, does it first). False if it was routed meanwhile."""
        self._put(
            {
                PK: f"EVENT#{event_id}",
                SK: UNQUEUED_SK,
                "projectId": project_id,
                GSI2_PARTITION_KEY: UNQUEUED_PARTITION,
                GSI2_SORT_KEY: f"{_sort_time(at)}#{event_id}",
                TABLE_TTL_ATTRIBUTE: int(at) + self.retention_seconds,
            }
        )
        marked = conditional_write(
            lambda: self.ddb.update_item(
                TableName=self.table,
                Key=_to_ddb({PK: f"EVENT#{event_id}", SK: EVENT_SK}),
                UpdateExpression="SET routingError = :err, #s = :failed",
                ConditionExpression=f"attribute_exists({PK}) AND {_NOT_ROUTED}",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=_to_ddb(
                    {":err": reason, ":failed": NotificationStatus.FAILED.value, ":false": False}
                ),
            )
        )
        if not marked:
            self._delete(f"EVENT#{event_id}", UNQUEUED_SK)
        return marked

    def unqueued_events(self, marked_before: float, limit: int) -> list[tuple[str, str]]:
        """(event id, project) of events that could not be queued, oldest first."""
        items, _ = self._page(
            partition=UNQUEUED_PARTITION,
            index=GSI2_NAME,
            sk_between=(_sort_time(0), _sort_time(max(marked_before, 0.0)) + "#" + _HIGH),
            limit=limit,
        )
        return [(i[PK].removeprefix("EVENT#"), i["projectId"]) for i in items]

    def unqueued_requeued(self, event_id: str) -> None:
        """The sweeper queued the event: pending again (unless routing already settled it), and
        off the sweeper's list."""
        conditional_write(  # routing may have settled it meanwhile: then it stays as routing left it
            lambda: self.ddb.update_item(
                TableName=self.table,
                Key=_to_ddb({PK: f"EVENT#{event_id}", SK: EVENT_SK}),
                UpdateExpression="SET #s = :pending REMOVE routingError",
                ConditionExpression=f"attribute_exists(routingError) AND {_NOT_ROUTED}",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=_to_ddb(
                    {":pending": NotificationStatus.PENDING.value, ":false": False}
                ),
            )
        )
        self._delete(f"EVENT#{event_id}", UNQUEUED_SK)

    def settle_routing(
        self, event_id: str, status: NotificationStatus, read_status: NotificationStatus
    ) -> bool:
        """Routed, with the status routing knows (its notifications were all just created), in
        one write; clears an earlier queueing failure.

        Conditional on the status routing read and on no delivery having finished before this
        write (see `refresh_event_status`). False when either condition failed or the event is
        gone: the caller then marks it routed and recomputes the status from its notifications.
        """
        return conditional_write(
            lambda: self.ddb.update_item(
                TableName=self.table,
                Key=_to_ddb({PK: f"EVENT#{event_id}", SK: EVENT_SK}),
                UpdateExpression="SET routed = :true, #s = :s REMOVE routingError",
                ConditionExpression=(
                    f"attribute_exists({PK}) AND #s = :read AND attribute_not_exists({PROGRESS_BEFORE_ROUTED})"
                ),
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=_to_ddb(
                    {":true": True, ":s": status.value, ":read": read_status.value}
                ),
            )
        )

    def refresh_event_status(self, event_id: str) -> NotificationStatus | None:
        """Recompute the event's aggregate status from its notifications and store it if it changed.

        Derived, never incremented, so any later call repairs a stale status. Concurrent deliveries
        of one event each call this; the write is conditional on the status this call read, so a
        writer whose read was overtaken by another's write reads again instead of overwriting it.

        Routing sets `routed` (with the status it knows) after it has queued the deliveries, so a
        fast delivery can finish before it: such a delivery sees an unrouted event (status pending
        regardless) and leaves a mark instead, which makes routing's conditional write fail and
        routing recompute the status from the notifications.
        """
        status: NotificationStatus | None = None
        for _ in range(10):
            item, notifications = self._event_partition(event_id, consistent=True)
            if item is None:
                return None
            event = self._event_from(item)
            status = aggregate_status(event, notifications)
            early = (
                not event.routed
                and not event.routingError
                and PROGRESS_BEFORE_ROUTED not in item
                and any(n.status != NotificationStatus.PENDING or n.attempts for n in notifications)
            )
            if status == event.status and not early:
                return status
            expr, condition = "SET #s = :s", "#s = :read"
            values: dict[str, Any] = {":s": status.value, ":read": event.status.value}
            if early:
                expr += f", {PROGRESS_BEFORE_ROUTED} = :true"
                condition += " AND (attribute_not_exists(routed) OR routed = :false)"
                values.update({":true": True, ":false": False})
            written = conditional_write(
                functools.partial(
                    self.ddb.update_item,
                    TableName=self.table,
                    Key=_to_ddb({PK: f"EVENT#{event_id}", SK: EVENT_SK}),
                    UpdateExpression=expr,
                    ConditionExpression=condition,
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues=_to_ddb(values),
                )
            )
            if written:
                return status
            # else someone wrote since this read (or the event expired): read again
        return status

    # --- notifications ----------------------------------------------------------------------
    def _notification_item(self, n: Notification, expires_at: int) -> dict[str, Any]:
        item = n.model_dump(mode="json")
        item.update({PK: f"EVENT#{n.eventId}", SK: f"NOTIFICATION#{n.subscriptionId}"})
        item[TABLE_TTL_ATTRIBUTE] = expires_at
        if n.status != NotificationStatus.SUCCESS:
            item[GSI2_PARTITION_KEY] = f"SUBSCRIPTION#{n.subscriptionId}#OPEN"
            item[GSI2_SORT_KEY] = f"{n.createdAt}#{n.id}"
        return item

    def create_notification_if_new(self, n: Notification, event: Event) -> bool:
        expires_at = int(event.createdAt) + self.retention_seconds
        return self._put(self._notification_item(n, expires_at), condition=f"attribute_not_exists({PK})")

    def get_notification(self, event_id: str, subscription_id: str) -> Notification | None:
        item = self._get(f"EVENT#{event_id}", f"NOTIFICATION#{subscription_id}", consistent=True)
        return Notification.model_validate(item) if item else None

    def record_attempt(
        self,
        event_id: str,
        subscription_id: str,
        attempt: Attempt,
        status: NotificationStatus,
        updated_at: str,
        attempts_before: int | None = None,
        channel_id: str | None = None,
    ) -> bool:
        """Append one attempt and set the status, in place: one write per attempt. `channel_id`:
        the channel the attempt went to (the subscription's at the time), kept on the notification.

        Conditional on the number of attempts read before it: when DynamoDB applies the write but
        its answer is lost, botocore's retry must not append the same attempt twice. Returns False
        when the attempt was already recorded (by that retry, or by a concurrent duplicate).
        Without `attempts_before` the append is unconditional (seeding tests, imports).
        """
        expr = "SET attempts = list_append(if_not_exists(attempts, :empty), :a), #s = :s, updatedAt = :u"
        values: dict[str, Any] = {
            ":a": [attempt.model_dump(mode="json", exclude_none=True)],
            ":empty": [],
            ":s": status.value,
            ":u": updated_at,
        }
        if attempts_before is not None:
            values[":n"] = attempts_before
        if channel_id is not None:
            expr += ", channelId = :c"
            values[":c"] = channel_id
        if attempt.success:
            # Delivered: leave the subscription's open-notifications index.
            expr += f", lastError = :null REMOVE {GSI2_PARTITION_KEY}, {GSI2_SORT_KEY}"
            values[":null"] = None
        else:
            expr += ", lastError = :e"
            values[":e"] = attempt.error or f"HTTP {attempt.httpStatus}"
        return conditional_write(
            lambda: self._update_notification(
                event_id,
                subscription_id,
                expr,
                values,
                condition=_attempt_count_condition(attempts_before),
            )
        )

    def mark_notification_failed(
        self,
        event_id: str,
        subscription_id: str,
        reason: str | None,
        updated_at: str,
        channel_id: str | None = None,
    ) -> bool:
        """Retries exhausted: failed, unless it was delivered meanwhile. Returns whether it changed."""
        expr = "SET #s = :s, updatedAt = :u"
        values: dict[str, Any] = {":s": NotificationStatus.FAILED.value, ":u": updated_at, ":ok": "success"}
        if channel_id is not None:
            expr += ", channelId = :c"
            values[":c"] = channel_id
        if reason:
            expr += ", lastError = :e"
            values[":e"] = reason
        return conditional_write(
            lambda: self._update_notification(
                event_id, subscription_id, expr, values, condition=f"attribute_exists({PK}) AND #s <> :ok"
            )
        )

    def _update_notification(
        self,
        event_id: str,
        subscription_id: str,
        expr: str,
        values: dict[str, Any],
        condition: str | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Key": _to_ddb({PK: f"EVENT#{event_id}", SK: f"NOTIFICATION#{subscription_id}"}),
            "UpdateExpression": expr,
            "ExpressionAttributeNames": {"#s": "status"},
            # None values are DynamoDB NULLs here (e.g. clearing lastError).
            "ExpressionAttributeValues": {k: _ser.serialize(_decimalize(v)) for k, v in values.items()},
        }
        if condition:
            kwargs["ConditionExpression"] = condition
        self.ddb.update_item(**kwargs)

    def open_notification_counts(self, subscription_id: str) -> dict[NotificationStatus, int]:
        """How many of the subscription's notifications are pending, retryable or failed."""
        counts: dict[NotificationStatus, int] = {}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": GSI2_NAME,
            "KeyConditionExpression": "#pk = :pk",
            "ProjectionExpression": "#s",
            "ExpressionAttributeNames": {"#pk": GSI2_PARTITION_KEY, "#s": "status"},
            "ExpressionAttributeValues": _to_ddb({":pk": f"SUBSCRIPTION#{subscription_id}#OPEN"}),
        }
        while True:
            resp = self.ddb.query(**kwargs)
            for item in resp.get("Items", []):
                status = NotificationStatus(_from_ddb(item).get("status", "pending"))
                counts[status] = counts.get(status, 0) + 1
            if not resp.get("LastEvaluatedKey"):
                return counts
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def list_failed_notifications(
        self, subscription_id: str, limit: int, cursor: str | None
    ) -> Page[Notification]:
        """The subscription's failed notifications, newest first (from its open index)."""
        return self._paged(
            cursor,
            Notification.model_validate,
            partition=f"SUBSCRIPTION#{subscription_id}#OPEN",
            index=GSI2_NAME,
            forward=False,
            limit=limit,
            filter_expression="#s = :failed",
            filter_names={"#s": "status"},
            filter_values={":failed": NotificationStatus.FAILED.value},
        )

    def failed_notifications_since(
        self, subscription_id: str, since_iso: str, limit: int
    ) -> list[Notification]:
        """Up to `limit` failed notifications routed at or after `since_iso`, oldest first."""
        items, _ = self._page(
            partition=f"SUBSCRIPTION#{subscription_id}#OPEN",
            index=GSI2_NAME,
            sk_between=(since_iso, _HIGH),
            limit=limit,
            filter_expression="#s = :failed",
            filter_names={"#s": "status"},
            filter_values={":failed": NotificationStatus.FAILED.value},
            max_reads=100,
        )
        return [Notification.model_validate(i) for i in items]

    def find_open_notification(self, subscription_id: str, notification_id: str) -> Notification | None:
        """A not-yet-delivered notification of the subscription, by its id."""
        items, _ = self._page(
            partition=f"SUBSCRIPTION#{subscription_id}#OPEN",
            index=GSI2_NAME,
            limit=1,
            filter_expression="#id = :id",
            filter_names={"#id": "id"},
            filter_values={":id": notification_id},
            max_reads=1000,
            chunk=1000,
        )
        return Notification.model_validate(items[0]) if items else None

    def restart_notification(self, n: Notification, now_iso: str, channel_id: str | None = None) -> bool:
        """Start a new delivery cycle for a failed notification: pending again, history kept;
        `channel_id`, its subscription's channel now, is where the new cycle will deliver.

        Conditional on the notification being exactly as read (failed, same `updatedAt`), so a
        concurrent reprocess or delete makes this a no-op (False) rather than a double delivery.
        """
        finished = DeliveryCycle(
            cycle=n.cycle, status=n.status, attempts=n.attempts, lastError=n.lastError, endedAt=now_iso
        )
        history = [*n.previousCycles, finished][-MAX_PREVIOUS_CYCLES:]
        expr = (
            "SET #s = :pending, attempts = :empty, previousCycles = :history, #c = :cycle, "
            "lastError = :null, updatedAt = :now, channelId = :channel"
        )
        values: dict[str, Any] = {
            ":channel": channel_id or n.channelId,
            ":pending": NotificationStatus.PENDING.value,
            ":empty": [],
            ":history": [c.model_dump(mode="json", exclude_none=True) for c in history],
            ":cycle": n.cycle + 1,
            ":null": None,
            ":now": now_iso,
            ":failed": NotificationStatus.FAILED.value,
            ":read": n.updatedAt,
        }
        return conditional_write(
            lambda: self.ddb.update_item(
                TableName=self.table,
                Key=_to_ddb({PK: f"EVENT#{n.eventId}", SK: f"NOTIFICATION#{n.subscriptionId}"}),
                UpdateExpression=expr,
                ConditionExpression="#s = :failed AND updatedAt = :read",
                ExpressionAttributeNames={"#s": "status", "#c": "cycle"},
                ExpressionAttributeValues={k: _ser.serialize(_decimalize(v)) for k, v in values.items()},
            )
        )

    def delete_failed_notification(self, event_id: str, subscription_id: str) -> bool:
        """Delete a notification if it is (still) failed; its open index entry goes with it."""
        return conditional_write(
            lambda: self.ddb.delete_item(
                TableName=self.table,
                Key=_to_ddb({PK: f"EVENT#{event_id}", SK: f"NOTIFICATION#{subscription_id}"}),
                ConditionExpression="#s = :failed",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=_to_ddb({":failed": NotificationStatus.FAILED.value}),
            )
        )

    # --- inbound webhooks (a project's secrets for platforms' signed webhooks) ---------------
    @staticmethod
    def _inbound_item(hook: InboundWebhook) -> dict[str, Any]:
        item = hook.model_dump(mode="json")
        item.update({PK: f"PROJECT#{hook.projectId}", SK: f"INBOUND#{hook.id}"})
        return item

    def put_inbound_webhook(self, hook: InboundWebhook) -> None:
        self._put(self._inbound_item(hook), condition=f"attribute_not_exists({PK})")

    def get_inbound_webhook(self, project_id: str, webhook_id: str) -> InboundWebhook | None:
        item = self._get(f"PROJECT#{project_id}", f"INBOUND#{webhook_id}")
        return InboundWebhook.model_validate(item) if item else None

    def list_inbound_webhooks(self, project_id: str, consistent: bool = False) -> list[InboundWebhook]:
        """All of a project's inbound webhooks (a handful: their number is bounded), oldest first."""
        items = self._query_all(
            f"{PK} = :pk AND begins_with({SK}, :sk)",
            {":pk": f"PROJECT#{project_id}", ":sk": "INBOUND#"},
            consistent=consistent,
        )
        hooks = [InboundWebhook.model_validate(i) for i in items]
        return sorted(hooks, key=lambda h: (h.createdAt, h.id))

    def delete_inbound_webhook(self, project_id: str, webhook_id: str) -> bool:
        return conditional_write(
            lambda: self.ddb.delete_item(
                TableName=self.table,
                Key=_to_ddb({PK: f"PROJECT#{project_id}", SK: f"INBOUND#{webhook_id}"}),
                ConditionExpression=f"attribute_exists({PK})",
            )
        )

    # --- API keys ---------------------------------------------------------------------------
    def put_api_key(self, key: ApiKey) -> None:
        item = key.model_dump(mode="json")
        item.update(
            {
                PK: f"APIKEY#{key.keyHash}",
                SK: "APIKEY",
                GSI1_PARTITION_KEY: f"APIKEY#ID#{key.keyId}",
                GSI1_SORT_KEY: "APIKEY",
                GSI2_PARTITION_KEY: "APIKEYS",
                GSI2_SORT_KEY: f"{key.createdAt}#{key.keyId}",
            }
        )
        self._put(item)

    def get_api_key(self, key_hash: str) -> ApiKey | None:
        item = self._get(f"APIKEY#{key_hash}", "APIKEY")
        return ApiKey.model_validate(item) if item else None

    def get_api_key_by_id(self, key_id: str) -> ApiKey | None:
        items, _ = self._query(
            f"{GSI1_PARTITION_KEY} = :pk", {":pk": f"APIKEY#ID#{key_id}"}, index=GSI1_NAME, limit=1
        )
        return ApiKey.model_validate(items[0]) if items else None

    def list_api_keys(self, limit: int, cursor: str | None) -> Page[ApiKey]:
        """Oldest first."""
        return self._paged(cursor, ApiKey.model_validate, partition="APIKEYS", index=GSI2_NAME, limit=limit)

    def delete_api_key(self, key_hash: str) -> None:
        self.ddb.delete_item(TableName=self.table, Key=_to_ddb({PK: f"APIKEY#{key_hash}", SK: "APIKEY"}))
