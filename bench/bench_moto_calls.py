"""What one AWS call costs on `herald dev`'s moto server: CPU in the server and in the boto3 client.

Run: ``python bench/bench_moto_calls.py [calls]`` (default 1,000 per operation, ~1 minute).
Starts `herald dev`'s moto server (herald.dev.local.moto_server: moto with Herald's speed-ups, on
kept-alive connections) and moto's own server, each on a free port on 127.0.0.1, and times the
operations Herald's hot path makes, one client, one call at a time. The server's CPU comes from
/proc (Linux), the client's from `time.process_time`.

These figures bound `herald dev`'s end-to-end rate whatever Herald does between calls: moto answers
in one Python process (one core at most), so at C ms of server CPU per call and N calls per event
it cannot pass 1000 / (C x N) events per second.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import boto3
from _common import ROOT, cpu_seconds, free_port, machine, table, wait_for_port

OPERATIONS: list[tuple[str, Callable[[Any, Any, str, int], Any]]] = [
    ("SQS GetQueueUrl (the cheapest call)", lambda ddb, sqs, url, i: sqs.get_queue_url(QueueName="q")),
    (
        "DynamoDB PutItem, 1 KB item",
        lambda ddb, sqs, url, i: ddb.put_item(
            TableName="t", Item={"pk": {"S": str(i)}, "v": {"S": "x" * 1000}}
        ),
    ),
    (
        "DynamoDB UpdateItem, SET + ADD, conditional",
        lambda ddb, sqs, url, i: ddb.update_item(
            TableName="t",
            Key={"pk": {"S": str(i)}},
            UpdateExpression="SET a = :a ADD b :one",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":a": {"S": "y"}, ":one": {"N": "1"}},
        ),
    ),
    (
        "DynamoDB BatchGetItem, 3 keys",
        lambda ddb, sqs, url, i: ddb.batch_get_item(
            RequestItems={"t": {"Keys": [{"pk": {"S": str(i - k)}} for k in range(3)]}}
        ),
    ),
    (
        "SQS SendMessageBatch, 1 message",
        lambda ddb, sqs, url, i: sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "x" * 500}]
        ),
    ),
]


def measure(command: list[str], calls: int) -> list[tuple[float, float, float]]:
    port = free_port()
    env_path = f"{ROOT / 'functions'}:{ROOT}"
    proc = subprocess.Popen(
        [*command, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": env_path},
    )
    try:
        wait_for_port(port)
        kw: dict[str, Any] = {
            "endpoint_url": f"http://127.0.0.1:{port}",
            "region_name": "us-east-1",
            "aws_access_key_id": "bench",
            "aws_secret_access_key": "bench",
        }
        ddb, sqs = boto3.client("dynamodb", **kw), boto3.client("sqs", **kw)
        ddb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        rows = []
        for _, operation in OPERATIONS:
            for i in range(20):  # warm up: imports, connection
                operation(ddb, sqs, url, i)
            server, client, wall = cpu_seconds(proc.pid), time.process_time(), time.perf_counter()
            for i in range(calls):
                operation(ddb, sqs, url, i)
            rows.append(
                (
                    (cpu_seconds(proc.pid) - server) * 1000 / calls,
                    (time.process_time() - client) * 1000 / calls,
                    (time.perf_counter() - wall) * 1000 / calls,
                )
            )
        return rows
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("calls", nargs="?", type=int, default=1000, help="calls per operation")
    args = parser.parse_args()
    print(
        f"One AWS call on the moto server ({machine()}), {time.strftime('%Y-%m-%d')}, {args.calls} calls each\n"
    )
    herald = measure([sys.executable, "-m", "herald.dev.local.moto_server"], args.calls)
    moto = measure([sys.executable, "-m", "moto.server"], args.calls)
    rows = [
        [name, f"{h[0]:.2f}", f"{h[1]:.2f}", f"{h[2]:.2f}", f"{m[0]:.2f}", f"{m[1]:.2f}", f"{m[2]:.2f}"]
        for (name, _), h, m in zip(OPERATIONS, herald, moto, strict=True)
    ]
    print(
        table(
            [
                "operation",
                "server CPU ms",
                "client CPU ms",
                "wall ms",
                "moto's own: server",
                "client",
                "wall",
            ],
            rows,
            "lrrrrrr",
        )
    )
    print(
        "\n   herald dev's server: moto with Herald's speed-ups on kept-alive connections; moto's own: "
        "`python -m moto.server` (werkzeug, a connection per call). One client, one call at a time."
    )


if __name__ == "__main__":
    main()
