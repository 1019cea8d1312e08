"""Herald on moto in this process: its resources and the environment naming them, and its queues
drained through the real handlers the way Lambda's SQS event source mappings call them.

The handlers and services are imported when first needed, not with this module: a benchmark sets
the environment their loggers read (tests/support/fake_aws.py) after importing it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from herald import names
from herald.dev.local.pollers import SqsPoller
from herald.dev.local.resources import LocalResources, create_resources
from herald.domain.settings import Settings, parse_retry_schedule, reset_settings

Handler = Callable[[dict[str, Any], Any], Any]


def install_herald(
    client: Callable[[str], Any],
    setenv: Callable[[str, str], None],
    retry_schedule: str = "0,0",
    extra_env: dict[str, str] | None = None,
) -> LocalResources:
    """Herald's table, queues, topics and secrets key made with `client`, and the environment
    naming them set with `setenv`; settings, services and caches of earlier runs forgotten."""
    from herald.api import auth
    from herald.logic import endpoint_health
    from herald.logic.services import reset_services

    res = create_resources(
        client("dynamodb"),
        client("sqs"),
        Settings(retry_schedule=parse_retry_schedule(retry_schedule)),
        sns=client("sns"),
        kms=client("kms"),
    )
    for variable, value in {
        **res.environment(),
        names.ENV_RETRY_SCHEDULE: retry_schedule,
        # Loopback receivers and made-up hosts: the SSRF check has its own tests.
        names.ENV_ALLOW_PRIVATE_TARGETS: "1",
        **(extra_env or {}),
    }.items():
        setenv(variable, value)
    reset_settings()
    reset_services()
    auth.clear_cache()
    endpoint_health.forget()  # channel health cached by an earlier run's process state
    return res


def lambda_functions(res: LocalResources) -> dict[str, tuple[str, Handler]]:
    """Each SQS-triggered function: its queue's URL and its handler (the stack's event sources)."""
    from herald.handlers import bridge, deliver, reprocess
    from herald.handlers import route as route_handler

    return {
        "ingest": (res.ingest_queue_url, bridge.handler),
        "filter": (res.events_queue_url, route_handler.handler),
        "deliver": (res.deliveries_queue_url, deliver.handler),
        "reprocess-events": (res.events_dlq_url, reprocess.handler),
        "reprocess-deliveries": (res.deliveries_dlq_url, reprocess.handler),
        "reprocess-ingest": (res.ingest_dlq_url, reprocess.handler),
    }


class Pump:
    """Lambda's SQS event source mappings, one poll at a time, on the caller's thread.

    `wrap(name, handler)` may stand between a mapping and its function (to time or record calls);
    `on_error` receives what a poll's own SQS calls raised (Lambda would retry them).
    """

    def __init__(
        self,
        sqs: Any,
        res: LocalResources,
        wrap: Callable[[str, Handler], Handler] | None = None,
        on_error: Callable[[str, BaseException], None] | None = None,
    ) -> None:
        self.pollers = {
            name: SqsPoller(
                sqs,
                url,
                wrap(name, handler) if wrap else handler,
                name,
                10,
                wait_seconds=0,
                on_error=on_error,
            )
            for name, (url, handler) in lambda_functions(res).items()
        }

    def once(self, name: str) -> int:
        """One poll of one queue; the number of records handled."""
        return self.pollers[name].poll_once()

    def drain(self, rounds: int = 60) -> int:
        """Poll every queue until two rounds in a row find nothing; returns the records handled."""
        handled = idle = 0
        for _ in range(rounds):
            n = sum(self.once(name) for name in self.pollers)
            handled += n
            idle = idle + 1 if n == 0 else 0
            if idle == 2:
                return handled
        raise AssertionError(f"queues still busy after {rounds} rounds")
