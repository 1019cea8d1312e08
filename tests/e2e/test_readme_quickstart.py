"""The README's quickstart works when pasted, twice in a row into one `herald dev`, as written.

The blocks are extracted from README.md's own text, never copied: the only changes are the
receiver's port (9000 may be taken on a shared machine) and `source .venv/bin/activate` (the
test's interpreter's directory is put first on PATH instead). `herald dev` runs as `make run`
starts it, in a directory of its own, on free ports (not 8000): the quickstart finds it the way the
README says, through `.herald/dev-url` and `.herald/dev-api-key`, as it would after
`HERALD_PORT=… make run`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Herald, launched_herald
from tests.support.processes import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
README = Path(__file__).resolve().parents[2] / "README.md"


def readme() -> str:
    return README.read_text()


def sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", readme(), flags=re.S)


def quickstart_script() -> str:
    [script] = [b for b in sh_blocks() if b.startswith("source .venv/bin/activate")]
    return script


def retry_tip() -> tuple[str, str]:
    """The retry tip's schedule (`HERALD_RETRY_SCHEDULE=… make run`) and receiver flag."""
    tip = readme()[readme().index("To see retries") :]
    tip = tip[: tip.index("\n\n")]
    schedule = re.search(r"`HERALD_RETRY_SCHEDULE=([0-9,]+) make run`", tip)
    flag = re.search(r"`(--fail-first \d+)` added to step 2's `herald receive`", tip)
    assert schedule and flag, tip
    return schedule.group(1), flag.group(1)


def paste(herald: Herald, script: str, receiver_port: int) -> subprocess.CompletedProcess[str]:
    pasted = script.replace("source .venv/bin/activate", "true").replace("9000", str(receiver_port))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HERALD_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        ["bash", "-c", pasted], cwd=herald.workdir, env=env, capture_output=True, text=True, timeout=120
    )


def printed_objects(stdout: str) -> list[dict[str, Any]]:
    """Every JSON object the paste printed (answers, the receiver's deliveries, step 5's event)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while (start := stdout.find("{", at)) != -1:
        try:
            value, end = decoder.raw_decode(stdout, start)
        except ValueError:
            at = start + 1
            continue
        found.append(value)
        at = end
    return found


def shown_event(stdout: str) -> dict[str, Any]:
    [event] = [o for o in printed_objects(stdout) if "notifications" in o]
    return event


def accepted_answer(stdout: str) -> dict[str, Any]:
    [answer] = [o for o in printed_objects(stdout) if "created" in o]
    return answer


def deliveries(stdout: str) -> list[dict[str, Any]]:
    return [o for o in printed_objects(stdout) if "correlationId" in o and "$uri" not in o]


def assert_cleaned_up(herald: Herald, stdout: str) -> None:
    [subscription] = [o for o in printed_objects(stdout) if "notificationChannelId" in o]
    assert f"deleted subscription {subscription['id']}" in stdout
    assert f"deleted channel {subscription['notificationChannelId']}" in stdout
    assert herald.call("GET", f"/api/projects/demo/notificationSubscriptions/{subscription['id']}")[0] == 404
    assert herald.call("GET", f"/api/notificationChannels/{subscription['notificationChannelId']}")[0] == 404
    _, left = herald.call("GET", "/api/projects/demo/notificationSubscriptions")
    assert left["items"] == []


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Herald]:
    """`herald dev` as `make run` starts it: the default retry schedule."""
    with launched_herald(tmp_path_factory.mktemp("quickstart"), retry_schedule=None) as herald:
        yield herald


@pytest.fixture(scope="module")
def make_run_for_retries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Herald]:
    """`HERALD_RETRY_SCHEDULE=… make run`, as the retry tip starts it."""
    schedule, _ = retry_tip()
    with launched_herald(
        tmp_path_factory.mktemp("quickstart-retries"),
        retry_schedule=None,
        extra_env={"HERALD_RETRY_SCHEDULE": schedule},
    ) as herald:
        yield herald


def test_the_quickstart_pasted_twice_delivers_twice_and_leaves_the_server_clean(make_run: Herald) -> None:
    port = free_port()
    shown = []
    for paste_number in (1, 2):
        result = paste(make_run, quickstart_script(), port)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        out = result.stdout

        answer = accepted_answer(out)
        assert (answer["created"], answer["duplicateOf"]) == (True, None), paste_number
        [delivery] = deliveries(out)
        assert "signature: valid (standard-webhooks, onecodex)" in out
        assert (delivery["eventCode"], delivery["payloadVersion"]) == ("ICA_EXEC_002", "V4")
        event = shown_event(out)
        assert event["id"] == answer["id"]
        assert event["status"] == "success"
        [notification] = event["notifications"]
        assert [a["httpStatus"] for a in notification["attempts"]] == [200]
        assert delivery["payload"]["id"] == event["payload"]["id"]
        assert_cleaned_up(make_run, out)
        shown.append(event)

    first, second = shown
    assert second["id"] != first["id"]  # step 5 shows the second paste's own event
    assert second["payload"]["id"] != first["payload"]["id"]


def test_the_retry_tip_shows_three_attempts_on_every_paste(make_run_for_retries: Herald) -> None:
    _, flag = retry_tip()
    receive = 'herald receive --port 9000 --secret "$SECRET"'
    script = quickstart_script()
    assert receive in script
    script = script.replace(receive, f"{receive} {flag}")
    port = free_port()
    for paste_number in (1, 2):
        result = paste(make_run_for_retries, script, port)
        assert result.returncode == 0, result.stderr
        out = result.stdout
        event = shown_event(out)
        assert event["status"] == "success", paste_number
        [notification] = event["notifications"]
        assert [a["httpStatus"] for a in notification["attempts"]] == [500, 500, 200], paste_number
        assert len(deliveries(out)) == 3
        assert_cleaned_up(make_run_for_retries, out)


def aws_block() -> str:
    [block] = [b for b in sh_blocks() if b.startswith("export AWS_ENDPOINT_URL=")]
    return block


def test_the_aws_endpoint_block_creates_the_queue_with_boto3_and_reads_it_with_the_aws_cli(
    make_run: Herald, tmp_path: Path
) -> None:
    block = aws_block().replace("http://127.0.0.1:5000", make_run.aws_endpoint)
    aws_lines = [line for line in block.splitlines() if line.startswith("aws ")]
    assert aws_lines and all(
        line.startswith(f"aws --endpoint-url {make_run.aws_endpoint} ") for line in aws_lines
    )
    if shutil.which("aws") is None:  # not a project dependency; checked by hand with AWS CLI v1 and v2
        block = "\n".join(line for line in block.splitlines() if not line.startswith("aws "))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    script = block + '\necho "QUEUE_URL=$QUEUE_URL"\n'
    result = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    queue_url = result.stdout.strip().splitlines()[-1].removeprefix("QUEUE_URL=")
    assert queue_url.endswith("/my-target")
    assert make_run.boto3("sqs").get_queue_url(QueueName="my-target")["QueueUrl"] == queue_url


def test_the_filter_check_command_exits_as_its_comment_says(tmp_path: Path) -> None:
    [line] = [
        line for block in sh_blocks() for line in block.splitlines() if line.startswith("herald filter check")
    ]
    command, comment = line.split("#", 1)
    assert comment.strip() == "exit 0 match, 1 no match, 2 invalid"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    def run(payload: dict[str, Any], cmd: str = command) -> int:
        (tmp_path / "payload.json").write_text(json.dumps(payload))
        return subprocess.run(
            ["bash", "-c", cmd], cwd=tmp_path, env=env, capture_output=True, timeout=60
        ).returncode

    assert run({"status": "SUCCEEDED"}) == 0
    assert run({"status": "FAILED"}) == 1
    assert run({"status": "SUCCEEDED"}, command.replace("')]", "']")) == 2  # an unclosed filter
