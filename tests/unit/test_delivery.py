"""Delivering a notification: one attempt, recorded in place, and what happens next."""

from __future__ import annotations

import json

from standardwebhooks import Webhook

from herald.domain.messages import DeliverNotification
from herald.domain.models import ChannelType, NotificationStatus
from herald.logic import accept, delivery, lifecycle, routing
from herald.logic.lifecycle import Action
from herald.logic.services import Services
from herald.targets.base import Outcome
from herald.targets.http import run
from tests.conftest import Receiver
from tests.unit.builders import ANALYSIS, channel, subscription


def _routed(services: Services, address: str, **channel_extra: object) -> tuple[DeliverNotification, str]:
    ch = channel(services, address, **channel_extra)
    subscription(services, ch.id, payloadVersion="V4")
    event, _ = accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS, description="Analysis success")
    routing.route_event(services, event.id)
    body = services.queues.sqs.receive_message(QueueUrl=services.queues.deliveries_url)["Messages"][0]["Body"]
    return DeliverNotification.model_validate_json(body), ch.secret


def test_success_posts_the_ica_envelope_signed(services: Services, receiver: Receiver) -> None:
    message, secret = _routed(services, receiver.url)

    decision = run(delivery.deliver(services, message, receive_count=1))

    assert decision.outcome == "delivered"
    assert decision.latency_ms is not None and decision.latency_ms >= 0
    request = receiver.requests[0]
    envelope = Webhook(secret).verify(request["body"], request["headers"])
    event = services.events.get(message.eventId)
    assert envelope == {
        "correlationId": event.correlationId,
        "timestamp": event.timestamp,
        "eventCode": "ICA_EXEC_002",
        "description": "Analysis success",
        "projectId": "p1",
        "payloadVersion": "V4",
        "payload": ANALYSIS,
    }
    assert request["headers"]["webhook-id"] == message.notificationId


def test_success_is_recorded_with_its_attempt(services: Services, receiver: Receiver) -> None:
    message, _ = _routed(services, receiver.url)
    run(delivery.deliver(services, message, receive_count=1))
    event, notifications = services.events.get_with_notifications(message.eventId)
    assert event.status == "success"
    [n] = notifications
    assert n.status == "success"
    assert [(a.success, a.httpStatus) for a in n.attempts] == [(True, 200)]


def test_failure_schedules_the_next_attempt(services: Services, receiver: Receiver) -> None:
    receiver.statuses = [500]
    message, _ = _routed(services, receiver.url)

    decision = run(delivery.deliver(services, message, receive_count=1))

    assert decision == delivery.Decision("retry", lifecycle.retry_after(0, "HTTP 500"))
    event, [n] = services.events.get_with_notifications(message.eventId)
    assert (event.status, n.status, n.lastError) == ("retryable", "retryable", "HTTP 500")


def test_last_failed_attempt_is_failed_and_handed_to_the_dead_letter_queue(
    services: Services, receiver: Receiver
) -> None:
    receiver.statuses = [500, 500, 503]
    message, _ = _routed(services, receiver.url)
    decisions = [run(delivery.deliver(services, message, receive_count=n)) for n in (1, 2, 3)]
    assert decisions[-1] == delivery.Decision("failed", lifecycle.dead_letter("attempts exhausted: HTTP 503"))
    event, [n] = services.events.get_with_notifications(message.eventId)
    assert (event.status, n.status, len(n.attempts)) == ("failed", "failed", 3)


def test_connection_refused_is_a_failed_attempt_with_a_reason(services: Services) -> None:
    message, _ = _routed(services, "http://127.0.0.1:9/hook")
    run(delivery.deliver(services, message, receive_count=1))
    _, [n] = services.events.get_with_notifications(message.eventId)
    assert n.attempts[0].error == "connection refused or unreachable"
    assert n.attempts[0].httpStatus is None


def test_redirect_is_a_failure_not_followed(services: Services, receiver: Receiver) -> None:
    receiver.statuses = [302]
    message, _ = _routed(services, receiver.url)
    run(delivery.deliver(services, message, receive_count=1))
    _, [n] = services.events.get_with_notifications(message.eventId)
    assert (n.attempts[0].httpStatus, n.status) == (302, "retryable")
    assert len(receiver.requests) == 1


def test_duplicate_message_for_a_delivered_notification_is_skipped(
    services: Services, receiver: Receiver
) -> None:
    message, _ = _routed(services, receiver.url)
    run(delivery.deliver(services, message, receive_count=1))
    assert run(delivery.deliver(services, message, receive_count=1)).outcome == "skipped"
    assert len(receiver.requests) == 1


def test_sqs_target_receives_the_envelope_with_attributes(services: Services) -> None:
    sqs = services.queues.sqs
    url = sqs.create_queue(QueueName="customer-target")["QueueUrl"]
    message, _ = _routed(services, url, type_=ChannelType.SQS)

    assert run(delivery.deliver(services, message, receive_count=1)).outcome == "delivered"

    [got] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(got["Body"])["payload"] == ANALYSIS
    assert got["MessageAttributes"]["eventCode"]["StringValue"] == "ICA_EXEC_002"


def test_missing_sqs_target_fails_with_a_reason_that_says_what_to_check(services: Services) -> None:
    url = services.queues.events_url.rsplit("/", 1)[0] + "/no-such-queue"
    message, _ = _routed(services, url, type_=ChannelType.SQS)
    run(delivery.deliver(services, message, receive_count=1))
    _, [n] = services.events.get_with_notifications(message.eventId)
    assert "check the SQS address exists" in (n.lastError or "")


def test_concurrent_deliveries_of_one_event_leave_it_success(services: Services, receiver: Receiver) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ch = channel(services, receiver.url)
    for _ in range(6):
        subscription(services, ch.id)
    event, _ = accept.accept_event(services, "p1", "ICA_EXEC_002", ANALYSIS)
    routing.route_event(services, event.id)
    _, notifications = services.events.get_with_notifications(event.id)
    messages = [
        DeliverNotification(eventId=event.id, subscriptionId=n.subscriptionId, notificationId=n.id)
        for n in notifications
    ]
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda m: run(delivery.deliver(services, m, 1)), messages))
    assert services.events.get(event.id).status == "success"


def _failed(status: int = 500, retry_after: int | None = None, retryable: bool = True) -> Outcome:
    return Outcome(
        success=False,
        duration_ms=5,
        http_status=status,
        error=f"HTTP {status}",
        retry_after=retry_after,
        retryable=retryable,
    )


def test_a_failed_attempt_with_attempts_left_is_retried_after_the_schedules_delay() -> None:
    verdict = lifecycle.after_attempt(_failed(), attempts_before=1, schedule=(5, 300), ordered=False)
    assert verdict == lifecycle.Verdict(NotificationStatus.RETRYABLE, lifecycle.retry_after(300, "HTTP 500"))


def test_the_last_failed_attempt_goes_to_the_dead_letter_queue_but_leaves_an_ordered_group_at_once() -> None:
    standard = lifecycle.after_attempt(_failed(), attempts_before=2, schedule=(5, 300), ordered=False)
    ordered = lifecycle.after_attempt(_failed(), attempts_before=2, schedule=(5, 300), ordered=True)
    assert (standard.status, standard.disposition.action) == (NotificationStatus.FAILED, Action.DEAD_LETTER)
    assert (ordered.status, ordered.disposition.action) == (NotificationStatus.FAILED, Action.DONE)


def test_gone_or_unretryable_failures_are_done_with_whatever_attempts_remain() -> None:
    for outcome in (_failed(410), _failed(413, retryable=False)):
        verdict = lifecycle.after_attempt(outcome, attempts_before=0, schedule=(5, 300), ordered=False)
        assert (verdict.status, verdict.disposition.action) == (NotificationStatus.FAILED, Action.DONE)


def test_retry_after_is_honoured_within_the_schedules_longest_delay() -> None:
    asked = lifecycle.after_attempt(_failed(429, retry_after=60), 0, (5, 300), ordered=False)
    too_long = lifecycle.after_attempt(_failed(429, retry_after=9999), 0, (5, 300), ordered=False)
    assert (asked.disposition.seconds, too_long.disposition.seconds) == (60, 300)


def test_a_held_back_delivery_is_re_sent_but_keeps_its_place_in_an_ordered_group() -> None:
    assert lifecycle.held_back(2.1, "the channel's rate limit", ordered=False) == lifecycle.resend_after(
        3, "the channel's rate limit"
    )
    assert lifecycle.held_back(0.0, "paused", ordered=True) == lifecycle.retry_after(1, "paused")
