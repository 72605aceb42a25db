"""Misbehaving HTTP receivers on 127.0.0.1 for ``cefmt send`` to talk to: real sockets, scripted answers."""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import attrs


@attrs.define
class Request:
    """One request as the receiver read it."""

    at: float
    head: bytes
    body: bytes

    def header(self, name: str) -> str | None:
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name.lower().encode():
                return value.strip().decode("latin-1")
        return None


#: A self-signed certificate for 127.0.0.1 and localhost (valid until 2126), and its key: test use only.
TLS_CERTIFICATE = Path(__file__).with_name("tls") / "cert.pem"
TLS_KEY = TLS_CERTIFICATE.with_name("key.pem")

#: What the receiver does with request N: bytes to send as the answer, or a callable given the socket.
Answer = bytes | Callable[[socket.socket], None]


def reply(status: int, body: bytes = b"", *headers: str) -> bytes:
    """A whole HTTP/1.1 answer."""
    lines = [f"HTTP/1.1 {status} Whatever", *headers, f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


ACCEPTED = reply(202, b'{"accepted": 1}')


def reset(sock: socket.socket) -> None:
    """Close with a reset (RST), as a crashing server or a middlebox does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def hang_up(sock: socket.socket) -> None:
    """Close without answering."""
    sock.close()


def trickle(answer: bytes, every: float) -> Callable[[socket.socket], None]:
    """Send ``answer`` one byte every ``every`` seconds (until the client goes away)."""

    def send(sock: socket.socket) -> None:
        try:
            for index in range(len(answer)):
                sock.sendall(answer[index : index + 1])
                time.sleep(every)
        except OSError:
            pass
        sock.close()

    return send


class Receiver:
    """Answers the Nth request with ``answers[N]`` (then 202 Accepted), one thread per connection; over TLS
    with ``tls=True``."""

    def __init__(self, answers: list[Answer] | None = None, *, tls: bool = False) -> None:
        self.answers = list(answers or [])
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._tls: ssl.SSLContext | None = None
        if tls:
            self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._tls.load_cert_chain(TLS_CERTIFICATE, TLS_KEY)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self._server.getsockname()[1]}/events"
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the accept() blocked on it; close() alone would not
        self._server.close()
        self._thread.join(timeout=10)

    def _accept(self) -> None:
        while not self._closed:
            try:
                sock, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(30)
        buffered = b""
        try:
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_side=True)
            while True:
                while b"\r\n\r\n" not in buffered:
                    chunk = sock.recv(65536)
                    if not chunk:
                        sock.close()
                        return
                    buffered += chunk
                head, _, buffered = buffered.partition(b"\r\n\r\n")
                request = Request(time.monotonic(), head, b"")
                size = int(request.header("Content-Length") or 0)
                while len(buffered) < size:
                    chunk = sock.recv(65536)
                    if not chunk:
                        sock.close()
                        return
                    buffered += chunk
                request.body, buffered = buffered[:size], buffered[size:]
                with self._lock:
                    index = len(self.requests)
                    self.requests.append(request)
                    answer = self.answers[index] if index < len(self.answers) else ACCEPTED
                if callable(answer):
                    answer(sock)
                    return
                sock.sendall(answer)
        except OSError:
            sock.close()
