"""Fault-test fixtures: Herald in-process on moto (driven like Lambda), and `herald dev` instances."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws

from herald.adapters import aws
from herald.dev.local.resources import LocalResources
from herald.domain.settings import reset_settings
from herald.logic.services import Services, get_services, reset_services
from tests.faults.support import Dev, FaultReceiver, Injector, fault_receiver, start_dev, stop_dev
from tests.support import in_process
from tests.unit.conftest import install_resources

API_KEY = "faults-admin-key"
ONECODEX_SECRET = "faults-onecodex-secret"


# --- in-process: moto, the real handlers, pollers driven by hand --------------------------------
class Pump(in_process.Pump):
    """The event source mappings on the test's thread, every invocation recorded.

    The queues' visibility timeout is 0 here: a record the handler failed comes back at the next
    poll, as it would once its visibility timeout expired; redrive to the DLQ is SQS's (moto's).
    """

    def __init__(self, sqs: Any, res: LocalResources) -> None:
        self.errors: list[tuple[str, BaseException]] = []
        # (function, Lambda event, handler result) of every invocation, in order.
        self.calls: list[tuple[str, dict[str, Any], Any]] = []
        super().__init__(sqs, res, wrap=self._recorded, on_error=lambda f, e: self.errors.append((f, e)))

    def _recorded(self, name: str, handler: in_process.Handler) -> in_process.Handler:
        def call(event: dict[str, Any], context: Any) -> Any:
            result = handler(event, context)
            self.calls.append((name, event, result))
            return result

        return call

    def failures(self, name: str) -> list[list[str]]:
        """The bodies of the records each invocation of `name` reported as batch item failures."""
        out = []
        for function, event, result in self.calls:
            if function != name:
                continue
            failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            out.append([r["body"] for r in event["Records"] if r["messageId"] in failed])
        return out

    def once(self, name: str) -> int:
        """One poll of one queue. Like the event source mapping, a failing poll (e.g. the delete
        after the handler) is recorded in `errors`, not raised."""
        try:
            return super().once(name)
        except Exception as exc:
            self.errors.append((name, exc))
            return 1


@dataclass
class World:
    services: Services
    res: LocalResources
    pump: Pump
    ddb: Injector
    sqs: Injector

    def queue_depth(self, url: str) -> int:
        attrs = self.services.queues.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    # The process's boto3 clients are kept between tests, as a warm Lambda keeps them (moto
    # intercepts clients made before it started); building them is most of a test's set-up.
    with mock_aws():
        res = install_resources(monkeypatch, aws.client)
        svc = get_services()  # the very object the handlers use: faults injected here reach them
        sqs = svc.queues.sqs
        for url, _ in in_process.lambda_functions(res).values():
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "0"})
        ddb_faults, sqs_faults = Injector(svc.table.ddb), Injector(sqs)
        try:
            yield World(svc, res, Pump(sqs, res), ddb_faults, sqs_faults)
        finally:
            ddb_faults.remove()
            sqs_faults.remove()
    reset_settings()
    reset_services()


@pytest.fixture
def faulty() -> Iterator[FaultReceiver]:
    with fault_receiver() as rec:
        yield rec


# --- `herald dev` instances of this suite --------------------------------------------------------
@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    """`herald dev` as `make run` starts it (private targets allowed), retry schedule 0,0, and an
    event's routing budget no busy machine runs out of: tests here that route hostile filters are
    about each filter's own bounds (the budget has its own, in-process test)."""
    instance = start_dev(
        tmp_path_factory.mktemp("faults-dev"),
        {
            "HERALD_RETRY_SCHEDULE": "0,0",
            "HERALD_ONECODEX_SECRET": ONECODEX_SECRET,
            "HERALD_ROUTING_BUDGET_SECONDS": "60",
        },
        API_KEY,
    )
    yield instance
    stop_dev(instance)


@pytest.fixture(scope="session")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    """`herald dev` configured like a deployment: only public HTTP targets."""
    instance = start_dev(
        tmp_path_factory.mktemp("faults-secured"),
        {
            "HERALD_RETRY_SCHEDULE": "0,0",
            "HERALD_ONECODEX_SECRET": ONECODEX_SECRET,
            "HERALD_ALLOW_PRIVATE_TARGETS": "0",
        },
        API_KEY,
    )
    yield instance
    stop_dev(instance)


@pytest.fixture
def project(request: pytest.FixtureRequest) -> str:
    """A project of its own per test (the session's instances are shared)."""
    import re
    import time

    name = re.sub(r"[^A-Za-z0-9-]", "-", request.node.name)[:40]
    return f"f-{name}-{time.monotonic_ns() % 1000000}"


# --- the suite's numbers ----------------------------------------------------------------------------
def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Prints what fault tests noted with `record_property("faults", ...)` (duplicates, counts),
    also under xdist, whose workers' own output is not shown."""
    notes = [
        (report.nodeid, value)
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for key, value in getattr(report, "user_properties", ())
        if key == "faults"
    ]
    if notes:
        terminalreporter.section("fault suite numbers")
        for nodeid, value in notes:
            terminalreporter.write_line(f"{nodeid.rsplit('::', 1)[-1]}: {value}")
