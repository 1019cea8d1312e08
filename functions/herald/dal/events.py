"""Events: the event item (payload, status), its list entry, the unqueued marker, and the event's
status, which this module keeps consistent with its notifications.

An event's status is derived (`herald.domain.status`), never incremented: every write here or in
`herald.dal.notifications` that can change it refreshes it, so callers never have to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from herald.dal import layout
from herald.dal.codec import (
    PK,
    SK,
    InvalidCursorError,
    Item,
    MergedPartitions,
    Page,
    ReadBudget,
    Table,
    pack_cursor,
    pack_payload,
    unpack_cursor,
    unpack_payload,
)
from herald.domain.models import Event, Notification, NotificationStatus
from herald.domain.status import aggregate_of, aggregate_status
from herald.names import GSI1_NAME, GSI2_NAME, TABLE_TTL_ATTRIBUTE

_NOT_ROUTED = "(attribute_not_exists(routed) OR routed = :false)"
# Set on an event whose delivery finished before routing marked it routed (see `refresh_status`).
PROGRESS_BEFORE_ROUTED = "progressBeforeRouted"
# A status refresh whose conditional write keeps losing to other writers reads again at most
# this many times.
REFRESH_TRIES = 10
# A list page queries each list partition once (EVENT_LIST_SHARDS + the legacy one: 17; per day
# for the admin list) and again wherever a partition runs dry before the page is full; it stops
# after this many queries (four rounds) with a cursor, so a filter matching nothing reads a
# bounded amount per request, well inside API Gateway's 29 s.
LIST_QUERY_BUDGET = 4 * (layout.EVENT_LIST_SHARDS + 1)
# Entries a list partition is first asked for, at least (about what one 4 KB read unit holds: a
# smaller query costs the same), and at most per query as its chunk doubles.
LIST_FIRST_CHUNK = 20
LIST_MAX_CHUNK = 100
# A list page examines at most this many entries (each a fetch of its event when the status is
# filtered): with the query budget, what one request may read (~170 read units of entries, ~500
# of events) whatever the filter.
LIST_MAX_ENTRIES = 1000
# A page fetches the events behind at least this many list entries at a time (BatchGetItem).
LIST_RESOLVE_AT_LEAST = 10


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

    def _list_entry(self, event: Event) -> Item:
        """The event's list entry: keys and code, never the payload.

        gsi2 projects ALL, so whatever the entry holds is copied into its index entry too. Keeping
        the list keys here and off the event item means the event's updates (routed, status) are
        one table write, and the list holds a small copy (2 write units: table and gsi2).
        """
        return {
            **layout.event_list_entry(event.id, event.projectId, event.createdAt),
            "eventCode": event.eventCode,
            **layout.event_list_entry_index(event.id, event.createdAt),
            TABLE_TTL_ATTRIBUTE: self.table.expires_at(event.createdAt),
        }

    def _list(self, stored: Event) -> None:
        """Write the stored event's list entry unless it is there: a repost (whose createdAt
        differs) must not add a second one, and a failed conditional put writes no index entry
        (1 write unit, where rewriting the entry would be 2)."""
        self.table.put(self._list_entry(stored), condition=f"attribute_not_exists({PK})")

    def put_if_new(self, event: Event) -> tuple[Event, bool]:
        """Store the event unless one with its id exists; return the stored one and whether it is new.

        The event is written first (conditional on its id being new), then its list entry, built
        from the stored event: a repost of an existing event writes the stored event's entry (same
        key, kept if it is there), so reposts never list an event twice, and a repost repairs an
        entry lost to a failure between the two writes (until then the event is stored, readable
        by id, but not listed; the producer's retry of a failed request, or SQS's redelivery of a
        bridged message, is that repost). Events listed in the legacy layout get a new entry with
        the same sort key too; lists take each sort key once.
        """
        if self.table.put(self._event_item(event), condition=f"attribute_not_exists({PK})"):
            self._list(event)
            return event, True
        item = self.table.get(layout.event(event.id), consistent=True)
        if item is None:  # expired between the two calls: store it again
            self.table.put(self._event_item(event))
            self._list(event)
            return event, True
        stored = event_from(item)
        self._list(stored)
        return stored, False

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

    def _listed(self, entries: list[tuple[str, Item]], event_code: str | None) -> list[Item | None]:
        """The event items behind list entries (None: gone, or not of `event_code`), fetched in
        one BatchGetItem (eventually consistent, as the list's index reads are).

        An entry is a list entry (sharded or legacy: it names its event by its sort key) or, for
        events stored before list entries existed, the event item itself.
        """
        wanted: dict[str, bool] = {}
        for key, entry in entries:
            if entry[SK] != layout.EVENT_SK and (event_code is None or entry.get("eventCode") == event_code):
                wanted[layout.event_partition(layout.listed_event_id(key))] = True
        fetched = self.table.batch_get([(pk, layout.EVENT_SK) for pk in wanted])
        out: list[Item | None] = []
        for key, entry in entries:
            if entry[SK] == layout.EVENT_SK:
                out.append(entry)
            else:
                out.append(
                    fetched.get((layout.event_partition(layout.listed_event_id(key)), layout.EVENT_SK))
                )
        return out

    def _take(
        self,
        merge: MergedPartitions,
        limit: int,
        event_code: str | None,
        keep: Callable[[Item], bool],
    ) -> tuple[list[Item], str | None, bool]:
        """Up to `limit` events of the merged list entries that `keep` accepts, examining at most
        the budget's entries; the sort key of the last entry taken (the continuation: everything
        above it was seen) and whether more may follow it."""
        found: list[Item] = []
        last: str | None = None
        entries = iter(merge)
        while True:
            if merge.budget.entries <= 0:
                return found, last, True
            # A few at a time: one BatchGetItem per entry would be many calls.
            size = min(max(limit - len(found), LIST_RESOLVE_AT_LEAST), merge.budget.entries)
            batch = list(islice(entries, size))
            merge.budget.entries -= len(batch)
            if not batch:
                return found, last, merge.pending()
            for (key, _), item in zip(batch, self._listed(batch, event_code), strict=True):
                last = key
                if item is not None and keep(item):
                    found.append(item)
                    if len(found) == limit:
                        return found, last, key != batch[-1][0] or merge.pending()

    def _merge(
        self,
        partitions: list[tuple[str, str | None]],
        bounds: tuple[str, str],
        below: str | None,
        limit: int,
        budget: ReadBudget,
        filtered: bool,
    ) -> MergedPartitions:
        # Each shard's fair share of the page, or (filtered) of twice it, and at least what one
        # read unit holds anyway (a query costs a unit per 4 KB read, and an entry is ~200 bytes).
        share = -(-limit * (2 if filtered else 1) // layout.EVENT_LIST_SHARDS) + 2
        return MergedPartitions(
            self.table,
            partitions,
            between=bounds,
            below=below,
            first_chunk=max(share, LIST_FIRST_CHUNK),
            max_chunk=LIST_MAX_CHUNK,
            budget=budget,
        )

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
    ) -> Page[Event]:
        """Events newest first, triggered within [since, until] and the retention period.

        With a project: its list shards and its legacy list partition, merged. Without (admins):
        each day's shards and legacy partition, from `until`'s day back to `since`'s (or the
        retention horizon). A call makes at most LIST_QUERY_BUDGET queries and examines at most
        LIST_MAX_ENTRIES entries, then returns what it found with a cursor: the last sort key it
        saw (and its day), so the next page asks every partition for what sorts below it.
        """
        # Nothing is older than the retention period or newer than now: clamping to both also
        # keeps the fixed-width sort keys and the day buckets within range.
        since = max(since or 0.0, now - self.table.retention_seconds)
        until = now if until is None else min(until, now)
        if since > until:
            return Page([])
        bounds = (layout.sort_time(max(since, 0.0)), layout.sort_time(max(until, 0.0)) + "#" + layout.HIGH)

        def keep(item: Item) -> bool:
            return (event_code is None or item.get("eventCode") == event_code) and (
                status is None or item.get("status") == status.value
            )

        filtered = event_code is not None or status is not None
        budget = ReadBudget(queries=LIST_QUERY_BUDGET, entries=LIST_MAX_ENTRIES)
        state = unpack_cursor(cursor) if cursor else {}
        below = state.get("k")
        if below is not None and not (isinstance(below, str) and bounds[0] <= below <= bounds[1]):
            raise InvalidCursorError("the pagination cursor does not belong to this list")

        if project_id is not None:
            if state and (set(state) != {"p", "k"} or state["p"] != project_id):
                raise InvalidCursorError("the pagination cursor does not belong to this list")
            partitions: list[tuple[str, str | None]] = [
                (layout.project_events(project_id, shard), None) for shard in layout.event_list_shards()
            ]
            partitions.append((layout.legacy_project_events(project_id), GSI1_NAME))
            merge = self._merge(partitions, bounds, below, limit, budget, filtered)
            found, last, more = self._take(merge, limit, event_code, keep)
            after = last or below
            return Page(
                [event_from(i) for i in found],
                pack_cursor({"p": project_id, "k": after}) if more and after else None,
            )

        first_day, last_day = layout.day(since), layout.day(until)
        day: Any = state.get("d", last_day)
        if state and (
            not {"d"} <= set(state) <= {"d", "k"}
            or not isinstance(day, str)
            or not first_day <= day <= last_day
        ):
            raise InvalidCursorError("the pagination cursor does not belong to this list")
        found = []
        while True:
            partitions = [(layout.day_events(day, shard), GSI2_NAME) for shard in layout.event_list_shards()]
            partitions.append((layout.legacy_day_events(day), GSI2_NAME))
            if budget.queries < len(partitions) or budget.entries <= 0:  # none left for this day
                return Page([event_from(i) for i in found], pack_cursor({"d": day}))
            merge = self._merge(partitions, bounds, below, limit - len(found), budget, filtered)
            items, last, more = self._take(merge, limit - len(found), event_code, keep)
            found.extend(items)
            after = last or below
            if more and after:
                return Page([event_from(i) for i in found], pack_cursor({"d": day, "k": after}))
            day = (datetime.fromisoformat(day) - timedelta(days=1)).date().isoformat()
            below = None
            if day < first_day:
                return Page([event_from(i) for i in found])
            if len(found) >= limit:
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
        self, event_id: str, settled: Mapping[str, NotificationStatus]
    ) -> NotificationStatus | None:
        """A batch of deliveries changed these notifications of the event (subscription id → new
        status); the event's status follows.

        When the batch settled every notification routing created (the event's
        `notificationCount`), their statuses are the event's whole story: the status is written
        without reading anything, on condition that the event is routed with exactly that many
        notifications. Otherwise (fewer settled here, routing not finished, an interrupted
        routing that did not count) `refresh_status` reads the partition.
        """
        status = aggregate_of(settled.values())
        if self.table.update_if(
            layout.event(event_id),
            "SET #s = :s",
            {":s": status.value, ":true": True, ":n": len(settled)},
            condition="routed = :true AND notificationCount = :n AND attribute_not_exists(routingError)",
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
