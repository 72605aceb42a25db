"""The two SDK examples in examples/, run unchanged as real processes talking HTTP on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

from cefmt.http import CloudEvent, to_binary

from .conftest import REPO


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def receiver() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(REPO / "examples" / "sdk_receiver.py"), str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError("the example receiver did not start")
    yield url, process
    process.terminate()
    process.wait(timeout=10)


def test_sender_to_receiver_over_http(receiver: tuple[str, subprocess.Popen[str]]) -> None:
    url, process = receiver
    sent = subprocess.run(
        [sys.executable, str(REPO / "examples" / "sdk_sender.py"), url],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sent.returncode == 0, sent.stderr
    event_id = sent.stdout.split()[1]
    process.terminate()
    output, _ = process.communicate(timeout=10)
    found = [line for line in output.splitlines() if line.startswith("Found")]
    expected = (
        f"Found {event_id} from https://example.com/event-producer with type com.example.sampletype1 "
        "and specversion 1.0 data {'message': 'Hello World!'}"
    )
    assert found == [expected, expected]  # binary, then structured: the same event both times


def test_receiver_refuses_a_bad_event_without_crashing(receiver: tuple[str, subprocess.Popen[str]]) -> None:
    url, _ = receiver
    bad = requests.post(url, data=b"{}", headers={"content-type": "application/json"}, timeout=10)
    assert bad.status_code == 500  # the SDK example has no error handling; the server survives
    headers, body = to_binary(CloudEvent({"type": "t", "source": "/s"}, b"\x00"))
    assert requests.post(url, data=body, headers=headers, timeout=10).status_code == 204
