"""The HTTP client under ``cefmt send``: one keep-alive connection, a deadline per exchange, retries.

* Each exchange (connecting, sending the request, reading the whole answer) has one deadline,
  ``timeout`` seconds from its start: a receiver that trickles its answer a byte at a time cannot stretch
  it, because a watchdog shuts the socket down when the deadline passes.
* :func:`post` retries connection failures, timeouts and the answers 429 and 5xx (but 501 and 505,
  which say the request can never succeed) up to ``retries`` times, waiting with exponential backoff and
  jitter, or as long as ``Retry-After`` asks when it asks for at most :data:`MAX_RETRY_AFTER` seconds.
  Retrying a request whose answer was lost may deliver it twice: delivery is at least once, as
  CloudEvents consumers expect (``source`` and ``id`` identify a duplicate).
* The answer's body is read up to :data:`MAX_ANSWER_BYTES`, and only an excerpt is kept: the text of
  an HTML error page, one line, control characters escaped.
* ``http_proxy``, ``https_proxy`` and ``no_proxy`` are honoured as ``urllib`` honours them.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import html
import http.client
import random
import re
import selectors
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlsplit

import attrs

from cefmt import __version__

from ._text import excerpt

__all__ = ["MAX_ANSWER_BYTES", "MAX_RETRY_AFTER", "Connection", "Outcome", "Reply", "TransportError", "post"]

#: The longest ``Retry-After`` honoured, in seconds; an answer asking for more is final.
MAX_RETRY_AFTER = 60.0
#: Bytes of an answer's body read; a longer body is left unread and the connection closed.
MAX_ANSWER_BYTES = 64 * 1024
_BACKOFF_FIRST = 0.5
_BACKOFF_MOST = 30.0
_NEVER_RETRIED = {501, 505}  # Not Implemented, HTTP Version Not Supported: asking again changes nothing


@attrs.frozen
class Reply:
    """An HTTP answer: its status, an excerpt of its body (or the status phrase), its ``Retry-After``."""

    status: int
    reason: str
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        return self.status == 429 or (self.status >= 500 and self.status not in _NEVER_RETRIED)


class TransportError(Exception):
    """No (complete) HTTP answer: the connection failed, timed out, or the answer was not HTTP."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@attrs.frozen
class Outcome:
    """How a request ended after its retries: the last answer, or the last transport error."""

    reply: Reply | None
    error: TransportError | None
    retries: int

    @property
    def delivered(self) -> bool:
        return self.reply is not None and self.reply.ok


class _Watchdog:
    """Shuts a socket down when its exchange passes its deadline; one thread serves the whole run.

    Shutting the socket down wakes the ``recv`` or ``send`` blocked on it, whatever its timeout.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._sock: socket.socket | None = None
        self._deadline = 0.0
        self._fired = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def arm(self, sock: socket.socket, deadline: float) -> None:
        with self._condition:
            self._sock, self._deadline, self._fired = sock, deadline, False
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="cefmt-send-watchdog", daemon=True)
                self._thread.start()
            self._condition.notify()

    def disarm(self) -> bool:
        """Stop watching; whether the deadline had passed (and the socket was shut down)."""
        with self._condition:
            self._sock = None
            return self._fired

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify()

    def _run(self) -> None:
        with self._condition:
            while not self._closed:
                if self._sock is None:
                    self._condition.wait()
                    continue
                remaining = self._deadline - time.monotonic()
                if remaining > 0:
                    self._condition.wait(remaining)
                    continue
                with contextlib.suppress(OSError):
                    # The plain socket's shutdown, also for TLS: it works on the descriptor under the
                    # TLS layer without touching the TLS object the other thread is using.
                    socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
                self._fired = True
                self._sock = None


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """The seconds a ``Retry-After`` value asks to wait (delay-seconds or an HTTP date), ``None`` if unreadable.

    >>> retry_after("3")
    3.0
    >>> retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0)
    10.0
    >>> retry_after("soon") is None
    True
    """
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]{1,9}", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = datetime.now(timezone.utc).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


def _reason(content_type: str, data: bytes, fallback: str) -> str:
    text = data.decode("utf-8", "replace")
    if "html" in content_type.lower() or text.lstrip()[:1] == "<":
        text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>|<!--.*?-->", " ", text)
        text = html.unescape(re.sub(r"(?s)<[^>]*>", " ", text))
    return excerpt(text) or fallback


class Connection:
    """A keep-alive HTTP(S) connection to ``url``'s server, opened again whenever needed.

    ``headers`` go with every request, after the message's own; :meth:`exchange` sends one POST.
    """

    def __init__(self, url: str, *, timeout: float, headers: Sequence[tuple[str, str]] = ()) -> None:
        parts = urlsplit(url)
        self.url = url
        self.timeout = timeout
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._https else 80)
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        names = {name.lower() for name, _ in headers}
        self._headers = [*headers, *([] if "user-agent" in names else [("User-Agent", f"cefmt/{__version__}")])]
        self._proxy = self._find_proxy(parts.scheme)
        self._connection: http.client.HTTPConnection | None = None
        self._watchdog = _Watchdog()
        self._timed_out = False  # the watchdog cut the last exchange off

    def _find_proxy(self, scheme: str) -> tuple[str, int, dict[str, str]] | None:
        proxy = urllib.request.getproxies().get(scheme)
        if not proxy or urllib.request.proxy_bypass(self._host):
            return None
        parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        headers = {}
        if parts.username is not None:
            credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            headers["Proxy-Authorization"] = "Basic " + base64.b64encode(credentials).decode("ascii")
        return parts.hostname or "", parts.port or 80, headers

    def _open(self, deadline: float) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection
        timeout = max(0.001, deadline - time.monotonic())
        if self._proxy is not None and not self._https:
            connection = http.client.HTTPConnection(self._proxy[0], self._proxy[1], timeout=timeout)
        elif self._https:
            host, port = (self._proxy[0], self._proxy[1]) if self._proxy else (self._host, self._port)
            connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context())
            if self._proxy is not None:
                connection.set_tunnel(self._host, self._port, headers=self._proxy[2])
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        connection.connect()
        assert connection.sock is not None
        connection.sock.settimeout(self.timeout)  # each recv and send; the watchdog bounds the whole exchange
        return connection

    def close(self) -> None:
        """Close the connection and stop the watchdog."""
        self._reset()
        self._watchdog.close()

    def _reset(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def exchange(self, headers: dict[str, str], body: bytes) -> Reply:
        """POST ``body`` with ``headers``; the answer, or :class:`TransportError` (never another exception)."""
        deadline = time.monotonic() + self.timeout
        self._timed_out = False
        try:
            return self._exchange(headers, body, deadline)
        except (OSError, http.client.HTTPException) as exc:
            self._reset()
            raise self._failure(exc, deadline) from exc

    def _exchange(self, headers: dict[str, str], body: bytes, deadline: float) -> Reply:
        if self._connection is not None and self._connection.sock is not None and _dropped(self._connection.sock):
            self._reset()  # the server closed the idle keep-alive connection: open another before sending
        if self._connection is None or self._connection.sock is None:
            self._reset()
            self._connection = self._open(deadline)
        connection = self._connection
        assert connection.sock is not None
        self._watchdog.arm(connection.sock, deadline)
        try:
            target = self.url if self._proxy is not None and not self._https else self._target
            connection.putrequest("POST", target, skip_accept_encoding=True)
            for name, value in [*headers.items(), *self._headers]:
                connection.putheader(name, value)
            if self._proxy is not None and not self._https:
                for name, value in self._proxy[2].items():
                    connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            try:
                connection.endheaders(body)
            except OSError as sending:
                # The receiver may have answered before taking the whole body (413) and closed: read
                # that answer if it came; if not, the sending error stands.
                try:
                    response = connection.getresponse()
                except (OSError, http.client.HTTPException):
                    raise sending from None
                return self._read(response)
            return self._read(connection.getresponse())
        finally:
            self._timed_out = self._watchdog.disarm()

    def _read(self, response: http.client.HTTPResponse) -> Reply:
        data = response.read(MAX_ANSWER_BYTES + 1)
        if len(data) <= MAX_ANSWER_BYTES and response.length:  # read(amt) returns what came before the end
            raise http.client.IncompleteRead(data, response.length)
        if len(data) > MAX_ANSWER_BYTES or response.will_close:
            self._reset()  # the rest of a long answer is not worth reading
            response.close()
        return Reply(
            response.status,
            _reason(response.getheader("Content-Type", ""), data[:MAX_ANSWER_BYTES], response.reason),
            retry_after(response.getheader("Retry-After")),
        )

    def _failure(self, exc: BaseException, deadline: float) -> TransportError:
        if self._timed_out or time.monotonic() >= deadline or isinstance(exc, TimeoutError):
            return TransportError(f"no complete answer within {self.timeout:g} s (--timeout)", retryable=True)
        cause = exc
        where = self.url if self._proxy is None else f"{self.url} (through the proxy {self._proxy[0]})"
        if isinstance(cause, http.client.IncompleteRead):
            return TransportError(f"the answer from {where} was cut short", retryable=True)
        if isinstance(cause, http.client.RemoteDisconnected):
            return TransportError(f"{where} closed the connection without answering", retryable=True)
        if isinstance(cause, http.client.BadStatusLine):
            began = excerpt(str(cause), 60)
            return TransportError(f'the answer from {where} is not HTTP (it began with "{began}")', retryable=False)
        if isinstance(cause, http.client.HTTPException):
            why = excerpt(str(cause), 100)
            return TransportError(f"the answer from {where} is not valid HTTP: {why}", retryable=False)
        if isinstance(cause, ssl.SSLCertVerificationError):
            trust = cause.verify_message or str(cause)
            return TransportError(f"cannot reach {where}: its TLS certificate is not trusted: {trust}", retryable=False)
        if isinstance(cause, ssl.SSLError):
            return TransportError(f"cannot reach {where}: TLS: {cause.reason or cause}", retryable=False)
        if isinstance(cause, socket.gaierror):
            return TransportError(
                f"cannot reach {where}: {cause.strerror or cause}", retryable=cause.errno == socket.EAI_AGAIN
            )
        if isinstance(cause, OSError):
            return TransportError(f"cannot reach {where}: {cause.strerror or cause}", retryable=True)
        return TransportError(f"cannot reach {where}: {cause}", retryable=True)


def _dropped(sock: socket.socket) -> bool:
    # An idle keep-alive connection has nothing to read; anything there (the end, a reset, stray
    # bytes) means the server is done with it.
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        return bool(selector.select(0))


def backoff(attempt: int) -> float:
    """Seconds to wait before retry ``attempt`` (from 0): doubling from 0.5 s up to 30 s, with jitter.

    >>> 0.25 <= backoff(0) <= 0.5 and 15 <= backoff(10) <= 30
    True
    """
    return float(min(_BACKOFF_MOST, _BACKOFF_FIRST * 2.0**attempt) * random.uniform(0.5, 1.0))


def post(
    connection: Any, headers: dict[str, str], body: bytes, *, retries: int, sleep: Callable[[float], None] = time.sleep
) -> Outcome:
    """POST through ``connection`` (a :class:`Connection`), retrying what may succeed later; how it ended.

    >>> class Flaky:
    ...     answers = [TransportError("reset", retryable=True), Reply(503, "busy", 0.0), Reply(202, "")]
    ...     def exchange(self, headers, body):
    ...         answer = self.answers.pop(0)
    ...         if isinstance(answer, Exception):
    ...             raise answer
    ...         return answer
    >>> outcome = post(Flaky(), {}, b"", retries=3, sleep=lambda seconds: None)
    >>> outcome.delivered, outcome.retries
    (True, 2)
    """
    attempt = 0
    while True:
        try:
            reply: Reply | None = connection.exchange(headers, body)
            error: TransportError | None = None
        except TransportError as exc:
            reply, error = None, exc
        if reply is not None and (reply.ok or not reply.retryable):
            return Outcome(reply, None, attempt)
        if error is not None and not error.retryable:
            return Outcome(None, error, attempt)
        if attempt >= retries:
            return Outcome(reply, error, attempt)
        wait = backoff(attempt)
        if reply is not None and reply.retry_after is not None:
            if reply.retry_after > MAX_RETRY_AFTER:
                note = f"{reply.reason} (asked to retry after {reply.retry_after:g} s; not waiting that long)"
                return Outcome(attrs.evolve(reply, reason=note), None, attempt)
            wait = reply.retry_after
        sleep(wait)
        attempt += 1
