"""The moto server `herald dev` runs: moto's own, with speed-ups for the way Herald uses it.

moto 5's server costs grow with what it holds, which made `herald dev` slower the longer it ran:
- every request looks its service up in a list of moto's modules made by listing moto's package
  directory (~200 `stat` calls, under the server's global lock): the list is now made once;
- every DynamoDB Query sorts every item of the table before keeping those of the one partition
  it asked for (Herald reads an event's partition after each delivery): a Query on the table now
  starts from that partition's items, and a Query on an index from the table's items unsorted
  (moto sorts the matches by the index's keys afterwards, ties broken by the table's keys);
- SQS ReceiveMessage checks each message it returns against the queue's retention period by
  computing every attribute of the queue, two of them counting all its messages: it now reads
  the retention period alone;
- SQS SendMessage(Batch) reads the queue's ContentBasedDeduplication from the same attributes,
  counting every message of the queue three times per message sent (a fifth of the server's
  time in `make soak`): a send now leaves the counts at 0, which it never reads.

Neither changes an answer (`tests/unit/test_moto_server.py` compares them with unpatched moto's);
if moto's internals no longer look as these patches expect, the server runs unpatched.

It serves moto's app over kept-alive connections (herald.dev.local.moto_http), where moto's own
server opens a connection per call.

Run as `python -m herald.dev.local.moto_server -H 127.0.0.1 -p 5000`.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

logger = logging.getLogger(__name__)

# The table partition the current thread's Query reads (moto's server answers on many threads).
_reading = threading.local()
_INDEX = object()  # ...or, in its place, this: the Query reads an index
# Set while the current thread sends SQS messages: the queue's message counts are not computed.
_sending = threading.local()
_COUNTS = (
    "approximate_number_of_messages",
    "approximate_number_of_messages_delayed",
    "approximate_number_of_messages_not_visible",
)


def _cached_module_list(original: Callable[[], Iterable[str]]) -> Callable[[], tuple[str, ...]]:
    @functools.cache
    def modules() -> tuple[str, ...]:
        return tuple(original())

    return modules


def _partition_first(table_class: Any) -> None:
    all_items, query = table_class.all_items, table_class.query

    def partition_items(self: Any) -> list[Any]:
        hash_key = getattr(_reading, "hash_key", None)
        if hash_key is None:
            items: list[Any] = all_items(self)
            return items
        if hash_key is _INDEX:
            if not self.range_key_attr:
                return list(self.items.values())
            return [item for partition in self.items.values() for item in partition.values()]
        partition = self.items.get(hash_key)
        if partition is None:
            return []
        # The Query sorts what it keeps by range key itself.
        return list(partition.values()) if self.range_key_attr else [partition]

    def partition_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        # moto's backend passes index_name as the 8th positional argument (after hash_key: 7th).
        index_name = kwargs["index_name"] if "index_name" in kwargs else (args[6] if len(args) > 6 else None)
        if index_name is None and hash_key is None:
            return query(self, hash_key, *args, **kwargs)
        _reading.hash_key = _INDEX if index_name is not None else hash_key
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _reading.hash_key = None

    table_class.all_items = partition_items
    table_class.query = partition_query


def _retention_read_alone(backend_class: Any, unix_time: Callable[[], float]) -> None:
    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        valid: bool = retention_period + message.sent_timestamp / 1000 > unix_time()
        return valid

    backend_class.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period


def _sends_count_nothing(queue_class: Any, backend_class: Any) -> None:
    def uncounted_while_sending(count: Callable[[Any], int]) -> property:
        def fget(self: Any) -> int:
            return 0 if getattr(_sending, "active", False) else count(self)

        return property(fget)

    def sending(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def send(self: Any, *args: Any, **kwargs: Any) -> Any:
            was = getattr(_sending, "active", False)
            _sending.active = True
            try:
                return method(self, *args, **kwargs)
            finally:
                _sending.active = was

        return send

    for name in _COUNTS:
        setattr(queue_class, name, uncounted_while_sending(getattr(queue_class, name).fget))
    for name in ("send_message", "send_message_batch"):
        setattr(backend_class, name, sending(getattr(backend_class, name)))


def apply() -> bool:
    """Patch moto in this process; False (and moto untouched) if its internals have moved."""
    try:
        from moto import backends
        from moto.core.utils import unix_time
        from moto.dynamodb.models.table import Table
        from moto.sqs.models import Queue, SQSBackend

        expected = (
            callable(getattr(backends, "list_of_moto_modules", None))
            and callable(getattr(Table, "all_items", None))
            and callable(getattr(Table, "query", None))
            and callable(getattr(SQSBackend, "is_message_valid_based_on_retention_period", None))
            and "MessageRetentionPeriod" in Queue.BASE_ATTRIBUTES
            and all(isinstance(getattr(Queue, name, None), property) for name in _COUNTS)
            and callable(getattr(SQSBackend, "send_message", None))
            and callable(getattr(SQSBackend, "send_message_batch", None))
            and list(inspect.signature(Table.query).parameters)[1:9]
            == [
                "hash_key",
                "range_comparison",
                "range_objs",
                "limit",
                "exclusive_start_key",
                "scan_index_forward",
                "projection_expressions",
                "index_name",
            ]
        )
    except ImportError:
        expected = False
    if not expected:
        logger.warning("moto's internals have changed: running its server without Herald's speed-ups")
        return False
    backends.list_of_moto_modules = _cached_module_list(backends.list_of_moto_modules)
    _partition_first(Table)
    _retention_read_alone(SQSBackend, unix_time)
    _sends_count_nothing(Queue, SQSBackend)
    return True


def serve(host: str, port: int) -> None:
    """moto's app on kept-alive connections (herald.dev.local.moto_http), until the process stops;
    on moto's own server if its WSGI parts have moved."""
    os.environ.setdefault("MOTO_PORT", str(port))  # as moto's server does: some answers name it
    try:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from herald.dev.local.moto_http import KeepAliveServer
    except ImportError:
        logger.warning("moto's server parts have moved: running moto's own server")
        from moto.server import main as moto_main

        moto_main(["-H", host, "-p", str(port)])
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = KeepAliveServer((host, port), DomainDispatcherApplication(create_backend_app))
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:  # run by hand in a terminal: Ctrl-C stops it without a traceback
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="moto's server, with Herald's speed-ups")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("MOTO_PORT", "5000")))
    args = parser.parse_args(argv)
    apply()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
