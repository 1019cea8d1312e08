"""DynamoDB access: the only module that knows Herald's key layout.

One table, overloaded keys (names in `herald.names`):

Items (pk, sk; then the index entries):
- channel: CHANNEL#{id}, CHANNEL; gsi2 CHANNELS / {createdAt}#{id}
- subscription: PROJECT#{p}, SUBSCRIPTION#{id}; gsi1 PROJECT#{p}#CODE#{code} / {id};
  gsi2 CHANNEL#{c}#SUBSCRIPTIONS / {id}
- event: EVENT#{id}, EVENT; gsi1 PROJECT#{p}#EVENTS / {time}#{id}; gsi2 EVENTS#{yyyy-mm-dd} / {time}#{id}
- notification: EVENT#{eventId}, NOTIFICATION#{subId}; gsi2 SUBSCRIPTION#{s}#OPEN / {createdAt}#{id}
  (only while not delivered)
- api key: APIKEY#{sha256 of the key}, APIKEY

An event and its notifications share a partition, so one query reads an event with every
delivery and attempt. Notifications are updated in place (attempts appended), and the
subscription's "open" index entry exists only while a notification is pending, retryable or
failed, which is what the delete guard and the failed-notifications list read.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from herald import aws
from herald.models import (
    ApiKey,
    Attempt,
    Channel,
    Event,
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


class ConflictError(Exception):
    """A conditional write lost: the item exists with different content."""


class InvalidCursorError(ValueError):
    pass


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


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(_from_ddb(last_key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ValueError
        return _to_ddb(data)
    except ValueError:
        raise InvalidCursorError("the pagination cursor is not one this API returned") from None


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
        try:
            self.ddb.put_item(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

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

    # --- channels ---------------------------------------------------------------------------
    def put_channel(self, channel: Channel) -> None:
        item = channel.model_dump(mode="json")
        item.update(
            {
                PK: f"CHANNEL#{channel.id}",
                SK: "CHANNEL",
                GSI2_PARTITION_KEY: "CHANNELS",
                GSI2_SORT_KEY: f"{channel.createdAt}#{channel.id}",
            }
        )
        self._put(item)

    def get_channel(self, channel_id: str) -> Channel | None:
        item = self._get(f"CHANNEL#{channel_id}", "CHANNEL")
        return Channel.model_validate(item) if item else None

    def list_channels(self) -> list[Channel]:
        items = self._query_all(f"{GSI2_PARTITION_KEY} = :pk", {":pk": "CHANNELS"}, index=GSI2_NAME)
        return [Channel.model_validate(i) for i in items]

    # --- subscriptions ----------------------------------------------------------------------
    def put_subscription(self, sub: Subscription) -> None:
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
        self._put(item)

    def get_subscription(self, project_id: str, subscription_id: str) -> Subscription | None:
        item = self._get(f"PROJECT#{project_id}", f"SUBSCRIPTION#{subscription_id}")
        return Subscription.model_validate(item) if item else None

    def list_subscriptions(self, project_id: str) -> list[Subscription]:
        items = self._query_all(
            f"{PK} = :pk AND begins_with({SK}, :sk)",
            {":pk": f"PROJECT#{project_id}", ":sk": "SUBSCRIPTION#"},
        )
        return [Subscription.model_validate(i) for i in items]

    def subscriptions_for(self, project_id: str, event_code: str) -> list[Subscription]:
        """Subscriptions of a project to this code or to every code (`*`): an index lookup."""
        subs: list[Subscription] = []
        for code in dict.fromkeys((event_code, "*")):
            items = self._query_all(
                f"{GSI1_PARTITION_KEY} = :pk",
                {":pk": f"PROJECT#{project_id}#CODE#{code}"},
                index=GSI1_NAME,
            )
            subs.extend(Subscription.model_validate(i) for i in items)
        return subs

    # --- events -----------------------------------------------------------------------------
    def _event_item(self, event: Event) -> dict[str, Any]:
        item = event.model_dump(mode="json", exclude={"payload"})
        # The payload is kept as its JSON text: exact numbers, no float/Decimal round trips.
        item["payload"] = json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False)
        when = _sort_time(event.createdAt)
        item.update(
            {
                PK: f"EVENT#{event.id}",
                SK: "EVENT",
                GSI1_PARTITION_KEY: f"PROJECT#{event.projectId}#EVENTS",
                GSI1_SORT_KEY: f"{when}#{event.id}",
                GSI2_PARTITION_KEY: f"EVENTS#{_day(event.createdAt)}",
                GSI2_SORT_KEY: f"{when}#{event.id}",
                TABLE_TTL_ATTRIBUTE: int(event.createdAt) + self.retention_seconds,
            }
        )
        return item

    @staticmethod
    def _event_from(item: dict[str, Any]) -> Event:
        item = dict(item)
        item["payload"] = json.loads(item["payload"])
        return Event.model_validate(item)

    def put_event_if_new(self, event: Event) -> tuple[Event, bool]:
        """Store the event unless one with its id exists; return the stored one and whether it is new."""
        if self._put(self._event_item(event), condition=f"attribute_not_exists({PK})"):
            return event, True
        existing = self.get_event(event.id, consistent=True)
        if existing is None:  # expired between the two calls: store it again
            self._put(self._event_item(event))
            return event, True
        return existing, False

    def get_event(self, event_id: str, consistent: bool = False) -> Event | None:
        item = self._get(f"EVENT#{event_id}", "EVENT", consistent=consistent)
        return self._event_from(item) if item else None

    def get_event_with_notifications(
        self, event_id: str, consistent: bool = False
    ) -> tuple[Event | None, list[Notification]]:
        items = self._query_all(f"{PK} = :pk", {":pk": f"EVENT#{event_id}"}, consistent=consistent)
        event: Event | None = None
        notifications: list[Notification] = []
        for item in items:
            if item[SK] == "EVENT":
                event = self._event_from(item)
            elif item[SK].startswith("NOTIFICATION#"):
                notifications.append(Notification.model_validate(item))
        return event, notifications

    def list_events(
        self, project_id: str | None, day: str | None, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[Event], dict[str, Any] | None]:
        """Newest first, from the project index or from one day's bucket."""
        if project_id is not None:
            index, pk = GSI1_NAME, f"PROJECT#{project_id}#EVENTS"
            key_attr = GSI1_PARTITION_KEY
        else:
            index, pk = GSI2_NAME, f"EVENTS#{day}"
            key_attr = GSI2_PARTITION_KEY
        items, last = self._query(
            f"{key_attr} = :pk", {":pk": pk}, index=index, limit=limit, cursor=cursor, forward=False
        )
        return [self._event_from(i) for i in items], last

    def mark_routed(self, event_id: str, error: str | None = None) -> None:
        expr = "SET routed = :true"
        values: dict[str, Any] = {":true": True}
        if error:
            expr += ", routingError = :err"
            values[":err"] = error
        self.ddb.update_item(
            TableName=self.table,
            Key=_to_ddb({PK: f"EVENT#{event_id}", SK: "EVENT"}),
            UpdateExpression=expr,
            ExpressionAttributeValues=_to_ddb(values),
            ConditionExpression=f"attribute_exists({PK})",
        )

    def refresh_event_status(self, event_id: str) -> NotificationStatus | None:
        """Recompute the event's aggregate status from its notifications and store it if it changed.

        Derived, never incremented, so any later call repairs a stale status. Concurrent deliveries
        of one event each call this; a writer whose read was stale could overwrite a newer status,
        so every write is followed by another read until read and stored status agree: whoever
        writes last has also read last.
        """
        status: NotificationStatus | None = None
        for _ in range(10):
            event, notifications = self.get_event_with_notifications(event_id, consistent=True)
            if event is None:
                return None
            status = aggregate_status(event, notifications)
            if status == event.status:
                return status
            self.ddb.update_item(
                TableName=self.table,
                Key=_to_ddb({PK: f"EVENT#{event_id}", SK: "EVENT"}),
                UpdateExpression="SET #s = :s",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=_to_ddb({":s": status.value}),
                ConditionExpression=f"attribute_exists({PK})",
            )
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
    ) -> None:
        """Append one attempt and set the status, in place: one write per attempt."""
        expr = "SET attempts = list_append(if_not_exists(attempts, :empty), :a), #s = :s, updatedAt = :u"
        values: dict[str, Any] = {
            ":a": [attempt.model_dump(mode="json", exclude_none=True)],
            ":empty": [],
            ":s": status.value,
            ":u": updated_at,
        }
        if attempt.success:
            # Delivered: leave the subscription's open-notifications index.
            expr += f", lastError = :null REMOVE {GSI2_PARTITION_KEY}, {GSI2_SORT_KEY}"
            values[":null"] = None
        else:
            expr += ", lastError = :e"
            values[":e"] = attempt.error or f"HTTP {attempt.httpStatus}"
        self._update_notification(event_id, subscription_id, expr, values)

    def mark_notification_failed(
        self, event_id: str, subscription_id: str, reason: str | None, updated_at: str
    ) -> bool:
        """Retries exhausted: failed, unless it was delivered meanwhile. Returns whether it changed."""
        expr = "SET #s = :s, updatedAt = :u"
        values: dict[str, Any] = {":s": NotificationStatus.FAILED.value, ":u": updated_at, ":ok": "success"}
        if reason:
            expr += ", lastError = :e"
            values[":e"] = reason
        try:
            self._update_notification(
                event_id, subscription_id, expr, values, condition=f"attribute_exists({PK}) AND #s <> :ok"
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

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

    # --- API keys ---------------------------------------------------------------------------
    def put_api_key(self, key: ApiKey) -> None:
        item = key.model_dump(mode="json")
        item.update({PK: f"APIKEY#{key.keyHash}", SK: "APIKEY"})
        self._put(item)

    def get_api_key(self, key_hash: str) -> ApiKey | None:
        item = self._get(f"APIKEY#{key_hash}", "APIKEY")
        return ApiKey.model_validate(item) if item else None
