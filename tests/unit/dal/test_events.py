"""Events: what the event item and its list entry hold, payloads, routing and status writes
(the lists: test_event_lists.py)."""

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
from tests.unit.dal.support import item_bytes

INDEX_KEYS = {GSI1_PARTITION_KEY, GSI1_SORT_KEY, GSI2_PARTITION_KEY, GSI2_SORT_KEY}


def _stored_item(services: Services, event: Event) -> dict[str, Any]:
    item = services.table.get(layout.event(event.id), consistent=True)
    assert item is not None
    return item


def test_the_event_item_has_no_index_keys_and_its_list_entry_no_payload(services: Services) -> None:
    event = _event()
    services.events.put_if_new(event)

    stored = services.table.get(layout.event(event.id))
    entry = services.table.get(layout.event_list_entry(event.id, event.projectId, event.createdAt))

    assert stored is not None and entry is not None
    assert not INDEX_KEYS & set(stored)
    assert set(entry) >= {GSI2_PARTITION_KEY, GSI2_SORT_KEY} and "payload" not in entry


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
    assert item_bytes(item) <= 1024


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
