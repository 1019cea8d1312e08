"""Events: what the event item and its list entry hold, lists over old and new layouts, payloads."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import Binary

from herald.dal import layout
from herald.dal.codec import to_ddb
from herald.domain.models import Event, NotificationStatus
from herald.logic.services import Services
from herald.names import GSI1_PARTITION_KEY, GSI1_SORT_KEY, GSI2_PARTITION_KEY, GSI2_SORT_KEY
from tests.unit.builders import ANALYSIS
from tests.unit.dal.support import event as _event

INDEX_KEYS = {GSI1_PARTITION_KEY, GSI1_SORT_KEY, GSI2_PARTITION_KEY, GSI2_SORT_KEY}


def _listed(services: Services, project: str | None = "p1", **filters: Any) -> list[Event]:
    return services.events.list_page(project, 50, None, now=time.time(), **filters).items


def _stored_item(services: Services, event: Event) -> dict[str, Any]:
    item = services.table.get(layout.event(event.id), consistent=True)
    assert item is not None
    return item


def _store_as_before_list_entries(services: Services, event: Event) -> None:
    """An event item as Herald wrote it before list entries: the index keys on the event itself."""
    services.events.put_if_new(event)
    item = _stored_item(services, event)
    services.table.delete(layout.event_listing(event.id))
    item.update(layout.event_listing_index(event.id, event.projectId, event.createdAt))
    services.table.put(item)


def test_the_event_item_has_no_index_keys_and_its_list_entry_no_payload(services: Services) -> None:
    event = _event()
    services.events.put_if_new(event)

    stored = services.table.get(layout.event(event.id))
    entry = services.table.get(layout.event_listing(event.id))

    assert stored is not None and entry is not None
    assert not INDEX_KEYS & set(stored)
    assert set(entry) >= INDEX_KEYS and "payload" not in entry


def test_a_listed_event_is_the_stored_event_with_its_payload_and_status(services: Services) -> None:
    event = _event()
    services.events.put_if_new(event)
    services.events.mark_routed(event.id)

    [listed] = _listed(services)

    assert listed == services.events.get(event.id, consistent=True)
    assert listed.payload == ANALYSIS and listed.status == NotificationStatus.SUCCESS


def test_every_project_lists_through_list_entries_for_admins(services: Services) -> None:
    a, b = _event(project="pa"), _event(project="pb")
    for event in (a, b):
        services.events.put_if_new(event)

    assert [e.id for e in _listed(services, None)] == [b.id, a.id]


def test_lists_filter_by_code(services: Services) -> None:
    analysis, other = _event(), _event(code="ICA_EXEC_001")
    for event in (analysis, other):
        services.events.put_if_new(event)

    assert [e.id for e in _listed(services, event_code="ICA_EXEC_001")] == [other.id]


def test_lists_filter_by_status(services: Services) -> None:
    succeeded, pending = _event(), _event()
    for event in (succeeded, pending):
        services.events.put_if_new(event)
    services.events.mark_routed(succeeded.id)

    assert [e.id for e in _listed(services, status=NotificationStatus.SUCCESS)] == [succeeded.id]
    assert [e.id for e in _listed(services, status=NotificationStatus.PENDING)] == [pending.id]


def test_pages_of_list_entries_continue_where_they_stopped(services: Services) -> None:
    events = [_event() for _ in range(25)]
    for event in events:
        services.events.put_if_new(event)

    seen, cursor = [], None
    while True:
        page = services.events.list_page("p1", 7, cursor, now=time.time())
        seen += [e.id for e in page.items]
        cursor = page.cursor
        if cursor is None:
            break

    assert seen == [e.id for e in reversed(events)]


def test_a_list_entry_whose_event_is_missing_is_skipped(services: Services) -> None:
    kept, lost = _event(), _event()
    for event in (kept, lost):
        services.events.put_if_new(event)
    services.table.delete(layout.event(lost.id))

    assert [e.id for e in _listed(services)] == [kept.id]


def test_events_stored_before_list_entries_are_listed_once_even_when_posted_again(
    services: Services,
) -> None:
    old, new = _event(), _event()
    _store_as_before_list_entries(services, old)
    services.events.put_if_new(new)

    stored, created = services.events.put_if_new(old)

    assert (stored, created) == (old, False)
    assert [e.id for e in _listed(services)] == [new.id, old.id]
    assert services.table.get(layout.event_listing(old.id)) is None


def test_the_same_event_stored_twice_keeps_its_first_list_position(services: Services) -> None:
    first = _event()
    services.events.put_if_new(first)
    again = first.model_copy(update={"createdAt": first.createdAt + 60})

    _, created = services.events.put_if_new(again)

    entry = services.table.get(layout.event_listing(first.id))
    assert not created
    assert entry is not None and entry[GSI1_SORT_KEY] == f"{layout.sort_time(first.createdAt)}#{first.id}"


def test_a_payload_is_stored_compressed_and_reads_back_exactly(services: Services) -> None:
    payload = {**ANALYSIS, "big": 12345678901234567890, "ratio": 0.1, "text": "é" * 200}
    event = _event().model_copy(update={"payload": payload})
    services.events.put_if_new(event)

    stored = _stored_item(services, event)

    assert isinstance(stored["payload"], Binary)
    assert services.events.get(event.id, consistent=True).payload == payload  # type: ignore[union-attr]


def test_a_payload_too_small_to_gain_is_kept_as_text(services: Services) -> None:
    event = _event().model_copy(update={"payload": {"id": "f"}})
    services.events.put_if_new(event)

    assert _stored_item(services, event)["payload"] == '{"id":"f"}'


def test_an_event_stored_with_its_payload_as_text_still_reads(services: Services) -> None:
    event = _event()
    services.events.put_if_new(event)
    item = _stored_item(services, event)
    item["payload"] = json.dumps(ANALYSIS)
    services.table.put(item)

    assert services.events.get(event.id, consistent=True) == event


def test_the_analysis_payload_icas_documentation_shows_fits_an_event_item_in_1_kb(
    services: Services,
) -> None:
    payload = json.loads((Path(__file__).parents[1] / "filters" / "seed_analysis.json").read_text())
    event = _event(status=NotificationStatus.SUCCESS, routed=True).model_copy(update={"payload": payload})
    services.events.put_if_new(event)

    item = to_ddb(_stored_item(services, event))

    assert len(json.dumps(payload, separators=(",", ":"))) > 1400
    assert _item_bytes(item) <= 1024


def test_an_event_that_could_not_be_queued_is_failed_and_listed_for_the_sweeper(services: Services) -> None:
    event = _event()
    services.events.put_if_new(event)

    assert services.events.mark_unqueued(event.id, event.projectId, "queue down", event.createdAt)

    assert services.events.get(event.id, consistent=True).status == NotificationStatus.FAILED  # type: ignore[union-attr]
    assert services.events.unqueued(time.time() + 1, 10) == [(event.id, event.projectId)]


def test_a_requeued_event_is_pending_again_and_off_the_sweepers_list(services: Services) -> None:
    event = _event()
    services.events.put_if_new(event)
    services.events.mark_unqueued(event.id, event.projectId, "queue down", event.createdAt)

    services.events.requeued(event.id)

    assert services.events.get(event.id, consistent=True).status == NotificationStatus.PENDING  # type: ignore[union-attr]
    assert services.events.unqueued(time.time() + 1, 10) == []


def test_routing_that_knows_the_status_settles_it_in_the_routed_write(services: Services) -> None:
    event = _event()
    services.events.put_if_new(event)

    settled = services.events.settle_routing(
        event.id, NotificationStatus.PENDING, NotificationStatus.PENDING, 1
    )

    stored = services.events.get(event.id, consistent=True)
    assert settled == NotificationStatus.PENDING
    assert stored is not None and stored.routed and stored.status == NotificationStatus.PENDING


def test_routing_that_does_not_know_the_status_has_it_recomputed(services: Services) -> None:
    event = _event()
    services.events.put_if_new(event)

    settled = services.events.settle_routing(event.id, None, NotificationStatus.PENDING, 0)

    # No notifications: nothing to deliver, so the routed event succeeded.
    assert settled == NotificationStatus.SUCCESS
    assert services.events.get(event.id, consistent=True).status == NotificationStatus.SUCCESS  # type: ignore[union-attr]


def test_routing_given_up_with_an_error_fails_the_event(services: Services) -> None:
    event = _event()
    services.events.put_if_new(event)

    services.events.mark_routed(event.id, error="routing failed 5 times")

    stored = services.events.get(event.id, consistent=True)
    assert stored is not None and stored.routingError and stored.status == NotificationStatus.FAILED


def _item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size: names plus values (numbers: about one byte per two digits)."""
    size = 0
    for name, value in item.items():
        ((kind, raw),) = value.items()
        size += len(name.encode())
        if kind == "S":
            size += len(raw.encode())
        elif kind == "B":
            size += len(raw)
        elif kind == "N":
            size += len(raw.replace(".", "").replace("-", "")) // 2 + 1
        else:
            size += 1
    return size
