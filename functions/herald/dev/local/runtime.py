"""`herald dev`: the whole service on one machine, no AWS account.

A moto server (child process) plays DynamoDB, SQS, SNS and SES on 127.0.0.1; the API handler
runs behind a local HTTP adapter; pollers feed the filter, deliver and reprocess handlers the way
Lambda's SQS event source mappings do. The handlers are the ones deployed to Lambda: only the
endpoint and credentials in the environment differ.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from herald import names

DEV_SES_SENDER = "herald@example.com"
DEFAULT_PORT = 8000
DEFAULT_MOTO_PORT = 5000
LOCAL_REGION = "us-east-1"


@dataclass
class DevConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    moto_port: int = DEFAULT_MOTO_PORT
    api_key: str = ""
    retry_schedule: str | None = None
    environ: dict[str, str] = field(default_factory=dict)


class LocalRuntime:
    def __init__(self, config: DevConfig, out: TextIO = sys.stdout) -> None:
        self.config, self.out = config, out
        self._stopping = threading.Event()
        self._pollers: list[Any] = []
        self._api: Any = None
        self._moto: Any = None
        self._scheduler: Any = None
        self._resources: Any = None

    def _configure_environment(self, endpoint: str) -> None:
        env = {
            # Everything AWS goes to the local moto server, never to a real account.
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", LOCAL_REGION),
            "AWS_REGION": os.environ.get("AWS_DEFAULT_REGION", LOCAL_REGION),
            names.ENV_ALLOW_PRIVATE_TARGETS: os.environ.get(names.ENV_ALLOW_PRIVATE_TARGETS, "1"),
            "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "true"),
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            # As in Lambda: the code root. Powertools then keeps each worker's event loop between
            # invocations, and with it the deliver function's HTTP connection pool.
            "LAMBDA_TASK_ROOT": str(Path(__file__).resolve().parents[2]),
        }
        if self.config.retry_schedule is not None:
            env[names.ENV_RETRY_SCHEDULE] = self.config.retry_schedule
        env.update(self.config.environ)
        os.environ.update(env)
        # Settings and clients are per process and lazy: make sure none was built before this.
        from herald.adapters import aws
        from herald.domain import settings
        from herald.logic import services

        aws.reset_clients()
        settings.reset_settings()
        services.reset_services()

    def start(self) -> None:
        from herald.dev.local.moto_process import MotoServer

        self._moto = MotoServer(self.config.moto_port, self.config.host)
        self._moto.start()
        try:
            self._start_service()
        except BaseException:
            self.stop()
            raise

    def _start_service(self) -> None:
        self._configure_environment(self._moto.endpoint)
        from herald.adapters import aws
        from herald.api import auth
        from herald.dev.local.resources import create_resources
        from herald.domain.settings import get_settings

        settings = get_settings()
        res = create_resources(
            aws.client("dynamodb"), aws.client("sqs"), settings, sns=aws.client("sns"), kms=aws.client("kms")
        )
        # moto's SES, like SES's sandbox, sends only from verified identities.
        sender = os.environ.setdefault(names.ENV_SES_SENDER, DEV_SES_SENDER)
        aws.client("ses").verify_email_identity(EmailAddress=_address_of(sender))
        os.environ.update({**res.environment(), names.ENV_BROADCAST_TOPIC_ARN: res.broadcast_topic_arn})
        from herald.domain import settings as settings_module
        from herald.logic import services

        settings_module.reset_settings()
        services.reset_services()
        svc = services.get_services()
        auth.register_key(svc.api_keys, self.config.api_key, projects=[], admin=True, name="herald dev")

        from herald.dev.local.api_server import ApiServer
        from herald.dev.local.pollers import Scheduler, SqsPoller
        from herald.handlers import api, bridge, deliver, reprocess, scheduled
        from herald.handlers import route as route_handler

        sqs = aws.client("sqs")
        # The DLQ pollers all call the reprocess handler; like one Lambda instance, never at once.
        reprocess_handler = _serialized(reprocess.handler, threading.Lock())
        # (queue, handler, function name, batch size, on_exit), as CDK's event source mappings.
        mappings = [
            (res.ingest_queue_url, bridge.handler, "herald-ingest", names.INGEST_BATCH_SIZE, None),
            (res.events_queue_url, route_handler.handler, "herald-filter", names.EVENTS_BATCH_SIZE, None),
            (
                res.deliveries_queue_url,
                deliver.handler,
                "herald-deliver",
                names.DELIVERIES_BATCH_SIZE,
                deliver.shutdown,
            ),
            # Ordered subscriptions: the same function on the FIFO queue (a second event source).
            (
                res.ordered_deliveries_queue_url,
                deliver.handler,
                "herald-deliver-ordered",
                names.ORDERED_DELIVERIES_BATCH_SIZE,
                deliver.shutdown,
            ),
            (res.events_dlq_url, reprocess_handler, "herald-reprocess-events", 10, None),
            (res.deliveries_dlq_url, reprocess_handler, "herald-reprocess-deliveries", 10, None),
            (res.ordered_deliveries_dlq_url, reprocess_handler, "herald-reprocess-ordered", 10, None),
            (res.ingest_dlq_url, reprocess_handler, "herald-reprocess-ingest", 10, None),
        ]
        self._pollers = [
            SqsPoller(sqs, url, fn, name, batch, on_error=self._report, on_exit=on_exit)
            for url, fn, name, batch, on_exit in mappings
        ]
        interval = float(
            os.environ.get(names.ENV_SCHEDULER_INTERVAL_SECONDS, names.DEFAULT_SCHEDULER_INTERVAL_SECONDS)
        )
        self._scheduler = Scheduler(scheduled.handler, interval, "herald-scheduled", on_error=self._report)
        self._api = ApiServer(api.handler, self.config.host, self.config.port)
        self._api.start()
        for poller in self._pollers:
            poller.start()
        self._scheduler.start()
        self._resources = res

    @property
    def api_url(self) -> str:
        return str(self._api.url)

    def _report(self, function: str, exc: BaseException) -> None:
        print(f"[herald dev] {function}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)

    def print_banner(self) -> None:
        res = self._resources
        endpoint = self._moto.endpoint
        region = os.environ["AWS_DEFAULT_REGION"]
        from herald.domain.settings import get_settings

        broadcast = (
            "every routed event, matched by a subscription or not"
            if get_settings().broadcast
            else f"off: {names.ENV_BROADCAST}=0"
        )
        print(
            f"""Herald is running (embedded local runtime; state lives in memory until you stop it).

  API            {self._api.url}
  API key        {self.config.api_key}      (send it as the X-API-Key header; admin)
  console        {self._console_link()}
                 (opens the web console once, within an hour; `herald console` prints another)
  AWS endpoint   {endpoint}  (moto: DynamoDB, SQS, SNS, SES)
  ingest queue   {res.ingest_queue_url}   (send ICA envelopes here)
  ingest topic   {res.ingest_topic_arn}
  broadcast      {res.broadcast_topic_arn}   ({broadcast})

The `herald` CLI in this directory finds this server by itself (.herald/dev-url, .herald/dev-api-key).

boto3 and the other AWS SDKs find the local AWS endpoint through the environment:
  export AWS_ENDPOINT_URL={endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \\
         AWS_DEFAULT_REGION={region}
the AWS CLI (v1 and v2; v1 ignores AWS_ENDPOINT_URL for SQS) with --endpoint-url on each command:
  aws --endpoint-url {endpoint} sqs list-queues

Ctrl-C stops everything.""",
            file=self.out,
            flush=True,
        )

    def _console_link(self) -> str:
        """A one-time console link for the admin key (as `herald console` would print)."""
        from herald.api import auth
        from herald.logic import console_sessions, services

        svc = services.get_services()
        key = auth.authenticate(svc.api_keys, self.config.api_key)
        if key is None:
            return f"{self._api.url}/console/"
        token, _ = console_sessions.create_link(svc.console, key, None, console_sessions.MAX_LINK_SECONDS)
        return f"{self._api.url}/console/#link={token}"

    def wait(self) -> None:
        self._stopping.wait()

    def request_stop(self, *_: Any) -> None:
        self._stopping.set()

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.stop()
        for poller in self._pollers:
            poller.stop()
        for poller in self._pollers:
            if poller.is_alive():  # a start that failed part-way never started some of them
                poller.join(timeout=5)
        if self._api is not None:
            self._api.stop()
        if self._moto is not None:
            self._moto.stop()


def _address_of(sender: str) -> str:
    """`Name <a@b>` or `a@b` → `a@b`."""
    return sender.split("<", 1)[1].rstrip(">").strip() if "<" in sender else sender.strip()


def _serialized(handler: Any, lock: threading.Lock) -> Any:
    def call(event: dict[str, Any], context: Any) -> Any:
        with lock:
            return handler(event, context)

    return call


def run(config: DevConfig, out: TextIO = sys.stdout, on_started: Callable[[str], None] | None = None) -> int:
    """Start, call `on_started(api_url)`, print the banner, and serve until Ctrl-C."""
    runtime = LocalRuntime(config, out)
    signal.signal(signal.SIGINT, runtime.request_stop)
    signal.signal(signal.SIGTERM, runtime.request_stop)
    try:
        runtime.start()
    except (RuntimeError, OSError) as exc:
        print(f"herald dev: {exc}", file=sys.stderr)
        return 1
    if on_started is not None:
        on_started(runtime.api_url)  # before the banner: whoever reads it may go for the files next
    runtime.print_banner()
    runtime.wait()
    print("Stopping Herald…", file=out, flush=True)
    runtime.stop()
    print("Stopped.", file=out, flush=True)
    return 0
