"""``cefmt send`` against receivers that reset, stall, trickle, talk garbage or refuse: retries, deadlines,
clear messages, and every event not delivered named by id and kept in the dead-letter file."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from cefmt.cli import main

from .conftest import cefmt_script, run
from .receivers import ACCEPTED, TLS_CERTIFICATE, Receiver, hang_up, reply, reset, trickle


def events_file(tmp_path: Path, *ids: str) -> Path:
    path = tmp_path / "events.jsonl"
    lines = [
        json.dumps({"specversion": "1.0", "id": id_, "source": "/s", "type": "t", "data": {"n": 1}}) for id_ in ids
    ]
    path.write_text("".join(line + "\n" for line in lines))
    return path


def dead_letters(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_reset_and_a_503_are_retried_and_retry_after_is_honoured(tmp_path: Path) -> None:
    source = events_file(tmp_path, "a1", "a2")
    with Receiver([reset, reply(503, b"busy", "Retry-After: 1")]) as receiver:
        sent = run("send", receiver.url, str(source), "--retries", "3")
    err = sent.stderr.decode()
    assert sent.returncode == 0, err
    assert "2 events in 2 requests: 2 accepted, 0 rejected, 0 failed, 2 retries" in err
    # a1 was read three times (the reset, the 503, the 202), a2 once: the run went on after the failures
    assert [r.header("ce-id") for r in receiver.requests] == ["a1", "a1", "a1", "a2"]
    waited = receiver.requests[2].at - receiver.requests[1].at
    assert waited >= 0.9, f"Retry-After: 1 was not honoured: the retry came {waited:.2f} s after the 503"


def test_a_reset_without_retries_ends_with_a_summary_and_keeps_every_unsent_event(tmp_path: Path) -> None:
    source = events_file(tmp_path, "b1", "b2", "b3")
    dead = tmp_path / "dead.jsonl"
    with Receiver([ACCEPTED, reset]) as receiver:
        sent = run("send", receiver.url, str(source), "--retries", "0", "--dead-letter", str(dead))
    err = sent.stderr.decode()
    assert sent.returncode == 1, err
    assert "Traceback" not in err
    assert "event 'b2': not delivered: " in err
    assert "3 events in 2 requests: 1 accepted, 0 rejected, 1 failed, 0 retries" not in err  # b3 was never sent
    assert "2 events in 2 requests: 1 accepted, 0 rejected, 1 failed, 0 retries; 0 skipped, 2 dead-lettered" in err
    assert f"not delivered (in {dead}): 2 events: 'b2', 'b3'" in err
    assert "stopped: " in err and "the 1 events after it were not sent" in err
    records = dead_letters(dead)
    assert [json.loads(str(r["record"]))["id"] for r in records] == ["b2", "b3"]
    assert {r["stage"] for r in records} == {"send"} and {r["error_type"] for r in records} == {"DeliveryError"}
    assert "not sent" in str(records[1]["error"])


def test_a_trickling_receiver_cannot_hold_the_run_past_its_deadline(tmp_path: Path) -> None:
    # One byte every half second: every recv succeeds, so only a deadline for the whole exchange ends it.
    # The bound on the subprocess is what fails without one (the answer would take 50 s, twice).
    source = events_file(tmp_path, "c1")
    slow = trickle(reply(202, b"x" * 100), 0.5)
    with Receiver([slow, slow]) as receiver:
        sent = run("send", receiver.url, str(source), "--timeout", "1", "--retries", "1", timeout=20)
    err = sent.stderr.decode()
    assert sent.returncode == 1, err
    assert "event 'c1': not delivered: no complete answer within 1 s (--timeout) (after 1 retry)" in err
    assert len(receiver.requests) == 2


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (b"garbage\r\n\r\n", 'is not HTTP (it began with "garbage")'),
        (b"HTTP/1.1 202 Accepted\r\nContent-Length: 100\r\n\r\nshort", "was cut short"),
        (hang_up, "closed the connection without answering"),
    ],
    ids=["garbage", "short", "hang-up"],
)
def test_bad_answers_are_clear_messages_not_tracebacks(tmp_path: Path, answer: object, message: str) -> None:
    source = events_file(tmp_path, "d1")

    def answer_and_close(sock: socket.socket) -> None:
        if callable(answer):
            answer(sock)
        else:
            sock.sendall(answer)  # type: ignore[arg-type]
            sock.close()

    with Receiver([answer_and_close] * 3) as receiver:
        sent = run("send", receiver.url, str(source), "--retries", "1")
    err = sent.stderr.decode()
    assert sent.returncode == 1, err
    assert "Traceback" not in err and "BadStatusLine" not in err and "IncompleteRead" not in err
    assert "event 'd1': not delivered: " in err and message in err
    assert "1 events in 1 requests: 0 accepted, 0 rejected, 1 failed" in err


def test_5xx_is_retried_then_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    source = events_file(tmp_path, "e1", "e2")
    failing = reply(500, b"database down")
    with Receiver([failing, failing, failing]) as receiver:
        sent = run("send", receiver.url, str(source), "--retries", "2")
    err = sent.stderr.decode()
    assert sent.returncode == 1, err
    assert "event 'e1': refused: HTTP 500: database down (after 2 retries)" in err
    assert "2 events in 2 requests: 1 accepted, 1 rejected, 0 failed, 2 retries" in err
    assert "not delivered: 1 events: 'e1'" in err
    assert len(receiver.requests) == 4


def test_4xx_and_501_are_not_retried(tmp_path: Path) -> None:
    source = events_file(tmp_path, "f1", "f2")
    with Receiver([reply(400, b"no"), reply(501, b"no POST here")]) as receiver:
        sent = run("send", receiver.url, str(source), "--retries", "3")
    err = sent.stderr.decode()
    assert sent.returncode == 1, err
    assert len(receiver.requests) == 2
    assert "event 'f1': refused: HTTP 400: no\n" in err and "event 'f2': refused: HTTP 501: no POST here\n" in err


def test_a_refusal_shows_a_short_escaped_excerpt_of_a_long_html_page(tmp_path: Path) -> None:
    page = (
        b"<!DOCTYPE html>\n<html><head><title>Error</title><style>body { color: red }</style></head>\n<body>\n"
        b"<h1>Error response</h1>\n<p>Error code: 501 \x1b[31m&amp; more</p>\n"
        + b"<p>filler line</p>\n" * 39_000
        + b"</body></html>\n"
    )
    source = events_file(tmp_path, "g1")
    with Receiver([reply(501, page, "Content-Type: text/html")]) as receiver:
        sent = run("send", receiver.url, str(source))
    err = sent.stderr.decode()
    assert sent.returncode == 1
    line = next(line for line in err.splitlines() if "event 'g1'" in line)
    assert line.startswith(
        "cefmt send: event 'g1': refused: HTTP 501: Error Error response Error code: 501 \\x1b[31m& more"
    )
    assert len(line) < 300 and "<" not in line and "color: red" not in line
    assert len(err.splitlines()) <= 3 and "\x1b" not in err


def test_headers_go_with_every_request(tmp_path: Path) -> None:
    source = events_file(tmp_path, "h1", "h2")
    with Receiver() as receiver:
        sent = run(
            "send", receiver.url, str(source), "--mode", "structured",
            "--header", "Authorization=Bearer token=1", "--header", "X-Trace: 7", "--header", "X-Trace=8",
        )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    for request in receiver.requests:
        assert request.header("Authorization") == "Bearer token=1"
        assert request.head.count(b"X-Trace: ") == 2
        assert str(request.header("Content-Type")).startswith("application/cloudevents+json")
        assert str(request.header("User-Agent")).startswith("cefmt/")
    assert [json.loads(r.body)["id"] for r in receiver.requests] == ["h1", "h2"]


def test_batches_that_fail_are_reported_by_their_events(tmp_path: Path) -> None:
    source = events_file(tmp_path, *[f"k{n}" for n in range(5)])
    dead = tmp_path / "dead.jsonl"
    with Receiver([reply(422, b"not today")]) as receiver:
        sent = run(
            "send", receiver.url, str(source), "--mode", "batch", "--batch-size", "3", "--dead-letter", str(dead)
        )
    err = sent.stderr.decode()
    assert sent.returncode == 1
    assert "batch of 3 events ('k0' to 'k2'): refused: HTTP 422: not today" in err
    assert "5 events in 2 requests: 1 accepted, 1 rejected" in err
    assert [json.loads(str(r["record"]))["id"] for r in dead_letters(dead)] == ["k0", "k1", "k2"]
    assert [r["position"] for r in dead_letters(dead)] == [{"record": 1}, {"record": 2}, {"record": 3}]


@pytest.mark.parametrize(
    "options",
    [
        ["--retries", "-1"], ["--retries", "x"], ["--timeout", "0"], ["--timeout", "-2"], ["--timeout", "inf"],
        ["--timeout", "nan"], ["--batch-size", "0"], ["--max-record-size", "0"], ["--max-record-size", "-5"],
        ["--header", "novalue"], ["--header", "Bad Name=1"], ["--header", "X-A=1\r\nHost: evil"],
        ["--header", "Content-Type=text/plain"], ["--header", "ce-id=1"], ["--header", "X-A=é"],
    ],
    ids=" ".join,
)  # fmt: skip
def test_bad_numbers_and_headers_are_usage_errors(options: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["send", "http://127.0.0.1:9/", "events.jsonl", *options])
    assert exit_.value.code == 2
    assert "error: argument" in capsys.readouterr().err


@pytest.mark.parametrize(
    "url", ["ftp://host/", "http:///path", "http://host:99999/", "http://host/a b", "http://host/\x1b", "http://hóst/"]
)
def test_bad_urls_are_usage_errors(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["send", url, "events.jsonl"])
    assert exit_.value.code == 2


def test_closed_standard_streams_are_clear_errors(tmp_path: Path) -> None:
    source = events_file(tmp_path, "s1")
    with Receiver() as receiver:
        # stdout closed: send does not need it
        closed_out = subprocess.run(
            [cefmt_script(), "send", receiver.url, str(source)], capture_output=False, stderr=subprocess.PIPE,
            preexec_fn=lambda: os.close(1), timeout=60, check=False,
        )  # fmt: skip
        assert closed_out.returncode == 0, closed_out.stderr
        # stdin closed, and asked to read it
        closed_in = subprocess.run(
            [cefmt_script(), "send", receiver.url, "-"], capture_output=True,
            preexec_fn=lambda: os.close(0), timeout=60, check=False,
        )  # fmt: skip
    err = closed_in.stderr.decode()
    assert closed_in.returncode == 1 and "Traceback" not in err
    assert "cefmt send: the standard input is closed" in err
    assert len(receiver.requests) == 1


def test_a_bad_record_under_fail_stops_with_the_error_and_a_summary(mixed: Path) -> None:
    with Receiver() as receiver:
        sent = run("send", receiver.url, str(mixed))
    err = sent.stderr.decode()
    assert sent.returncode == 1
    assert "cefmt send: record 6 (line 6, byte " in err and "attribute 'time'" in err
    assert "5 events in 5 requests: 5 accepted, 0 rejected, 0 failed, 0 retries" in err
    assert len(receiver.requests) == 5


def test_an_http_proxy_from_the_environment_is_used(tmp_path: Path) -> None:
    source = events_file(tmp_path, "p1")
    with Receiver() as proxy:
        address = proxy.url.removeprefix("http://").removesuffix("/events")
        sent = run(
            "send", "http://receiver.invalid:8080/in?x=1", str(source),
            env={"http_proxy": f"http://user:p%40ss@{address}", "no_proxy": "", "NO_PROXY": ""},
        )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    [request] = proxy.requests
    assert request.head.startswith(b"POST http://receiver.invalid:8080/in?x=1 HTTP/1.1\r\n")
    assert request.header("Host") == "receiver.invalid:8080"
    assert request.header("Proxy-Authorization") == "Basic dXNlcjpwQHNz"  # user:p@ss


def test_https_is_verified_and_its_answers_have_the_same_deadline(tmp_path: Path) -> None:
    source = events_file(tmp_path, "t1", "t2")
    with Receiver(tls=True) as receiver:
        untrusted = run("send", receiver.url, str(source), "--retries", "3")
        trusted = run("send", receiver.url, str(source), env={"SSL_CERT_FILE": str(TLS_CERTIFICATE)})
    err = untrusted.stderr.decode()
    assert untrusted.returncode == 1 and "its TLS certificate is not trusted: self-signed certificate" in err
    assert "0 retries" in err and "Traceback" not in err  # a certificate does not change on a retry
    assert trusted.returncode == 0, trusted.stderr
    assert [r.header("ce-id") for r in receiver.requests] == ["t1", "t2"]
    slow = trickle(reply(202, b"x" * 100), 0.5)
    with Receiver([slow, slow], tls=True) as receiver:
        sent = run(
            "send", receiver.url, str(source), "--timeout", "1", "--retries", "1",
            env={"SSL_CERT_FILE": str(TLS_CERTIFICATE)}, timeout=20,
        )  # fmt: skip
    assert sent.returncode == 1
    assert (
        "event 't1': not delivered: no complete answer within 1 s (--timeout) (after 1 retry)" in sent.stderr.decode()
    )


def test_a_timeout_is_not_blamed_for_the_next_failure() -> None:
    from cefmt.cli._client import Connection, TransportError

    with Receiver([trickle(reply(202, b"x" * 50), 0.3)]) as receiver:
        connection = Connection(receiver.url, timeout=0.5)
        with pytest.raises(TransportError, match=r"no complete answer within 0\.5 s"):
            connection.exchange({}, b"")
    try:
        with pytest.raises(TransportError, match="Connection refused") as refused:
            connection.exchange({}, b"")  # the receiver is gone: the port refuses
        assert refused.value.retryable
    finally:
        connection.close()
