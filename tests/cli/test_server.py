"""The bounded HTTP server under ``cefmt listen``, in process: a failure of the handler is a 500, not a
dropped connection or a traceback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http import HTTPStatus

import pytest

from cefmt.cli._server import BACKLOG, BoundedHandler, BoundedServer


class Faulty(BoundedHandler):
    idle_timeout = 5.0
    request_timeout = 5.0

    def do_POST(self) -> None:
        body = self.read_body()
        if body == b"boom":
            raise RuntimeError("a bug in the handler")
        self.answer(HTTPStatus.OK, "fine")


@pytest.fixture
def server() -> Iterator[tuple[BoundedServer, list[str]]]:
    errors: list[str] = []
    bounded = BoundedServer(("127.0.0.1", 0), Faulty, family=socket.AF_INET, max_connections=4, on_error=errors.append)
    thread = threading.Thread(target=bounded.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield bounded, errors
    bounded.shutdown()
    bounded.server_close()


def post(server: BoundedServer, body: bytes) -> bytes:
    with socket.create_connection(server.server_address[:2], timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def test_a_failing_handler_answers_500_and_the_server_goes_on(server: tuple[BoundedServer, list[str]]) -> None:
    bounded, errors = server
    answer = post(bounded, b"boom")
    assert answer.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert answer.endswith(b"\r\n\r\ninternal error: RuntimeError\n") and b"Connection: close" in answer
    assert errors == ["POST /: RuntimeError: a bug in the handler"]
    assert post(bounded, b"ok").startswith(b"HTTP/1.1 200 OK\r\n")


def test_the_backlog_and_the_answers_of_the_standard_library_are_replaced(
    server: tuple[BoundedServer, list[str]],
) -> None:
    bounded, _ = server
    assert BACKLOG >= 1024 and bounded.request_queue_size == BACKLOG
    with socket.create_connection(bounded.server_address[:2], timeout=10) as sock:
        sock.sendall(b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = sock.recv(65536)
    # The standard library's error page is HTML; ours is one line of text.
    assert answer.startswith(b"HTTP/1.1 501 ") and answer.endswith(b"the method 'BREW' is not supported\n")
