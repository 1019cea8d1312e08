"""Events: the event item (payload, status), its list entry, the unqueued marker, and the event's
status, which this module keeps consistent with its notifications.

An event's status is derived (`herald.domain.status`), never incremented: every write here or in
`herald.dal.notifications` that can change it refreshes it, so callers never have to.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from herald.dal import layout
from herald.dal.codec import (
    PK,
    SK,
    InvalidCursorError,
    Item,
    Page,
    Table,
    pack_cursor,
    pack_payload,
    unpack_cursor,
    unpack_payload,
)
from herald.domain.models import Event, Notification, NotificationStatus
from herald.domain.status import aggregate_of, aggregate_status
from herald.names import GSI1_NAME, GSI1_PARTITION_KEY, GSI2_NAME, TABLE_TTL_ATTRIBUTE

_NOT_ROUTED = "(attribute_not_exists(routed) OR routed = :false)"
# Set on an event whose delivery finished before routing marked it routed (see `refresh_status`).
PROGRESS_BEFORE_ROUTED = "progressBeforeRouted"
# A status refresh whose conditional write keeps losing to other writers reads again at most
# this many times.
REFRESH_TRIES = 10


def event_from(item: Item) -> Event:
    item = dict(item)
    item["payload"] = unpack_payload(item["payload"])
    return Event.model_validate(item)


class EventStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def _event_item(self, event: Event) -> Item:
        """The event itself, with its payload; no index keys (its list entry carries them)."""
        item = event.model_dump(mode="json", exclude={"payload"})
        item["payload"] = pack_payload(event.payload)
        item.update(layout.event(event.id))
        item[TABLE_TTL_ATTRIBUTE] = self.table.expires_at(event.createdAt)
        return item

    def _listing_item(self, event: Event) -> Item:
        """The event's entry in the events indexes: keys and code, never the payload.

        Both indexes project ALL, so whatever an item holds is copied, and rewritten, into each
        index entry it has. Keeping the index keys here and off the event item means the event's
        updates (routed, status) are one table write, and the indexes hold a small copy.
        """
        return {
            **layout.event_listing(event.id),
            "eventCode": event.eventCode,
            **layout.event_listing_index(event.id, event.projectId, event.createdAt),
            TABLE_TTL_ATTRIBUTE: self.table.expires_at(event.createdAt),
        }

    def put_if_new(self, event: Event) -> tuple[Event, bool]:
        """Store the event unless one with its id exists; return the stored one and whether it is new.

        The list entry is written first, also only if new: an entry whose event is missing (the
        second write failed) is skipped by lists until a repost of the same id stores the event.
        """
        new = f"attribute_not_exists({PK})"
        listed = self.table.put(self._listing_item(event), condition=new)
        if self.table.put(self._event_item(event), condition=new):
            return event, True
        item = self.table.get(layout.event(event.id), consistent=True)
        if item is None:  # expired between the two calls: store it again
            self.table.put(self._event_item(event))
            self.table.put(self._listing_item(event))
            return event, True
        if listed and GSI1_PARTITION_KEY in item:
            # Stored before list entries existed: its own index keys list it already.
            self.table.delete(layout.event_listing(event.id))
        return event_from(item), False

    def get(self, event_id: str, consistent: bool = False) -> Event | None:
        item = self.table.get(layout.event(event_id), consistent=consistent)
        return event_from(item) if item else None

    def get_many(self, event_ids: list[str]) -> dict[str, Event]:
        """Events by id, eventually consistent, in BatchGetItem calls; missing ones are absent."""
        found = self.table.batch_get([(layout.event_partition(i), layout.EVENT_SK) for i in event_ids])
        return {layout.event_id_of(pk): event_from(item) for (pk, _), item in found.items()}

    def get_with_notifications(
        self, event_id: str, consistent: bool = False
    ) -> tuple[Event | None, list[Notification]]:
        """The event and every notification of it: one query of its partition."""
        item, notifications = self._partition(event_id, consistent)
        return (event_from(item) if item else None), notifications

    def _partition(self, event_id: str, consistent: bool) -> tuple[Item | None, list[Notification]]:
        """The event's item as stored, and its notifications."""
        items = self.table.query_all(
            f"{PK} = :pk", {":pk": layout.event_partition(event_id)}, consistent=consistent
        )
        event: Item | None = None
        notifications: list[Notification] = []
        for item in items:
            if item[SK] == layout.EVENT_SK:
                event = item
            elif item[SK].startswith(layout.NOTIFICATION_PREFIX):
                notifications.append(Notification.model_validate(item))
        return event, notifications

    def _listed(self, entries: list[Item], event_code: str | None = None) -> list[Item | None]:
        """The event items behind events-index entries (None: gone, or not of `event_code`).

        An entry is a list entry (its event is fetched, eventually consistent, as index reads
        are) or, for events stored before list entries existed, the event item itself.
        """
        wanted = {
            e[PK]: True
            for e in entries
            if e[SK] == layout.LISTING_SK and (event_code is None or e.get("eventCode") == event_code)
        }
        fetched = self.table.batch_get([(pk, layout.EVENT_SK) for pk in wanted])
        out: list[Item | None] = []
        for entry in entries:
            if entry[SK] == layout.LISTING_SK:
                out.append(fetched.get((entry[PK], layout.EVENT_SK)) if entry[PK] in wanted else None)
            else:
                out.append(entry)
        return out

    def list_page(
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
        since = max(since or 0.0, now - self.table.retention_seconds)
        until = now if until is None else min(until, now)
        bounds = (layout.sort_time(max(since, 0.0)), layout.sort_time(max(until, 0.0)) + "#" + layout.HIGH)

        def keep(item: Item) -> bool:
            return (event_code is None or item.get("eventCode") == event_code) and (
                status is None or item.get("status") == status.value
            )

        if since > until:
            return Page([])

        def resolve(entries: list[Item]) -> list[Item | None]:
            return self._listed(entries, event_code)

        if project_id is not None:
            return self.table.paged(
                cursor,
                event_from,
                partition=layout.project_events(project_id),
                index=GSI1_NAME,
                sk_between=bounds,
                forward=False,
                limit=limit,
                keep=keep,
                resolve=resolve,
            )
        first_day, last_day = layout.day(since), layout.day(until)
        day: Any = last_day
        start: Any = None
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
        found: list[Item] = []
        for _ in range(max_days):
            items, after = self.table.page(
                partition=layout.day_events(day),
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
                return Page([event_from(i) for i in found], pack_cursor({"d": day, "k": after}))
            day = (datetime.fromisoformat(day) - timedelta(days=1)).date().isoformat()
            start = None
            if day < first_day:
                return Page([event_from(i) for i in found])
            if len(found) >= limit:
                break
        return Page([event_from(i) for i in found], pack_cursor({"d": day}))

    # --- routing ----------------------------------------------------------------------------------
    def mark_routed(self, event_id: str, error: str | None = None) -> NotificationStatus | None:
        """Routed (clearing an earlier queueing failure), or given up on with `error`; the status
        follows (returned; None: the event is gone)."""
        expr = "SET routed = :true"
        values: Item = {":true": True}
        if error:
            expr += ", routingError = :err REMOVE notificationCount"
            values[":err"] = error
        else:
            expr += " REMOVE routingError, notificationCount"
        self.table.update(layout.event(event_id), expr, values, condition=f"attribute_exists({PK})")
        return self.refresh_status(event_id)

    def settle_routing(
        self,
        event_id: str,
        known: NotificationStatus | None,
        read_status: NotificationStatus,
        notification_count: int,
    ) -> NotificationStatus | None:
        """Routed, clearing an earlier queueing failure, with its status; returns the status.

        `known`: the status routing knows (its `notification_count` notifications were all just
        created by it), set in the same write with the count, conditional on the status routing
        read (`read_status`) and on no delivery having finished before this write (see
        `refresh_status`). When routing does not know it (None: an earlier run was interrupted)
        or either condition failed, the event is marked routed and its status recomputed from its
        notifications.
        """
        if known is not None and self.table.update_if(
            layout.event(event_id),
            "SET routed = :true, #s = :s, notificationCount = :n REMOVE routingError",
            {":true": True, ":s": known.value, ":read": read_status.value, ":n": notification_count},
            condition=(
                f"attribute_exists({PK}) AND #s = :read AND attribute_not_exists({PROGRESS_BEFORE_ROUTED})"
            ),
            names={"#s": "status"},
        ):
            return known
        return self.mark_routed(event_id)

    def mark_unqueued(self, event_id: str, project_id: str, reason: str, at: float) -> bool:
        """The event is stored but could not be queued for routing: failed, visibly, and listed
        for the scheduled function's sweeper, which queues it (or a repost of the same event, or
        the bridge's redelivery, does it first). False if it was routed meanwhile."""
        self.table.put(
            {
                **layout.unqueued(event_id),
                "projectId": project_id,
                **layout.unqueued_index(event_id, at),
                TABLE_TTL_ATTRIBUTE: self.table.expires_at(at),
            }
        )
        marked = self.table.update_if(
            layout.event(event_id),
            "SET routingError = :err, #s = :failed",
            {":err": reason, ":failed": NotificationStatus.FAILED.value, ":false": False},
            condition=f"attribute_exists({PK}) AND {_NOT_ROUTED}",
            names={"#s": "status"},
        )
        if not marked:
            self.table.delete(layout.unqueued(event_id))
        return marked

    def unqueued(self, marked_before: float, limit: int) -> list[tuple[str, str]]:
        """(event id, project) of events that could not be queued, oldest first."""
        items, _ = self.table.page(
            partition=layout.UNQUEUED_EVENTS,
            index=GSI2_NAME,
            sk_between=(layout.sort_time(0), layout.sort_time(max(marked_before, 0.0)) + "#" + layout.HIGH),
            limit=limit,
        )
        return [(layout.event_id_of(i[PK]), i["projectId"]) for i in items]

    def requeued(self, event_id: str) -> None:
        """The sweeper queued the event: pending again (unless routing already settled it), and
        off the sweeper's list."""
        # Routing may have settled it meanwhile: then it stays as routing left it.
        self.table.update_if(
            layout.event(event_id),
            "SET #s = :pending REMOVE routingError",
            {":pending": NotificationStatus.PENDING.value, ":false": False},
            condition=f"attribute_exists(routingError) AND {_NOT_ROUTED}",
            names={"#s": "status"},
        )
        self.table.delete(layout.unqueued(event_id))

    # --- status -----------------------------------------------------------------------------------
    def settle_deliveries(
        self, event_id: str, seen: Event | None, settled: Mapping[str, NotificationStatus]
    ) -> NotificationStatus | None:
        """A batch of deliveries changed these notifications of the event (subscription id → new
        status); the event's status follows. `seen`: the event as the batch read it (eventually
        consistent), if it did.

        When the batch settled every notification routing created (`notificationCount`), their
        statuses are the event's whole story: the status is written without reading them again,
        on condition that the event is still routed with that count and the status the batch read.
        Otherwise, or if that condition fails, `refresh_status` reads the partition.
        """
        if (
            seen is not None
            and seen.routed
            and not seen.routingError
            and seen.notificationCount is not None
            and seen.notificationCount == len(settled)
        ):
            status = aggregate_of(settled.values())
            if status == seen.status:
                return status
            if self.table.update_if(
                layout.event(event_id),
                "SET #s = :s",
                {":s": status.value, ":read": seen.status.value, ":true": True, ":n": seen.notificationCount},
                condition=(
                    "#s = :read AND routed = :true AND notificationCount = :n "
                    "AND attribute_not_exists(routingError)"
                ),
                names={"#s": "status"},
            ):
                return status
        return self.refresh_status(event_id)

    def refresh_status(self, event_id: str) -> NotificationStatus | None:
        """Recompute the event's aggregate status from its notifications and store it if it changed.

        The writes that change a notification's status (`herald.dal.notifications`) and routing's
        (`mark_routed`, `settle_routing`) call this themselves; called directly, it repairs a status
        left stale by an interrupted writer (the dead-letter consumer does).

        Derived, never incremented, so any later call repairs a stale status. Concurrent deliveries
        of one event each call this; the write is conditional on the status this call read, so a
        writer whose read was overtaken by another's write reads again instead of overwriting it.

        Routing sets `routed` (with the status it knows) after it has queued the deliveries, so a
        fast delivery can finish before it: such a delivery sees an unrouted event (status pending
        regardless) and leaves a mark instead, which makes routing's conditional write fail and
        routing recompute the status from the notifications.
        """
        status: NotificationStatus | None = None
        for _ in range(REFRESH_TRIES):
            item, notifications = self._partition(event_id, consistent=True)
            if item is None:
                return None
            event = event_from(item)
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
            values: Item = {":s": status.value, ":read": event.status.value}
            if early:
                expr += f", {PROGRESS_BEFORE_ROUTED} = :true"
                condition += f" AND {_NOT_ROUTED}"
                values.update({":true": True, ":false": False})
            if self.table.update_if(
                layout.event(event_id), expr, values, condition=condition, names={"#s": "status"}
            ):
                return status
            # else someone wrote since this read (or the event expired): read again
        return status
