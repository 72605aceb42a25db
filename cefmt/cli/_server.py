"""The HTTP server under ``cefmt listen``: the standard library's, with bounds on what clients can hold.

* The listen backlog is :data:`BACKLOG` (the standard library's 5 makes simultaneous clients wait for
  SYN retransmits, or time out).
* At most ``max_connections`` connections are served at once, each on its own thread; a connection over
  the cap is answered ``503`` with ``Retry-After`` by one shared thread, then closed.
* A connection with no request in progress is closed after ``idle_timeout`` seconds; a request must
  arrive whole (request line, headers and body) within ``request_timeout`` seconds of its first byte,
  however slowly it trickles, or it is answered ``408``.
* Every request that can be parsed gets an answer; a body shorter than its ``Content-Length`` is a
  ``400``, a missing, malformed or repeated ``Content-Length`` a ``411`` or ``400``, a body over the
  limit a ``413``, and a failure in the handler a ``500``. Connections closed after an error answer are
  closed gently (the unread rest of the request is drained for a moment), so the client reads the
  answer instead of a reset.
"""

from __future__ import annotations

import contextlib
import io
import re
import selectors
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["BACKLOG", "BoundedHandler", "BoundedServer"]

#: The listen backlog: connections the kernel completes and queues before they are accepted.
BACKLOG = 1024
_LINGER_SECONDS = 1.0  # how long a closing connection is drained of what the client still sends
_LINGER_BYTES = 1 << 20
_MAX_REFUSING = 1024  # connections being refused at once; beyond, they are closed without an answer
_DIGITS = re.compile(r"[0-9]+")


class _TimedReader(io.RawIOBase):
    """The socket's input, read against a deadline that covers a whole request, not each ``recv``.

    Between requests the deadline is ``idle`` seconds away; the first byte of a request moves it to
    ``request`` seconds from that byte. A slow client cannot stretch it by sending a byte now and then.
    """

    def __init__(self, sock: socket.socket, idle: float, request: float) -> None:
        super().__init__()
        self._sock = sock
        self._idle = idle
        self._request = request
        self.deadline = time.monotonic() + idle
        self.waiting = True  # no byte of the next request has arrived yet

    def readable(self) -> bool:
        return True

    def wait_for_request(self) -> None:
        self.waiting = True
        self.deadline = time.monotonic() + self._idle

    def request_started(self) -> None:
        if self.waiting:
            self.waiting = False
            self.deadline = time.monotonic() + self._request

    def readinto(self, buffer: Any) -> int:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the deadline passed")
        self._sock.settimeout(remaining)
        received = self._sock.recv_into(buffer)
        if received:
            self.request_started()
        return received


class _SocketWriter(io.RawIOBase):
    """The socket's output: each write is sent whole, within ``timeout`` seconds per send."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        super().__init__()
        self._sock = sock
        self._timeout = timeout

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._sock.settimeout(self._timeout)
        self._sock.sendall(data)
        return len(data)


class _Refuser:
    """Answers the connections over the cap on one thread: the canned answer, then a short drain and close.

    Sockets are non-blocking here and handled by one selector, so thousands of refused connections
    cost one thread. Answering at once and closing could make the client's kernel discard the answer
    (the request it is still sending meets a closed socket and a reset): the drain avoids that.
    """

    def __init__(self, answer: bytes) -> None:
        self._answer = answer
        self._lock = threading.Lock()
        self._inbox: list[socket.socket] = []
        self._count = 0  # in the inbox or in progress
        self._closed = False
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        self._selector.register(self._wake_read, selectors.EVENT_READ)
        # per socket: (deadline, what is left to send); nothing left means draining
        self._states: dict[socket.socket, tuple[float, bytes]] = {}
        self._thread = threading.Thread(target=self._run, name="cefmt-refuser", daemon=True)
        self._thread.start()

    def refuse(self, sock: socket.socket) -> bool:
        """Answer ``sock`` and close it; ``False`` when too many are in progress (it is closed at once)."""
        with self._lock:
            taken = not self._closed and self._count < _MAX_REFUSING
            if taken:
                self._inbox.append(sock)
                self._count += 1
        if not taken:
            sock.close()
            return False
        with contextlib.suppress(OSError):
            self._wake_write.send(b"\0")
        return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
        with contextlib.suppress(OSError):
            self._wake_write.send(b"\0")
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            while True:
                with self._lock:
                    if self._closed:
                        return
                for key, _ in self._selector.select(timeout=0.25):
                    if key.fileobj is self._wake_read:
                        self._take_inbox()
                    else:
                        self._step(key.fileobj)  # type: ignore[arg-type]
                now = time.monotonic()
                for sock in [sock for sock, (deadline, _) in self._states.items() if deadline < now]:
                    self._finish(sock)
        finally:
            for sock in list(self._states):
                self._finish(sock)
            with self._lock:
                leftover, self._inbox = self._inbox, []
            for sock in leftover:
                sock.close()
            self._selector.close()
            self._wake_read.close()
            self._wake_write.close()

    def _take_inbox(self) -> None:
        with contextlib.suppress(OSError):
            while self._wake_read.recv(4096):
                pass
        with self._lock:
            taken, self._inbox = self._inbox, []
        for sock in taken:
            try:
                sock.setblocking(False)
                self._selector.register(sock, selectors.EVENT_WRITE)
            except (OSError, ValueError):
                self._forget(sock)
                continue
            self._states[sock] = (time.monotonic() + _LINGER_SECONDS * 2, self._answer)

    def _step(self, sock: socket.socket) -> None:
        deadline, left = self._states[sock]
        try:
            if left:
                left = left[sock.send(left) :]
                self._states[sock] = (deadline, left)
                if not left:
                    sock.shutdown(socket.SHUT_WR)
                    self._selector.modify(sock, selectors.EVENT_READ)
            elif not sock.recv(65536):
                self._finish(sock)
        except BlockingIOError:
            pass
        except OSError:
            self._finish(sock)

    def _finish(self, sock: socket.socket) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(sock)
        self._states.pop(sock, None)
        self._forget(sock)

    def _forget(self, sock: socket.socket) -> None:
        sock.close()
        with self._lock:
            self._count -= 1


class BoundedServer(ThreadingHTTPServer):
    """A threading HTTP server with a large backlog, a cap on connections, and handlers with deadlines.

    ``on_error`` is called with a one-line description when a handler thread fails outside any
    request (the standard library would print a traceback).
    """

    request_queue_size = BACKLOG
    daemon_threads = True
    block_on_close = False  # closing does not wait for idle keep-alive connections to time out

    def __init__(
        self,
        address: tuple[Any, ...],
        handler: type[BoundedHandler],
        *,
        family: socket.AddressFamily,
        max_connections: int,
        on_error: Callable[[str], None],
    ) -> None:
        self.address_family = family
        self.max_connections = max_connections
        self.on_error = on_error
        self.connections = 0
        self.refused = 0
        self._count_lock = threading.Lock()
        busy = b"too many connections at once; retry in a moment\n"
        self._refuser = _Refuser(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(busy), busy)
        )
        try:
            super().__init__(address, handler)
        except BaseException:
            self._refuser.close()
            raise

    def server_bind(self) -> None:
        # The standard library's server_bind looks the host's name up (getfqdn), which can take seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._count_lock:
            full = self.connections >= self.max_connections
            if full:
                self.refused += 1
            else:
                self.connections += 1
        if full:
            self._refuser.refuse(request)
            return
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        try:
            super().shutdown_request(request)
        finally:
            with self._count_lock:
                self.connections -= 1

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        self.on_error(f"connection from {_address(client_address)} failed: {type(exc).__name__}: {exc}")

    def server_close(self) -> None:
        super().server_close()
        self._refuser.close()


def _address(client_address: Any) -> str:
    if isinstance(client_address, tuple) and len(client_address) >= 2:
        host, port = client_address[0], client_address[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(client_address)


class BoundedHandler(BaseHTTPRequestHandler):
    """Reads requests against deadlines, answers every request it can parse, and closes gently.

    Subclasses set :attr:`idle_timeout`, :attr:`request_timeout` and :attr:`max_body`, write ``do_POST``
    and the like with :meth:`read_body` and :meth:`answer`, and see each answer in :meth:`answered`.
    """

    protocol_version = "HTTP/1.1"
    server_version = "cefmt-listen"
    sys_version = ""
    idle_timeout = 5.0
    request_timeout = 30.0
    max_body = 16 * 1024 * 1024
    server: BoundedServer

    # -- the connection -------------------------------------------------------------------------------------

    def setup(self) -> None:
        self.connection = self.request
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader = _TimedReader(self.connection, self.idle_timeout, self.request_timeout)
        self.rfile = io.BufferedReader(self._reader, 65536)
        self.wfile = _SocketWriter(self.connection, self.request_timeout)  # type: ignore[assignment]
        self._answered: HTTPStatus | None = None
        self._length: int | None = None
        self._linger = False

    def finish(self) -> None:
        if self._linger:
            self._drain()
        with contextlib.suppress(OSError):
            self.rfile.close()

    def _drain(self) -> None:
        # After an answer that closes the connection, read (and drop) what the client is still sending,
        # for a moment: closing with unread data makes the kernel send a reset, and the client's kernel
        # may then drop our answer before the client reads it.
        sock = self.connection
        deadline = time.monotonic() + _LINGER_SECONDS
        drained = 0
        try:
            sock.shutdown(socket.SHUT_WR)
            while drained < _LINGER_BYTES:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                sock.settimeout(remaining)
                chunk = sock.recv(65536)
                if not chunk:
                    return
                drained += len(chunk)
        except OSError:
            return

    def handle_one_request(self) -> None:
        reader = self._reader
        reader.wait_for_request()
        self._answered = None
        self._length = None
        self.command, self.path, self.request_version, self.requestline = "", "", "", ""
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                self.close_connection = True
                return
            reader.request_started()
            if len(self.raw_requestline) > 65536:
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG, "the request line is over 65536 bytes")
                return
            if not self.parse_request():
                self.close_connection = True
                return
            method = getattr(self, f"do_{self.command}", None)
            if method is None:
                self.send_error(HTTPStatus.NOT_IMPLEMENTED, f"the method {self.command!r} is not supported")
                return
            method()
        except TimeoutError:
            self.close_connection = True
            if not reader.waiting and self._answered is None:  # a request began and did not arrive in time
                self._answer_quietly(
                    HTTPStatus.REQUEST_TIMEOUT, f"the request did not arrive whole within {self.request_timeout:g} s"
                )
        except OSError:  # the client went away (reset, broken pipe): no one to answer
            self.close_connection = True
            self._linger = False
        except Exception as exc:  # noqa: BLE001 - a failure of ours: the client gets an answer, not a dropped connection
            self.close_connection = True
            self.server.on_error(f"{self.command or '-'} {self.path or '-'}: {type(exc).__name__}: {exc}")
            if self._answered is None:
                self._answer_quietly(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {type(exc).__name__}")

    def _answer_quietly(self, status: HTTPStatus, text: str) -> None:
        with contextlib.suppress(OSError):
            self.answer(status, text, close=True)

    # -- requests --------------------------------------------------------------------------------------------

    def handle_expect_100(self) -> bool:
        # Refuse a body we would refuse anyway before the client sends it.
        if self.command == "POST" and self.body_length() is None:
            return False
        return bool(super().handle_expect_100())

    def body_length(self) -> int | None:
        """The request's ``Content-Length``, checked; ``None`` once a refusal has been answered."""
        if self._length is not None:
            return self._length
        if self._answered is not None:
            return None
        values = [value.strip() for value in self.headers.get_all("Content-Length", [])]
        if self.headers.get("Transfer-Encoding") is not None:
            self.answer(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length (not chunked)", close=True)
            return None
        if not values:
            self.answer(HTTPStatus.LENGTH_REQUIRED, "a Content-Length header is required", close=True)
            return None
        if len(set(values)) > 1:
            self.answer(HTTPStatus.BAD_REQUEST, "the request has conflicting Content-Length headers", close=True)
            return None
        text = values[0]
        if not _DIGITS.fullmatch(text):
            shown = text if len(text) <= 40 else text[:40] + "…"
            self.answer(HTTPStatus.BAD_REQUEST, f"Content-Length {shown!r} is not a number of bytes", close=True)
            return None
        digits = text.lstrip("0")
        if len(digits) > 18 or int(digits or "0") > self.max_body:
            self.answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body is over {self.max_body} bytes", close=True)
            return None
        self._length = int(digits or "0")
        return self._length

    def read_body(self) -> bytes | None:
        """The whole body announced by ``Content-Length``; ``None`` once a refusal has been answered.

        A body that ends early (the client closed its side) is a ``400``: nothing of it is used.
        A body that does not arrive in time raises ``TimeoutError``, answered ``408`` by the caller.
        """
        size = self.body_length()
        if size is None:
            return None
        body = self.rfile.read(size)
        if len(body) < size:
            self.answer(
                HTTPStatus.BAD_REQUEST,
                f"the body ended after {len(body)} of the {size} bytes its Content-Length announced",
                close=True,
            )
            return None
        return body

    # -- answers ---------------------------------------------------------------------------------------------

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # The standard library's error page is HTML; ours is one line of text, like every other answer.
        status = HTTPStatus(code)
        self.answer(status, message or status.description or status.phrase, close=True)

    def answer(
        self,
        status: HTTPStatus,
        text: str = "",
        *,
        body: bytes | None = None,
        content_type: str = "text/plain; charset=utf-8",
        headers: tuple[tuple[str, str], ...] = (),
        close: bool = False,
    ) -> None:
        """Send the whole answer in one write: ``text`` as a line of text, or ``body`` as it is."""
        status = HTTPStatus(status)
        if body is None:
            body = (text + "\n").encode("utf-8", "backslashreplace") if text else b""
        if close:
            self.close_connection = True
        self._linger = self.close_connection
        lines = [
            f"{self.protocol_version} {status.value} {status.phrase}",
            f"Server: {self.server_version}",
            f"Date: {self.date_time_string()}",
            *(f"{name}: {value}" for name, value in headers),
        ]
        if body:
            lines.append(f"Content-Type: {content_type}")
        if status != HTTPStatus.NO_CONTENT:
            lines.append(f"Content-Length: {len(body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self._answered = status
        self.wfile.write(head if self.command == "HEAD" else head + body)
        self.answered(status, text)

    def answered(self, status: HTTPStatus, text: str) -> None:
        """Called after each answer is sent (a place to log it)."""

    def log_message(self, format: str, *args: Any) -> None:  # the base class's name
        pass  # answers are reported through answered(), failures through the server's on_error
