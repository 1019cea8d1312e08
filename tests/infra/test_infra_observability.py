"""Alarms (Lambda errors/throttles, queues), the dashboard from the EMF metrics, the alarm topic."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import SYNTH_GROUP
from infra_helpers import arn, by_sid, key_policy, ref, topic_policy

from herald import names
from infra import functions as fns
from infra import observability as obs

pytestmark = pytest.mark.xdist_group(name=SYNTH_GROUP)

RUNTIME_METRICS = (
    "EventsIngested",
    "EventsDeduplicated",
    "TransfersStalled",
    "NotificationsCreated",
    "Notifications_delivered",
    "Notifications_retry",
    "Notifications_failed",
    "Notifications_skipped",
    "Notifications_deferred",
    "DeadLetters",
    "DeliveryLatencyMs",
    "UnqueuedEventsRequeued",
)


def _alarms(synth: Any) -> dict[str, dict[str, Any]]:
    return {
        lid: r["Properties"] for lid, r in synth.template.find_resources("AWS::CloudWatch::Alarm").items()
    }


@pytest.mark.parametrize("spec", fns.ALL_SPECS, ids=lambda s: s.construct_id)
@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_error_and_throttle_alarms(dev: Any, spec: fns.FunctionSpec, metric: str) -> None:
    function_id, _ = dev.function(spec.handler)
    found = [
        a
        for a in _alarms(dev).values()
        if a.get("MetricName") == metric
        and a.get("Namespace") == "AWS/Lambda"
        and a["Dimensions"] == [{"Name": "FunctionName", "Value": ref(function_id)}]
    ]
    assert len(found) == 1
    [alarm] = found
    assert alarm["Statistic"] == "Sum"
    assert alarm["Period"] == 300
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"


def test_dev_alarms_have_no_actions(dev: Any) -> None:
    assert dev.stack.observability.alarm_topic is None
    assert not dev.template.find_resources("AWS::SNS::Subscription", {"Properties": {"Protocol": "email"}})
    for alarm in _alarms(dev).values():
        assert "AlarmActions" not in alarm and "OKActions" not in alarm


def test_alarm_email_gets_every_alarm_through_an_encrypted_topic(prod: Any) -> None:
    topic = prod.stack.observability.alarm_topic
    topic_ref = ref(prod.logical_id(topic))
    key = prod.stack.storage.key
    assert prod.resource(topic)["Properties"]["KmsMasterKeyId"] == arn(prod.logical_id(key))
    prod.template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.org", "TopicArn": topic_ref}
    )
    alarms = _alarms(prod)
    # 6 functions x 2 + 4 queues (ingest, events, deliveries, ordered deliveries) x (age, DLQ depth).
    assert len(alarms) == len(fns.ALL_SPECS) * 2 + 4 * 2
    for logical_id, alarm in alarms.items():
        assert alarm["AlarmActions"] == [topic_ref], logical_id
        assert alarm["OKActions"] == [topic_ref], logical_id

    from_alarms = {
        "ArnLike": {
            "aws:SourceArn": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":cloudwatch:",
                        {"Ref": "AWS::Region"},
                        ":",
                        {"Ref": "AWS::AccountId"},
                        ":alarm:*",
                    ],
                ]
            }
        },
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
    }
    publish = by_sid(topic_policy(prod, topic), obs.SID_CLOUDWATCH_PUBLISH)
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert publish["Action"] == "sns:Publish"
    assert publish["Resource"] == topic_ref
    assert publish["Condition"] == from_alarms
    encrypt = by_sid(key_policy(prod, key), obs.SID_CLOUDWATCH_KMS)
    assert encrypt["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(encrypt["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert encrypt["Condition"] == from_alarms


def _dashboard_body(synth: Any) -> str:
    [dashboard] = synth.template.find_resources("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    # Fn::Join of literal JSON pieces and tokens: the literal text is what matters here.
    return "".join(part if isinstance(part, str) else json.dumps(part) for part in body["Fn::Join"][1])


def test_dashboard_shows_every_runtime_metric(dev: Any) -> None:
    body = _dashboard_body(dev)
    assert obs.METRIC_EVENTS_INGESTED == "EventsIngested"
    assert tuple(obs.notification_metric_name(o) for o in obs.NOTIFICATION_OUTCOMES) == RUNTIME_METRICS[4:9]
    for metric in RUNTIME_METRICS:
        assert f'["{names.METRICS_NAMESPACE}","{metric}","service","{names.SERVICE_NAME}"' in body, metric
    for percentile in ("p50", "p90", "p99"):
        assert f'"stat":"{percentile}"' in body


def test_dashboard_shows_functions_queues_and_api(dev: Any) -> None:
    body = _dashboard_body(dev)
    for metric in ("Errors", "Throttles", "Duration"):
        count = body.count(f'["AWS/Lambda","{metric}","FunctionName",')
        assert count == len(fns.ALL_SPECS), metric
    # Ingest, events, deliveries and ordered deliveries (and their DLQs).
    assert body.count('"ApproximateAgeOfOldestMessage"') == 4
    assert body.count('"ApproximateNumberOfMessagesVisible"') == 4
    assert body.count('"ApproximateNumberOfMessagesNotVisible"') == 4
    for metric in ("Count", "4XXError", "5XXError", "Latency", "IntegrationLatency"):
        assert f'["AWS/ApiGateway","{metric}","ApiName","{dev.stack.stack_name}"' in body, metric
    assert '"type":"alarm"' in body


def _table_parts(synth: Any) -> list[str]:
    """How the dashboard's DynamoDB metrics name the table and each index (dimensions, sorted)."""
    table = f'"TableName","{json.dumps(ref(synth.logical_id(synth.stack.storage.table)))}"'
    indexes = [
        f'"GlobalSecondaryIndexName","{index}",{table}' for index in (names.GSI1_NAME, names.GSI2_NAME)
    ]
    return [table, *indexes]


@pytest.mark.parametrize("variant", ["dev", "provisioned"])
def test_dashboard_shows_table_capacity_and_throttles(variant: str, request: pytest.FixtureRequest) -> None:
    synth = request.getfixturevalue(variant)
    body = _dashboard_body(synth)
    for part in _table_parts(synth):
        for metric in (
            "ConsumedReadCapacityUnits",
            "ConsumedWriteCapacityUnits",
            "ReadThrottleEvents",
            "WriteThrottleEvents",
        ):
            assert f'["AWS/DynamoDB","{metric}",{part},{{' in body, (metric, part)
        # What is provisioned is drawn next to what is consumed, when there is something provisioned.
        for metric in ("ProvisionedReadCapacityUnits", "ProvisionedWriteCapacityUnits"):
            assert (f'["AWS/DynamoDB","{metric}",{part}' in body) == (variant == "provisioned"), (
                metric,
                part,
            )
    assert "PERIOD(" in body  # consumed units per second


def _emitted_metric_names(repo_root: Path) -> tuple[set[str], set[str]]:
    """Metric names in the handlers' `metrics.add_metric(...)` calls: literals and f-string prefixes."""
    literals: set[str] = set()
    prefixes: set[str] = set()
    for path in (repo_root / "functions" / "herald" / "handlers").glob("*.py"):
        text = path.read_text()
        for match in re.finditer(r"add_metric\((.*?)\)\n", text, flags=re.DOTALL):
            call = match.group(1)
            literals |= set(re.findall(r'(?<!f)"([A-Za-z][A-Za-z_]*)"', call))
            prefixes |= set(re.findall(r'f"([A-Za-z]+_)\{', call))
    return literals, prefixes


def test_dashboard_covers_every_metric_the_handlers_emit(dev: Any, repo_root: Path) -> None:
    literals, prefixes = _emitted_metric_names(repo_root)
    assert "NotificationsCreated" in literals and prefixes == {"Notifications_"}
    body = _dashboard_body(dev)
    for name in literals:
        assert f'"{names.METRICS_NAMESPACE}","{name}"' in body, f"{name} is emitted but not on the dashboard"
    for prefix in prefixes:
        for outcome in obs.NOTIFICATION_OUTCOMES:
            assert f'"{prefix}{outcome}"' in body
