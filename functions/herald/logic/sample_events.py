"""Example payloads for the event catalog, and test events sent to one subscription.

A test event is a real event of the subscription's project (stored, listed, with its attempts),
delivered to that one subscription only — its filter is not evaluated and no other subscription
sees it — so a user can check a receiver without posting platform data. Its description starts
with "Test:" so receivers (and the events list) can tell it apart.
"""

from __future__ import annotations

import copy
from typing import Any

from aws_lambda_powertools import Logger

from herald.domain import catalog, clock, ids
from herald.domain.messages import DeliverNotification
from herald.domain.models import Event, Notification, NotificationStatus, Subscription
from herald.logic.services import Services

logger = Logger(child=True)

_ANALYSIS = {
    "id": "0c2ed19d-9452-4258-809b-0d676EXAMPLE",
    "timeCreated": "2025-10-16T23:41:04Z",
    "timeModified": "2025-10-17T00:08:00Z",
    "owner": {"id": "15d51d71-b8a1-4b38-9e3d-74cdfEXAMPLE"},
    "tenant": {"id": "022c9367-8fde-48fe-b129-741a4EXAMPLE", "name": "ExampleTenant"},
    "reference": "210920-1-CopyToolDev-9d78096d-35f4-47c9-b9b6-e0cbcEXAMPLE",
    "userReference": "210920-1",
    "pipeline": {
        "id": "20261676-59ac-4ea0-97bd-8a684EXAMPLE",
        "code": "CopyToolDev",
        "description": "Copy Tool Demonstration",
        "language": "NEXTFLOW",
        "pipelineTags": {"technicalTags": ["Demo"]},
    },
    "status": "SUCCEEDED",
    "startDate": "2025-10-16T23:41:22Z",
    "endDate": "2025-10-17T00:07:52Z",
    "analysisPriority": "HIGH",
    "tags": {"technicalTags": [], "userTags": [], "referenceTags": []},
}
EXAMPLES: dict[str, dict[str, Any]] = {
    "Analysis": _ANALYSIS,
    "BaseJob": {"id": "bj-7f3c2a", "name": "merge-vcf", "status": "SUCCEEDED", "projectId": "demo"},
    "DataTransfer": {
        "id": "trf-5d1e7b",
        "bytesTransferred": 1073741824,
        "status": "SUCCEEDED",
        "details": {"name": "run42.fastq.gz", "owningProjectName": "my_project_name"},
    },
    "ProjectData": {
        "id": "fil.8f6f9511d70e4036c60908daa70ea21c",
        "details": {
            "name": "sample1.bam",
            "path": "/runs/run42/sample1.bam",
            "status": "AVAILABLE",
            "owningProjectName": "my_project_name",
        },
    },
    "JobId": {"id": "job-1b2c3d", "status": "RUNNING"},
    "ProjectSample": {"id": "smp-42a1", "name": "NA12878", "status": "COMPLETED"},
    "WorkflowSession": {"id": "wfs-9e8d7c", "status": "SUCCEEDED", "workflow": {"code": "dragen-germline"}},
    "Notification": {
        "eventId": "8f0e2c1a-…",
        "subscriptionId": "…",
        "channelId": "…",
        "attempts": 8,
        "lastError": "HTTP 500",
    },
    "Channel": {"channelId": "…", "type": "HTTP", "failureRate": 0.9, "consecutiveFailures": 10},
    "sample": {"id": "5c3a1d4e8b2f4a6c", "filename": "sample1.fastq.gz", "visibility": "private"},
    "analysis": {"id": "a1b2c3d4e5f60718", "analysis_type": "classification", "success": True},
}
CUSTOM_EXAMPLE: dict[str, Any] = {
    "metric_name": "Q30",
    "metric_value": "71.2",
    "threshold": "80",
    "sample_name": "NA12878",
}


def example_payload(code: str) -> dict[str, Any]:
    """An example payload for an event code (a custom code gets the seed's QC-metric example)."""
    known = catalog.lookup(code)
    example = EXAMPLES.get(known.payload_type) if known else None
    return copy.deepcopy(example if example is not None else CUSTOM_EXAMPLE)


class QueueUnavailableError(Exception):
    """The deliveries queue did not take the test event (its notification is failed, visibly)."""


def send_test_event(
    services: Services, sub: Subscription, code: str, payload: dict[str, Any] | None
) -> tuple[Event, Notification]:
    """Store a test event and deliver it to `sub` alone."""
    now = clock.now()
    known = catalog.lookup(code)
    event = Event(
        id=ids.new_id(),
        projectId=sub.projectId,
        eventCode=code,
        description=f"Test: {known.description if known else code}",
        payload=payload if payload is not None else example_payload(code),
        correlationId=ids.new_id(),
        timestamp=clock.utc_iso(now),
        createdAt=now,
        payloadVersion=sub.payloadVersion,
    )
    services.events.put_if_new(event)
    stamp = clock.utc_iso(now)
    notification = Notification(
        id=ids.notification_id_for(event.id, sub.id),
        eventId=event.id,
        subscriptionId=sub.id,
        projectId=sub.projectId,
        channelId=sub.notificationChannelId,
        createdAt=stamp,
        updatedAt=stamp,
    )
    services.notifications.create_if_new(notification, event)
    message = DeliverNotification(
        eventId=event.id, subscriptionId=sub.id, notificationId=notification.id, ordered=False
    )
    try:
        services.queues.send_deliveries([message], services.settings.ordered_deliveries_queue_url)
    except Exception as exc:
        logger.warning("test event not queued", event_id=event.id, error=str(exc))
        services.notifications.mark_failed(
            event.id,
            sub.id,
            "the deliveries queue did not accept the test event",
            clock.utc_iso(),
            created_at=notification.createdAt,
        )
        services.events.mark_routed(event.id)
        raise QueueUnavailableError(str(exc)) from exc
    # Routed already (to this subscription): the events queue never sees it.
    services.events.settle_routing(
        event.id, NotificationStatus.PENDING, read_status=event.status, notification_count=1
    )
    return event, notification
