"""``cefmt listen`` and ``cefmt send`` talking real HTTP on 127.0.0.1, each a real process."""

from __future__ import annotations

import json
import re
import signal
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cefmt import CloudEvent, encode
from cefmt.stream import read_events

from .conftest import SAMPLE, Listener, run
from .receivers import ACCEPTED, Receiver, reply


def post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.parametrize(
    "mode", [["binary"], ["structured"], ["structured", "--format", "msgpack"], ["batch", "--batch-size", "250"],
             ["batch", "--format", "msgpack"]], ids=" ".join,
)  # fmt: skip
def test_send_to_listen_delivers_every_event(mode: list[str], tmp_path: Path, listeners: list[Listener]) -> None:
    # One request per event in binary and structured modes: a slice of the sample keeps the test quick.
    count = 3000 if mode[0] == "batch" else 600
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"".join(SAMPLE.read_bytes().splitlines(keepends=True)[:count]))
    received = tmp_path / "received.jsonl"
    listener = Listener("--max-events", str(count), "--timeout", "60", "-q", output=received)
    listeners.append(listener)
    sent = run("send", listener.url, str(source), "--mode", *mode)
    assert sent.returncode == 0, sent.stderr
    assert listener.finish() == 0, listener.stderr
    summary = sent.stderr.decode()
    requests = int(re.search(r"events in (\d+) requests", summary).group(1))  # type: ignore[union-attr]
    assert summary.startswith(f"cefmt send: {count} events in {requests} requests: {requests} accepted, 0 rejected")
    if mode[0] == "batch":
        assert requests < 3000 / 50
    else:
        assert requests == count
    assert listener.stderr.decode().strip().endswith(f"{count} events in {requests} requests, 0 rejected")
    original = list(read_events(source, "json"))
    got = list(read_events(received, "json"))
    if mode[0] == "binary":  # headers carry strings: compare what binary mode keeps exactly
        assert [e.id for e in got] == [e.id for e in original]
        assert [e.data for e in got] == [e.data for e in original]
    elif mode[0] == "batch":
        assert sorted(received.read_bytes().splitlines()) == sorted(source.read_bytes().splitlines())
    else:
        assert received.read_bytes() == source.read_bytes()


def test_listen_answers_with_proper_status_codes(listeners: list[Listener]) -> None:
    listener = Listener("--timeout", "60")
    listeners.append(listener)
    event = CloudEvent(id="ok-1", source="/s", type="t", data={"a": 1})
    headers, body = encode(event, "http", "binary")
    assert post(listener.url, headers, body) == (202, '{"accepted": 1}')
    bad = {**headers, "ce-time": "lunchtime"}
    status, reason = post(listener.url, bad, body)
    assert status == 400 and "attribute 'time': is not an RFC 3339 timestamp" in reason
    status, reason = post(listener.url, {"content-type": "application/cloudevents+thrift"}, b"\x00")
    assert status == 415 and "'thrift'" in reason and "json" in reason and "msgpack" in reason
    status, reason = post(listener.url, {"content-type": "text/plain"}, b"hello")
    assert status == 400 and "no ce-specversion header" in reason
    assert post(listener.url, {"content-type": "application/cloudevents-batch+json"}, b"[]")[0] == 204
    headers, body = encode([event.evolve(id="ok-2"), event.evolve(id="ok-3")], "http", "batch", format="msgpack")
    assert post(listener.url, headers, body) == (202, '{"accepted": 2}')
    try:
        urllib.request.urlopen(listener.url, timeout=10)
        raise AssertionError("GET was accepted")
    except urllib.error.HTTPError as exc:
        assert exc.code == 405 and exc.headers["Allow"] == "POST"
    listener.process.send_signal(signal.SIGTERM)
    assert listener.finish() == 0
    assert [json.loads(line)["id"] for line in listener.stdout.splitlines()] == ["ok-1", "ok-2", "ok-3"]
    log = listener.stderr.decode()
    assert "POST / -> 400 header 'ce-time'" in log and "-> 415 " in log and "GET / -> 405" in log
    assert log.strip().endswith("3 events in 7 requests, 4 rejected")


def test_listen_stops_on_sigint_and_after_a_timeout(listeners: list[Listener]) -> None:
    listener = Listener()
    listeners.append(listener)
    listener.process.send_signal(signal.SIGINT)
    assert listener.finish() == 0 and listener.stderr.strip().endswith(b"0 events in 0 requests, 0 rejected")
    timed = Listener("--timeout", "0.5")
    listeners.append(timed)
    assert timed.finish(timeout=15) == 0


def test_send_reports_rejected_requests_and_bad_records(mixed: Path, listeners: list[Listener], tmp_path: Path) -> None:
    listener = Listener("--timeout", "60", "-q")
    listeners.append(listener)
    dead = tmp_path / "dead.jsonl"
    sent = run("send", listener.url, str(mixed), "--dead-letter", str(dead))
    assert sent.returncode == 0, sent.stderr
    assert "7 events in 7 requests: 7 accepted, 0 rejected, 0 failed, 0 retries; 0 skipped, 5 dead-lettered" in (
        sent.stderr.decode()
    )
    assert len(dead.read_text().splitlines()) == 5

    # A receiver that refuses: the events are sent, each refusal is reported by event id and kept in the
    # dead-letter file with the event, the exit status is 1.
    refusing = tmp_path / "refused.jsonl"
    event = '{"specversion":"1.0","id":"%s","source":"/s","type":"t","data":"x"}\n'
    refusing.write_text(event % "r1" + event % "fine" + event % "r2")
    refused_dead = tmp_path / "refused-dead.jsonl"
    no = reply(415, b"no installed codec reads the event format 'avro'")
    with Receiver([no, ACCEPTED, no]) as receiver:
        sent = run("send", receiver.url, str(refusing), "--mode", "binary", "--dead-letter", str(refused_dead))
    assert sent.returncode == 1
    err = sent.stderr.decode()
    assert "event 'r1': refused: HTTP 415: no installed codec reads the event format 'avro'" in err
    assert "3 events in 3 requests: 1 accepted, 2 rejected, 0 failed, 0 retries" in err
    assert f"not delivered (in {refused_dead}): 2 events: 'r1', 'r2'" in err
    records = [json.loads(line) for line in refused_dead.read_text().splitlines()]
    assert [(r["stage"], r["error_type"], json.loads(r["record"])["id"]) for r in records] == [
        ("send", "DeliveryError", "r1"),
        ("send", "DeliveryError", "r2"),
    ]
    assert records[0]["position"] == {"record": 1} and "HTTP 415" in records[0]["error"]
    # An event binary mode cannot carry (its data type claims to be a CloudEvents format, so a receiver
    # would read the body as the event) is refused before anything is sent.
    avro = tmp_path / "avro.jsonl"
    avro.write_text(
        '{"specversion":"1.0","id":"a1","source":"/s","type":"t","data":"x","datacontenttype":"application/cloudevents+avro"}\n'
    )
    sent = run("send", listener.url, str(avro), "--mode", "binary")
    assert sent.returncode == 1
    assert "binary mode: datacontenttype 'application/cloudevents+avro' is a CloudEvents format" in sent.stderr.decode()
    listener.process.send_signal(signal.SIGTERM)
    assert listener.finish() == 0


def test_send_usage_and_connection_errors() -> None:
    assert run("send", "file:///etc/passwd", str(SAMPLE)).returncode == 2
    assert run("send", "http://127.0.0.1:1/", str(SAMPLE), "--mode", "bogus").returncode == 2
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    result = run("send", f"http://127.0.0.1:{port}/", str(SAMPLE), "--retries", "1")
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert (
        f"event '{_first_id()}': not delivered: cannot reach http://127.0.0.1:{port}/: Connection refused (after 1 retry)"
        in err
    )
    assert "1 events in 1 requests: 0 accepted, 0 rejected, 1 failed, 1 retry" in err
    assert "stopped: " in err and "Traceback" not in err


def _first_id() -> str:
    return str(json.loads(SAMPLE.read_bytes().splitlines()[0])["id"])
