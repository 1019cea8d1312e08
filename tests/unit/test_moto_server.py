"""`herald dev`'s moto server speed-ups answer exactly as moto does."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import backends
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sqs.models import Queue, SQSBackend, sqs_backends

from herald.dev.local import moto_server
from herald.dev.local.moto_http import KeepAliveHandler, KeepAliveServer
from herald.dev.local.resources import LocalResources
from herald.names import GSI1_NAME, GSI1_PARTITION_KEY, GSI1_SORT_KEY


@pytest.fixture
def patchable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever `apply` replaces is put back after the test (moto runs in this process)."""
    monkeypatch.setattr(Table, "all_items", Table.all_items)
    monkeypatch.setattr(Table, "query", Table.query)
    monkeypatch.setattr(backends, "list_of_moto_modules", backends.list_of_moto_modules)
    monkeypatch.setattr(
        SQSBackend,
        "is_message_valid_based_on_retention_period",
        SQSBackend.is_message_valid_based_on_retention_period,
    )
    for name in ("send_message", "send_message_batch"):
        monkeypatch.setattr(SQSBackend, name, getattr(SQSBackend, name))
    for name in moto_server._COUNTS:
        monkeypatch.setattr(Queue, name, getattr(Queue, name))


def _fill(ddb: Any, table: str) -> None:
    for p in range(6):
        for s in range(25):
            item = {
                "pk": {"S": f"P#{p}"},
                "sk": {"S": f"S#{s:03d}"},
                "n": {"N": str(s)},
                "odd": {"BOOL": s % 2 == 1},
            }
            if s % 3 == 0:
                item |= {GSI1_PARTITION_KEY: {"S": f"G#{p % 2}"}, GSI1_SORT_KEY: {"S": f"{s:03d}#{p}"}}
            ddb.put_item(TableName=table, Item=item)


QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P#2"}}},
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P#404"}}},
    {
        "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
        "ExpressionAttributeValues": {":p": {"S": "P#3"}, ":s": {"S": "S#01"}},
    },
    {
        "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
        "ExpressionAttributeValues": {":p": {"S": "P#1"}, ":a": {"S": "S#005"}, ":b": {"S": "S#017"}},
        "ScanIndexForward": False,
        "Limit": 4,
    },
    {
        "KeyConditionExpression": "pk = :p",
        "FilterExpression": "odd = :t",
        "ExpressionAttributeValues": {":p": {"S": "P#4"}, ":t": {"BOOL": True}},
        "Limit": 7,
    },
    {
        "IndexName": GSI1_NAME,
        "KeyConditionExpression": f"{GSI1_PARTITION_KEY} = :g",
        "ExpressionAttributeValues": {":g": {"S": "G#1"}},
    },
    {
        "IndexName": GSI1_NAME,
        "KeyConditionExpression": f"{GSI1_PARTITION_KEY} = :g AND {GSI1_SORT_KEY} > :s",
        "ExpressionAttributeValues": {":g": {"S": "G#0"}, ":s": {"S": "006"}},
        "ScanIndexForward": False,
        "Limit": 3,
    },
]


def _answers(ddb: Any, table: str) -> list[list[dict[str, Any]]]:
    """Every query's items, page by page (cursors included)."""
    answers = []
    for query in QUERIES:
        pages, start = [], None
        while True:
            page = ddb.query(TableName=table, **query, **({"ExclusiveStartKey": start} if start else {}))
            pages.append({"Items": page["Items"], "LastEvaluatedKey": page.get("LastEvaluatedKey")})
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        answers.append(pages)
    return answers


def test_queries_answer_the_same_with_the_speed_ups(resources: LocalResources, patchable: None) -> None:
    ddb = boto3.client("dynamodb")
    _fill(ddb, resources.table_name)
    before = _answers(ddb, resources.table_name)

    assert moto_server.apply() is True

    assert _answers(ddb, resources.table_name) == before
    assert sum(len(page["Items"]) for page in before[0]) == 25  # the queries do return items


def test_the_module_list_is_made_once_and_is_moto_s(patchable: None) -> None:
    original = list(backends.list_of_moto_modules())
    moto_server.apply()

    assert list(backends.list_of_moto_modules()) == original
    assert backends.list_of_moto_modules() is backends.list_of_moto_modules()
    assert "dynamodb" in original


def test_moto_runs_unpatched_when_its_internals_have_moved(
    patchable: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def query(self: Any, key: Any) -> None:  # a signature these patches do not know
        return None

    monkeypatch.setattr(Table, "query", query)

    assert moto_server.apply() is False
    assert Table.query is query


def test_queries_read_no_sorted_copy_of_the_whole_table(
    resources: LocalResources, patchable: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ddb = boto3.client("dynamodb")
    _fill(ddb, resources.table_name)
    whole_table_reads = []
    every_item = Table.all_items
    monkeypatch.setattr(Table, "all_items", lambda self: whole_table_reads.append(1) or every_item(self))
    moto_server.apply()

    for query in QUERIES:
        ddb.query(TableName=resources.table_name, **query)

    assert whole_table_reads == []
    ddb.scan(TableName=resources.table_name)  # anything else: moto's own way
    assert whole_table_reads != []


def test_a_message_is_kept_for_its_queue_s_retention_period_as_moto_keeps_it(
    resources: LocalResources, patchable: None
) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="retained", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="m")
    backend = sqs_backends["123456789012"]["us-east-1"]
    (message,) = backend.get_queue("retained")._messages
    valid = backend.is_message_valid_based_on_retention_period
    answers = []
    for age in (0, 59, 61, 3600):  # seconds since it was sent
        message.sent_timestamp = int((time.time() - age) * 1000)
        answers.append(valid("retained", message))

    moto_server.apply()

    patched = []
    for age in (0, 59, 61, 3600):
        message.sent_timestamp = int((time.time() - age) * 1000)
        patched.append(backend.is_message_valid_based_on_retention_period("retained", message))
    assert patched == answers == [True, True, False, False]


def test_a_send_counts_no_message_of_its_queue(resources: LocalResources, patchable: None) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="counted")["QueueUrl"]
    counted: list[int] = []
    count = Queue.approximate_number_of_messages.fget
    assert count is not None

    def counting(self: Queue) -> int:
        counted.append(1)
        return int(count(self))

    Queue.approximate_number_of_messages = property(counting)  # type: ignore[assignment,method-assign]
    moto_server.apply()

    sqs.send_message(QueueUrl=url, MessageBody="one")
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)])

    assert counted == []
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "4"  # read, it counts as moto does
    assert counted != []


def test_a_fifo_queue_still_drops_a_content_based_duplicate(
    resources: LocalResources, patchable: None
) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(
        QueueName="dedup.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    moto_server.apply()

    for _ in range(2):
        sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "other", "MessageGroupId": "g"}])
    with pytest.raises(sqs.exceptions.ClientError, match="MessageGroupId"):
        sqs.send_message(QueueUrl=url, MessageBody="no group")

    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in received] == ["same", "other"]


# --- the kept-alive HTTP server (herald.dev.local.moto_http) -------------------------------------------
@contextmanager
def serving(app: Any) -> Iterator[tuple[str, list[int]]]:
    """`app` on a KeepAliveServer in a thread; yields its URL and a list that grows by one per
    connection accepted."""
    connections: list[int] = []

    class Counted(KeepAliveServer):
        def process_request(self, request: Any, client_address: Any) -> None:
            connections.append(1)
            super().process_request(request, client_address)

    server = Counted(("127.0.0.1", 0), app)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", connections
    finally:
        server.shutdown()
        server.server_close()


def _echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Connection", "close")])
    return [environ["REQUEST_METHOD"].encode(), b" ", body]


def _failing(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    raise RuntimeError("the app broke")


def test_aws_calls_on_one_client_share_one_connection() -> None:
    with serving(DomainDispatcherApplication(create_backend_app)) as (url, connections):
        ddb = boto3.client("dynamodb", endpoint_url=url)
        ddb.create_table(
            TableName="kept",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for n in range(20):
            ddb.put_item(TableName="kept", Item={"pk": {"S": str(n)}})
        with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
            ddb.put_item(
                TableName="kept", Item={"pk": {"S": "1"}}, ConditionExpression="attribute_not_exists(pk)"
            )
        assert ddb.scan(TableName="kept")["Count"] == 20

    assert len(connections) == 1


def test_a_chunked_body_is_read_whole_and_the_connection_goes_on() -> None:
    with serving(_echo) as (url, connections):
        conn = http.client.HTTPConnection(url.removeprefix("http://"))
        conn.request("POST", "/", body=iter([b"he", b"llo"]), encode_chunked=True)
        first = conn.getresponse()
        assert (first.status, first.read()) == (200, b"POST hello")
        assert first.getheader("Connection") is None  # the app's "close" is the server's to say
        conn.request("PUT", "/", body=b"again")
        second = conn.getresponse()
        assert (second.status, second.read()) == (200, b"PUT again")

    assert len(connections) == 1


def test_a_head_answer_has_no_body_and_the_connection_goes_on() -> None:
    with serving(_echo) as (url, connections):
        conn = http.client.HTTPConnection(url.removeprefix("http://"))
        conn.request("HEAD", "/")
        head = conn.getresponse()
        assert (head.status, head.read()) == (200, b"")
        conn.request("POST", "/", body=b"x")
        assert conn.getresponse().read() == b"POST x"

    assert len(connections) == 1


@pytest.mark.parametrize("content_length", ["ten", "-1", "1e3"])
def test_a_content_length_that_is_no_byte_count_is_refused_and_the_connection_closed(
    content_length: str,
) -> None:
    with serving(_echo) as (url, _), socket.create_connection(url.removeprefix("http://").split(":")) as sock:  # type: ignore[arg-type]
        sock.sendall(f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {content_length}\r\n\r\n".encode())
        answer = _read_until_closed(sock)

    assert answer.startswith(b"HTTP/1.1 400")


def test_an_app_that_fails_answers_500_and_closes_the_connection() -> None:
    with (
        serving(_failing) as (url, _),
        socket.create_connection(url.removeprefix("http://").split(":")) as sock,
    ):  # type: ignore[arg-type]
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = _read_until_closed(sock)

    assert answer.startswith(b"HTTP/1.1 500")
    assert b"Connection: close" in answer


def _read_until_closed(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_a_client_whose_idle_connection_the_server_closed_opens_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(KeepAliveHandler, "timeout", 0.5)
    with serving(DomainDispatcherApplication(create_backend_app)) as (url, connections):
        sqs = boto3.client("sqs", endpoint_url=url)
        queue = sqs.create_queue(QueueName="idle")["QueueUrl"]
        time.sleep(1.5)  # the server has closed the pooled connection by now

        sqs.send_message(QueueUrl=queue, MessageBody="after the pause")

        assert [m["Body"] for m in sqs.receive_message(QueueUrl=queue)["Messages"]] == ["after the pause"]
    assert len(connections) >= 2  # (more if a loaded machine paused past the timeout again)
