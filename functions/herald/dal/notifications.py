"""Notifications: one event's delivery to one subscription, its attempts and delivery cycles.

Every write that changes a notification's status refreshes its event's status (through
`herald.dal.events.EventStore.refresh_status`), so the event always agrees with its notifications.

The subscription's open-notifications index (what the delete guard counts and the Delivery failed
list reads) holds a notification from the moment its delivery does not succeed at once — an
attempt fails, it is held back (open circuit, rate limit), or it is created failed — until it is
delivered. A notification delivered by its first attempt, the common case, never enters it: that
saves the index's write on creation and its delete on delivery (2 of the notification's 4 write
units). What the guard cannot see is a notification in its first delivery (routed, not yet
attempted, normally for well under a second).
"""

from __future__ import annotations

from herald.dal import layout
from herald.dal.codec import PK, Item, Page, Table
from herald.dal.events import EventStore
from herald.domain import ids
from herald.domain.models import Attempt, DeliveryCycle, Event, Notification, NotificationStatus
from herald.names import GSI2_NAME, GSI2_PARTITION_KEY, GSI2_SORT_KEY, TABLE_TTL_ATTRIBUTE

# Cycles of attempts kept on a notification after reprocessing (item size stays bounded).
MAX_PREVIOUS_CYCLES = 10
_STATUS = {"#s": "status"}


def _attempt_count_condition(attempts_before: int | None) -> str | None:
    if attempts_before is None:
        return None
    if attempts_before == 0:
        return "attribute_not_exists(attempts) OR size(attempts) = :n"
    return "size(attempts) = :n"


def notification_from(item: Item) -> Notification:
    """A stored notification, with whether it is in its subscription's open index."""
    return Notification.model_validate({**item, "openListed": GSI2_PARTITION_KEY in item})


def _open_values(subscription_id: str, notification_id: str, created_at: str) -> Item:
    index = layout.open_notification_index(subscription_id, notification_id, created_at)
    return {":opk": index[GSI2_PARTITION_KEY], ":osk": index[GSI2_SORT_KEY]}


class NotificationStore:
    def __init__(self, table: Table, events: EventStore) -> None:
        self.table = table
        self.events = events

    def _item(self, n: Notification, expires_at: int) -> Item:
        item = n.model_dump(mode="json")
        item.update(layout.notification(n.eventId, n.subscriptionId))
        item[TABLE_TTL_ATTRIBUTE] = expires_at
        if n.status in (NotificationStatus.RETRYABLE, NotificationStatus.FAILED):
            item.update(layout.open_notification_index(n.subscriptionId, n.id, n.createdAt))
        return item

    def create_if_new(self, n: Notification, event: Event) -> bool:
        """Store a new notification of `event` (kept as long as the event); False if it exists."""
        item = self._item(n, self.table.expires_at(event.createdAt))
        return self.table.put(item, condition=f"attribute_not_exists({PK})")

    def get(self, event_id: str, subscription_id: str) -> Notification | None:
        item = self.table.get(layout.notification(event_id, subscription_id), consistent=True)
        return notification_from(item) if item else None

    def hold_open(self, n: Notification) -> bool:
        """List a notification held back before any attempt in its subscription's open index
        (the delete guard counts it from then on); False if it was listed already or is gone."""
        if n.openListed:
            return False
        return self.table.update_if(
            layout.notification(n.eventId, n.subscriptionId),
            f"SET {GSI2_PARTITION_KEY} = :opk, {GSI2_SORT_KEY} = :osk",
            _open_values(n.subscriptionId, n.id, n.createdAt),
            condition=f"attribute_exists({PK}) AND attribute_not_exists({GSI2_PARTITION_KEY})",
        )

    def record_attempt(
        self,
        event_id: str,
        subscription_id: str,
        attempt: Attempt,
        status: NotificationStatus,
        updated_at: str,
        attempts_before: int | None = None,
        channel_id: str | None = None,
        refresh: bool = True,
        created_at: str | None = None,
    ) -> bool:
        """Append one attempt and set the status, in place: one write per attempt; the event's
        status follows (unless `refresh` is False: a batch of deliveries settles its events' status
        once, with `EventStore.settle_deliveries`). `channel_id`: the channel the attempt went to
        (the subscription's at the time), kept on the notification. An attempt that fails lists
        the notification in its subscription's open index (sorted by `created_at`, the
        notification's creation time, when given), one that succeeds takes it off.

        Conditional on the number of attempts read before it: when DynamoDB applies the write but
        its answer is lost, botocore's retry must not append the same attempt twice. Returns False
        when the attempt was already recorded (by that retry, or by a concurrent duplicate).
        Without `attempts_before` the append is unconditional (seeding tests, imports).
        """
        expr = "SET attempts = list_append(if_not_exists(attempts, :empty), :a), #s = :s, updatedAt = :u"
        values: Item = {
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
            expr += f", lastError = :e, {GSI2_PARTITION_KEY} = :opk, {GSI2_SORT_KEY} = if_not_exists({GSI2_SORT_KEY}, :osk)"
            values[":e"] = attempt.error or f"HTTP {attempt.httpStatus}"
            notification_id = ids.notification_id_for(event_id, subscription_id)
            values.update(_open_values(subscription_id, notification_id, created_at or updated_at))
        key = layout.notification(event_id, subscription_id)
        condition = _attempt_count_condition(attempts_before)
        if condition is None:
            self.table.update(key, expr, values, names=_STATUS, nulls=True)
            recorded = True
        else:
            recorded = self.table.update_if(key, expr, values, condition=condition, names=_STATUS, nulls=True)
        if refresh:
            # Also when not recorded: the duplicate that recorded it may not have refreshed yet.
            self.events.refresh_status(event_id)
        return recorded

    def mark_failed(
        self,
        event_id: str,
        subscription_id: str,
        reason: str | None,
        updated_at: str,
        channel_id: str | None = None,
        refresh: bool = True,
        created_at: str | None = None,
    ) -> bool:
        """Failed (retries exhausted, or no delivery possible), unless it was delivered meanwhile;
        the event's status follows (`refresh`, `created_at`: see `record_attempt`). Returns whether
        the notification changed."""
        expr = (
            f"SET #s = :s, updatedAt = :u, {GSI2_PARTITION_KEY} = :opk, "
            f"{GSI2_SORT_KEY} = if_not_exists({GSI2_SORT_KEY}, :osk)"
        )
        values: Item = {":s": NotificationStatus.FAILED.value, ":u": updated_at, ":ok": "success"}
        values.update(
            _open_values(
                subscription_id, ids.notification_id_for(event_id, subscription_id), created_at or updated_at
            )
        )
        if channel_id is not None:
            expr += ", channelId = :c"
            values[":c"] = channel_id
        if reason:
            expr += ", lastError = :e"
            values[":e"] = reason
        changed = self.table.update_if(
            layout.notification(event_id, subscription_id),
            expr,
            values,
            condition=f"attribute_exists({PK}) AND #s <> :ok",
            names=_STATUS,
            nulls=True,
        )
        if refresh:
            self.events.refresh_status(event_id)
        return changed

    def restart(self, n: Notification, now_iso: str, channel_id: str | None = None) -> bool:
        """Start a new delivery cycle for a failed notification: pending again, history kept;
        `channel_id`, its subscription's channel now, is where the new cycle will deliver. The
        event's status follows.

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
        values: Item = {
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
        restarted = self.table.update_if(
            layout.notification(n.eventId, n.subscriptionId),
            expr,
            values,
            condition="#s = :failed AND updatedAt = :read",
            names={**_STATUS, "#c": "cycle"},
            nulls=True,
        )
        if restarted:
            self.events.refresh_status(n.eventId)
        return restarted

    def delete_failed(self, event_id: str, subscription_id: str) -> bool:
        """Delete a notification if it is (still) failed, its open index entry with it; the
        event's status follows. False if it was not failed (or is gone)."""
        deleted = self.table.delete_if(
            layout.notification(event_id, subscription_id),
            "#s = :failed",
            names=_STATUS,
            values={":failed": NotificationStatus.FAILED.value},
        )
        if deleted is None:
            return False
        self.events.refresh_status(event_id)
        return True

    # --- a subscription's open notifications ------------------------------------------------------
    def open_counts(self, subscription_id: str) -> dict[NotificationStatus, int]:
        """How many of the subscription's notifications are pending, retryable or failed."""
        counts, _ = self.open_counts_at_most(subscription_id, None)
        return counts

    def open_counts_at_most(
        self, subscription_id: str, at_most: int | None
    ) -> tuple[dict[NotificationStatus, int], bool]:
        """`open_counts`, reading no further page once `at_most` were counted; and whether the
        counts are complete."""
        counts: dict[NotificationStatus, int] = {}
        seen = 0
        cursor: Item | None = None
        while True:
            items, cursor = self.table.query(
                "#pk = :pk",
                {":pk": layout.open_notifications(subscription_id)},
                index=GSI2_NAME,
                cursor=cursor,
                names={"#pk": GSI2_PARTITION_KEY, **_STATUS},
                projection="#s",
            )
            for item in items:
                status = NotificationStatus(item.get("status", "pending"))
                counts[status] = counts.get(status, 0) + 1
                seen += 1
            if not cursor:
                return counts, True
            if at_most is not None and seen >= at_most:
                return counts, False

    def list_failed(self, subscription_id: str, limit: int, cursor: str | None) -> Page[Notification]:
        """The subscription's failed notifications, newest first (from its open index)."""
        return self.table.paged(
            cursor,
            notification_from,
            partition=layout.open_notifications(subscription_id),
            index=GSI2_NAME,
            forward=False,
            limit=limit,
            filter_expression="#s = :failed",
            filter_names=_STATUS,
            filter_values={":failed": NotificationStatus.FAILED.value},
        )

    def failed_since(self, subscription_id: str, since_iso: str, limit: int) -> list[Notification]:
        """Up to `limit` failed notifications routed at or after `since_iso`, oldest first."""
        items, _ = self.table.page(
            partition=layout.open_notifications(subscription_id),
            index=GSI2_NAME,
            sk_between=(since_iso, layout.HIGH),
            limit=limit,
            filter_expression="#s = :failed",
            filter_names=_STATUS,
            filter_values={":failed": NotificationStatus.FAILED.value},
            max_reads=100,
        )
        return [notification_from(i) for i in items]

    def find_open(self, subscription_id: str, notification_id: str) -> Notification | None:
        """A not-yet-delivered notification of the subscription, by its id."""
        items, _ = self.table.page(
            partition=layout.open_notifications(subscription_id),
            index=GSI2_NAME,
            limit=1,
            filter_expression="#id = :id",
            filter_names={"#id": "id"},
            filter_values={":id": notification_id},
            max_reads=1000,
            chunk=1000,
        )
        return notification_from(items[0]) if items else None
