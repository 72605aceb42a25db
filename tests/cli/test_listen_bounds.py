"""``cefmt listen`` against hostile and careless clients, over real sockets: every request it can parse gets
an answer, nothing partial is written, slow and idle clients are timed out, connections are capped."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cefmt import CloudEvent, encode
from cefmt.cli import main

from .conftest import Listener, cefmt_script

EVENT = CloudEvent(id="ok", source="/s", type="t", data={"a": 1})


def address(listener: Listener) -> tuple[str, int]:
    host, port = listener.url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    return host, int(port)


def request(body: bytes, *headers: str, content_length: str | None = None, path: str = "/") -> bytes:
    length = str(len(body)) if content_length is None else content_length
    lines = [f"POST {path} HTTP/1.1", "Host: x", *headers, f"Content-Length: {length}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


def answer_of(sock: socket.socket, timeout: float = 20) -> tuple[int, dict[str, str], bytes]:
    """Read one answer: (status, headers, body); status 0 when the connection ended without one."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return 0, {}, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    size = int(headers.get("content-length", "0"))
    while len(body) < size:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def exchange(listener: Listener, raw: bytes, *, half_close: bool = False) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(address(listener), timeout=20) as sock:
        sock.sendall(raw)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return answer_of(sock)


def binary(event: CloudEvent = EVENT) -> bytes:
    headers, body = encode(event, "http", "binary")
    return request(body, *(f"{name}: {value}" for name, value in headers.items()))


def structured(document: bytes) -> bytes:
    return request(document, "Content-Type: application/cloudevents+json")


@pytest.fixture
def listener(listeners: list[Listener], tmp_path: Path) -> Iterator[Listener]:
    started = Listener("--timeout", "60", output=tmp_path / "out.jsonl")
    listeners.append(started)
    yield started


def stop(listener: Listener) -> int:
    listener.process.send_signal(signal.SIGTERM)
    return listener.finish()


# Binary data: any prefix of the body would decode, as a shorter event.
CUT_HEADERS, CUT_BODY = encode(CloudEvent(id="cut", source="/s", type="t", data=b"0123456789" * 10), "http", "binary")
CUT_REQUEST = request(
    CUT_BODY[:40], *(f"{name}: {value}" for name, value in CUT_HEADERS.items()), content_length=str(len(CUT_BODY))
)


def test_a_body_shorter_than_announced_is_400_and_nothing_is_written(listener: Listener, tmp_path: Path) -> None:
    status, _, reason = exchange(listener, CUT_REQUEST, half_close=True)
    assert status == 400 and f"the body ended after 40 of the {len(CUT_BODY)} bytes".encode() in reason
    assert exchange(listener, binary())[0] == 202
    assert stop(listener) == 0
    assert [json.loads(line)["id"] for line in (tmp_path / "out.jsonl").read_text().splitlines()] == ["ok"]


def test_a_client_that_stalls_is_timed_out_and_nothing_is_written(listeners: list[Listener], tmp_path: Path) -> None:
    listener = Listener("--timeout", "60", "--request-timeout", "1", output=tmp_path / "out.jsonl")
    listeners.append(listener)
    with socket.create_connection(address(listener), timeout=20) as sock:
        sock.sendall(CUT_REQUEST)
        status, answer_headers, reason = answer_of(sock)
    assert status == 408 and answer_headers["connection"] == "close" and b"within 1 s" in reason
    assert stop(listener) == 0
    assert (tmp_path / "out.jsonl").read_bytes() == b""


def test_a_client_trickling_its_request_is_timed_out(listeners: list[Listener], tmp_path: Path) -> None:
    # One byte every 0.2 s: each recv succeeds, so only a deadline for the whole request ends it.
    listener = Listener("--timeout", "60", "--request-timeout", "1", output=tmp_path / "out.jsonl")
    listeners.append(listener)
    raw = binary()
    with socket.create_connection(address(listener), timeout=20) as sock:
        sent = 0
        sock.setblocking(False)
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            while sent < len(raw) and not selector.select(0.2):
                sock.send(raw[sent : sent + 1])
                sent += 1
        sock.setblocking(True)
        status, _, reason = answer_of(sock)
    assert status == 408 and sent < len(raw) and b"did not arrive whole" in reason
    assert stop(listener) == 0
    assert (tmp_path / "out.jsonl").read_bytes() == b""


@pytest.mark.parametrize(
    ("content_length", "expected"),
    [
        ("abc", 400), ("9" * 5000, 413), ("\u00b2", 400), ("\u0661", 400), ("-1", 400), ("1, 1", 400),
        ("99999999999999999999", 413), (" 5 ", 400),
    ],
    ids=["letters", "5000-digits", "superscript", "arabic-digit", "negative", "list", "huge", "spaces-and-short"],
)  # fmt: skip
def test_every_bad_content_length_gets_a_4xx_with_a_reason(
    listener: Listener, content_length: str, expected: int
) -> None:
    status, _, reason = exchange(listener, request(b"x" * 3, content_length=content_length), half_close=True)
    assert status == expected, reason
    assert reason.strip()
    assert stop(listener) == 0
    assert b"Traceback" not in listener.stderr


def test_repeated_content_lengths_and_chunked_bodies_are_refused(listener: Listener) -> None:
    status, _, reason = exchange(listener, request(b"xyz", "Content-Length: 4"), half_close=True)
    assert status == 400 and b"conflicting Content-Length" in reason
    chunked = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"
    status, _, reason = exchange(listener, chunked, half_close=True)
    assert status == 411 and b"Content-Length" in reason
    assert stop(listener) == 0


@pytest.mark.parametrize(
    "data",
    [b"1e400", b'"\\ud800"', b'{"k": "\\udfff"}', b"-1e999"],
    ids=["1e400", "lone-surrogate", "low-surrogate", "-1e999"],
)
def test_values_json_cannot_carry_are_4xx_never_a_dropped_connection(
    listener: Listener, tmp_path: Path, data: bytes
) -> None:
    document = b'{"specversion":"1.0","id":"x","source":"/s","type":"t","data":' + data + b"}"
    status, _, reason = exchange(listener, structured(document))
    assert 400 <= status < 500, (status, reason)
    assert reason.strip() and reason[-1:] == b"\n"
    batch = b"[" + document + b"," + document.replace(b'"x"', b'"y"') + b"]"
    status, _, reason = exchange(listener, request(batch, "Content-Type: application/cloudevents-batch+json"))
    assert 400 <= status < 500, (status, reason)
    assert exchange(listener, binary())[0] == 202
    assert stop(listener) == 0
    assert b"Traceback" not in listener.stderr
    assert [json.loads(line)["id"] for line in (tmp_path / "out.jsonl").read_text().splitlines()] == ["ok"]


def test_a_full_disk_is_507_and_listen_keeps_answering(listeners: list[Listener]) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    listener = Listener("--timeout", "60", output=Path("/dev/full"))
    listeners.append(listener)
    for _ in range(2):
        status, _, reason = exchange(listener, binary())
        assert status == 507 and b"cannot write the events: No space left on device" in reason
    assert exchange(listener, request(b"[]", "Content-Type: application/cloudevents-batch+json"))[0] == 204
    assert stop(listener) == 1
    log = listener.stderr.decode()
    assert "Traceback" not in log and "0 events in 3 requests, 2 rejected" in log
    assert "2 requests were refused because the output could not be written" in log


def test_idle_connections_are_closed(listeners: list[Listener]) -> None:
    listener = Listener("--timeout", "60", "--idle-timeout", "0.5")
    listeners.append(listener)
    with socket.create_connection(address(listener), timeout=20) as idle:
        assert idle.recv(1) == b""  # the listener closed it; before, recv waited until the socket timeout
    with socket.create_connection(address(listener), timeout=20) as kept:  # keep-alive, then idle
        kept.sendall(binary())
        assert answer_of(kept)[0] == 202
        assert kept.recv(1) == b""
    assert stop(listener) == 0


def test_connections_over_the_cap_get_503_and_a_retry_after(listeners: list[Listener]) -> None:
    listener = Listener("--timeout", "60", "--max-connections", "2", "--idle-timeout", "30", "-q")
    listeners.append(listener)
    idle = [socket.create_connection(address(listener), timeout=20) for _ in range(2)]
    try:
        status, headers, reason = exchange(listener, binary())
        assert status == 503 and headers["retry-after"] == "1" and b"too many connections" in reason
    finally:
        for sock in idle:
            sock.close()
    for _ in range(50):  # the listener notices the closed connections at once; allow it a moment
        status = exchange(listener, binary())[0]
        if status != 503:
            break
        time.sleep(0.1)
    assert status == 202
    assert stop(listener) == 0
    assert "1 events in 1 requests, 0 rejected; " in listener.stderr.decode()
    assert "connections turned away over --max-connections" in listener.stderr.decode()


def test_hundreds_of_simultaneous_posts_are_all_answered(listeners: list[Listener], tmp_path: Path) -> None:
    # While listen is stopped, only the kernel's accept queue (the listen backlog) can complete
    # connections: with the standard library's backlog of 5, six or so would, and the rest would wait
    # for SYN retransmits. Then every one of them sends its post at once.
    with open("/proc/sys/net/core/somaxconn") as file:  # the kernel caps the backlog at this
        count = min(300, int(file.read()) - 8)
    output = tmp_path / "out.jsonl"
    listener = Listener("--timeout", "120", "-q", output=output)
    listeners.append(listener)
    listener.process.send_signal(signal.SIGSTOP)
    clients: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(address(listener))
            clients.append(sock)
        with selectors.DefaultSelector() as selector:
            for sock in clients:
                selector.register(sock, selectors.EVENT_WRITE)
            connected: set[socket.socket] = set()
            deadline = time.monotonic() + 10
            while len(connected) < count and time.monotonic() < deadline:
                for key, _ in selector.select(0.5):
                    sock = key.fileobj  # type: ignore[assignment]
                    assert isinstance(sock, socket.socket)
                    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                        connected.add(sock)
                    selector.unregister(sock)
        assert len(connected) == count, f"{len(connected)} of {count} connections completed while listen was stopped"
        listener.process.send_signal(signal.SIGCONT)
        for number, sock in enumerate(clients):
            sock.setblocking(True)
            sock.sendall(binary(EVENT.evolve(id=f"load-{number}")))
        statuses = [answer_of(sock)[0] for sock in clients]
    finally:
        listener.process.send_signal(signal.SIGCONT)
        for sock in clients:
            sock.close()
    assert statuses == [202] * count
    assert stop(listener) == 0
    ids = sorted(json.loads(line)["id"] for line in output.read_text().splitlines())
    assert ids == sorted(f"load-{number}" for number in range(count))


def test_listen_on_another_host_and_bad_hosts(listeners: list[Listener]) -> None:
    process = subprocess.run(
        [cefmt_script(), "listen", "--port", "0", "--host", "no-such-host.invalid", "--timeout", "1"],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert process.returncode == 1 and b"cannot listen on no-such-host.invalid:0" in process.stderr
    if not socket.has_ipv6:
        return
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return  # no IPv6 loopback here: the IPv4 default is tested everywhere else
    command = [cefmt_script(), "listen", "--port", "0", "--host", "::1", "--timeout", "60", "-q"]
    six = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert six.stderr is not None
        line = six.stderr.readline().decode()
        assert "listening on http://[::1]:" in line
        port = int(line.rsplit(":", 1)[1].strip("/\n"))
        with socket.create_connection(("::1", port), timeout=20) as sock:
            sock.sendall(binary())
            assert answer_of(sock)[0] == 202
    finally:
        six.send_signal(signal.SIGTERM)
        out, _ = six.communicate(timeout=30)
    assert json.loads(out)["id"] == "ok"


def test_request_lines_are_escaped_in_the_log(listener: Listener) -> None:
    status, _, _ = exchange(listener, request(b"", path="/\x1b[31mred\x07"), half_close=True)
    assert status == 400
    assert stop(listener) == 0
    assert b"\x1b" not in listener.stderr and b"\x07" not in listener.stderr
    assert b"POST /\\x1b[31mred\\x07 -> 400" in listener.stderr


def test_head_gets_no_body_and_an_expected_large_body_is_refused_before_it_is_sent(listener: Listener) -> None:
    with socket.create_connection(address(listener), timeout=20) as sock:
        sock.sendall(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, body = answer_of(sock)
    assert status == 405 and headers["allow"] == "POST" and body == b""
    with socket.create_connection(address(listener), timeout=20) as sock:
        sock.sendall(request(b"", "Expect: 100-continue", content_length=str(1 << 30)))
        status, _, reason = answer_of(sock)
    assert status == 413 and b"over 16777216 bytes" in reason
    assert stop(listener) == 0


def test_stdout_closed_is_a_clear_error() -> None:
    process = subprocess.run(
        [cefmt_script(), "listen", "--port", "0", "--timeout", "1"], stderr=subprocess.PIPE,
        preexec_fn=lambda: os.close(1), timeout=60, check=False,
    )  # fmt: skip
    assert process.returncode == 1, process.stderr
    assert process.stderr.decode().strip() == "cefmt listen: the standard output is closed"


@pytest.mark.parametrize(
    "options",
    [
        ["--port", "-1"], ["--port", "65536"], ["--port", "http"], ["--max-events", "0"], ["--max-events", "-3"],
        ["--timeout", "0"], ["--timeout", "-1"], ["--timeout", "nan"], ["--max-body-size", "0"],
        ["--max-connections", "0"], ["--idle-timeout", "0"], ["--request-timeout", "-5"], ["--request-timeout", "inf"],
    ],
    ids=" ".join,
)  # fmt: skip
def test_bad_numbers_are_usage_errors(options: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    arguments = ["listen", *options] if options[0] == "--port" else ["listen", "--port", "0", *options]
    with pytest.raises(SystemExit) as exit_:
        main(arguments)
    assert exit_.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_a_reader_that_goes_away_stops_listen(listeners: list[Listener]) -> None:
    # `cefmt listen | head -1`: once stdout is a broken pipe, events would be lost, so listen says so and stops.
    listener = Listener("--timeout", "60")
    listeners.append(listener)
    assert listener.process.stdout is not None
    listener.process.stdout.close()
    status, _, reason = exchange(listener, binary())
    assert status == 500 and b"cannot write the events: Broken pipe" in reason
    listener.process.stdout = None  # closed above: finish() reads stderr only
    assert listener.finish() == 1
    assert b"Traceback" not in listener.stderr
    assert b"1 requests were refused because the output could not be written" in listener.stderr
