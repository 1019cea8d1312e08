"""What README.md says about Herald's answers and deliveries is what the code does.

Each claim is read from the README's own text (its examples and tables), then checked against the
code that makes it true; the commands it shows are run by tests/e2e.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from herald import signing
from herald.api.schemas import DuplicateOut, EventAccepted
from herald.domain import formats, versions
from herald.domain.models import DuplicateRule, Event, Subscription

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(f"### {title}\n")
    end = README.find("\n#", start + 1)
    return README[start:end]


def fields(model: Any) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


def test_the_recognised_duplicate_example_has_the_api_answer_s_shape() -> None:
    [example] = re.findall(r"```json\n(.*?)```", section("Recognised duplicates"), flags=re.S)
    answer = json.loads(example)
    assert set(answer) == fields(EventAccepted)
    assert set(answer["duplicateOf"]) == fields(DuplicateOut)
    assert answer["duplicateOf"]["rule"] in set(DuplicateRule)


def test_the_duplicate_rules_table_lists_every_rule_the_code_has() -> None:
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", section("Recognised duplicates"), flags=re.M))
    assert listed - {"rule"} == {rule.value for rule in DuplicateRule}  # less the header row


def test_the_signature_table_names_the_headers_herald_sends() -> None:
    text = section("Verifying signatures")
    sent = signing.sign("ntf_1", b"{}", [signing.generate_secret()])
    for header in sent:
        assert f"`{header}" in text, header
    assert "X-Herald-Signature" not in README


def test_the_receiver_example_has_the_envelope_s_fields_and_default_payload_version() -> None:
    [example] = re.findall(r"```json\n(.*?)```", section("What a receiver gets"), flags=re.S)
    keys = re.findall(r'"(\w+)":', example)
    event = Event(
        id="e",
        projectId="demo",
        eventCode="ICA_EXEC_002",
        description="d",
        payload={},
        correlationId="c",
        timestamp="t",
        createdAt=0,
    )
    sub = Subscription(id="s", projectId="demo", eventCode="*", notificationChannelId="c", createdAt="t")
    body = json.loads(formats.render(event, sub))
    assert keys == list(body)
    assert '"payloadVersion": "V4"' in example and body["payloadVersion"] == versions.DEFAULT_VERSION


def test_broadcast_is_described_as_routing_does_it_everywhere() -> None:
    # routing.route_event publishes every event it routes, whether a subscription matched or not.
    assert "every delivered event" not in README
    assert "every routed event" in README
