"""``cefmt listen --port N``: an HTTP sink that decodes events in any mode and format.

Answers: 202 with ``{"accepted": N}`` when events were written, 204 for an empty batch, 400 with the
reason for a bad message or an event that cannot be written as JSON, 408 for a request that does not
arrive in time, 411 without a Content-Length, 413 for a body over the limit, 415 for a format no
installed codec reads, 405 for any method but POST, 500 when the plugin for a format fails to load,
503 when the connections are at their cap or the listener is stopping, 507 when the output's disk is
full. An event is acknowledged only once it is written; a refused request writes nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import signal
import socket
import stat
import sys
import threading
from collections.abc import Iterator
from http import HTTPStatus
from types import FrameType
from typing import Any

import attrs

from cefmt import (
    DEFAULT_LIMITS,
    CloudEvent,
    CloudEventError,
    PluginLoadError,
    UnknownCodecError,
    default_registry,
)

from ._common import CommandError, say
from ._options import count, port, seconds
from ._server import BoundedHandler, BoundedServer
from ._text import excerpt, printable_json

__all__ = ["add_parser", "run"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_MAX_BODY = 16 * 1024 * 1024
DEFAULT_MAX_CONNECTIONS = 512
DEFAULT_IDLE_TIMEOUT = 5.0
DEFAULT_REQUEST_TIMEOUT = 30.0
_REASON_LENGTH = 500  # characters of an error's text in an answer or a log line
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "listen",
        help="receive events over HTTP and print them",
        description="Receive CloudEvents over HTTP (binary, structured or batch mode, any installed format) "
        "and print each as a JSON line, or append it to --output. An event is acknowledged (202) only once "
        "written. Stops on SIGINT/SIGTERM, after --max-events events, or after --timeout seconds.",
    )
    parser.add_argument("--port", type=port, required=True, help="the port (0: any free port, printed on stderr)")
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"the address to listen on (default: {DEFAULT_HOST}, this machine only; 0.0.0.0 or :: for every "
        "interface)",
    )
    parser.add_argument("--output", metavar="FILE", help="append events to FILE as JSON Lines instead of stdout")
    parser.add_argument("--max-events", type=count, metavar="N", help="stop after N events")
    parser.add_argument("--timeout", type=seconds, metavar="SECONDS", help="stop after this many seconds")
    parser.add_argument(
        "--max-body-size",
        type=count,
        default=DEFAULT_MAX_BODY,
        metavar="BYTES",
        help=f"refuse larger bodies with 413 (default: {DEFAULT_MAX_BODY})",
    )
    parser.add_argument(
        "--max-connections",
        type=count,
        default=DEFAULT_MAX_CONNECTIONS,
        metavar="N",
        help=f"serve at most N connections at once; answer others 503 (default: {DEFAULT_MAX_CONNECTIONS})",
    )
    parser.add_argument(
        "--idle-timeout",
        type=seconds,
        default=DEFAULT_IDLE_TIMEOUT,
        metavar="SECONDS",
        help=f"close a connection with no request in progress after this long (default: {DEFAULT_IDLE_TIMEOUT:g})",
    )
    parser.add_argument(
        "--request-timeout",
        type=seconds,
        default=DEFAULT_REQUEST_TIMEOUT,
        metavar="SECONDS",
        help="answer 408 to a request (headers and body) not received whole this long after its first byte "
        f"(default: {DEFAULT_REQUEST_TIMEOUT:g})",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no line per request on stderr")
    parser.set_defaults(run=run, parser=parser)


# -- the output ---------------------------------------------------------------------------------------------------


def _appending(fd: int) -> bool:
    try:
        import fcntl  # noqa: PLC0415  # POSIX only

        return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND)
    except (ImportError, OSError):
        return False


class _Output:
    """JSON lines appended to a file descriptor, a whole request's worth per write, or nothing of it.

    When a write fails on a regular file, the file is cut back to where it ended, so a refused request
    leaves no partial line. Where that cannot be done (a pipe, a terminal, a device) and part was
    written, the output is *broken*: every later request is refused and listen stops.
    """

    def __init__(self, fd: int, *, owned: bool) -> None:
        self.fd = fd
        self.owned = owned
        self.regular = stat.S_ISREG(os.fstat(fd).st_mode)
        self.terminal = os.isatty(fd)
        self.appending = _appending(fd)
        self.broken = False

    def _end(self) -> int | None:
        # Where an undo would cut the file back to: its end, when that is where this write goes.
        if not self.regular:
            return None
        end = os.fstat(self.fd).st_size
        if self.appending:
            return end
        offset = os.lseek(self.fd, 0, os.SEEK_CUR)
        return offset if offset == end else None  # in the middle of a file, cutting would destroy what follows

    def append(self, data: bytes) -> None:
        """Write all of ``data``; on failure undo what was written where possible, and raise ``OSError``."""
        mark = self._end()
        written = 0
        view = memoryview(data)
        try:
            while written < len(data):
                written += os.write(self.fd, view[written:])
        except OSError:
            if written:
                self._undo(mark)
            raise

    def _undo(self, mark: int | None) -> None:
        if mark is None:
            self.broken = True
            return
        try:
            os.ftruncate(self.fd, mark)
            if not self.appending:
                os.lseek(self.fd, mark, os.SEEK_SET)
        except OSError:
            self.broken = True

    def close(self) -> None:
        if self.owned:
            os.close(self.fd)


def _open_output(path: str | None) -> _Output:
    if path is None:
        sys.stdout.flush()
        return _Output(sys.stdout.fileno(), owned=False)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        return _Output(fd, owned=True)
    except BaseException:
        os.close(fd)
        raise


# -- what the requests share ------------------------------------------------------------------------------------


@attrs.define
class _Refusal:
    status: HTTPStatus
    reason: str


class _Sink:
    """Where events go, and the counts; shared by the request threads."""

    def __init__(self, output: _Output, max_events: int | None) -> None:
        self.output = output
        self.max_events = max_events
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.events = 0
        self.requests = 0
        self.rejected = 0
        self.write_failures = 0
        self.active = 0
        self.idle = threading.Condition(self.lock)

    def full(self) -> bool:
        return self.max_events is not None and self.events >= self.max_events

    def take(self, events: list[CloudEvent]) -> _Refusal | None:
        """Write ``events`` as JSON lines, all or none; the refusal to answer when they were not written."""
        if not events:
            return None
        lines = []
        for number, event in enumerate(events, 1):
            try:
                lines.append(default_registry.encode(event, "json"))
            except (CloudEventError, ValueError, OverflowError, RecursionError) as exc:
                # ValueError and the like: a codec that let a foreign error out; the input still caused it.
                which = f"event {event.id!r}" if len(events) == 1 else f"event {number} ({event.id!r}) of the batch"
                return _Refusal(HTTPStatus.BAD_REQUEST, f"{which} cannot be written as JSON: {exc}")
        data = b"\n".join(lines) + b"\n"
        if self.output.terminal:
            data = printable_json(data.decode("utf-8")).encode("utf-8")
        with self.lock:
            if self.output.broken:
                return _Refusal(HTTPStatus.SERVICE_UNAVAILABLE, "the output failed; listen is stopping")
            if self.full():
                return _Refusal(HTTPStatus.SERVICE_UNAVAILABLE, "listen has its --max-events events and is stopping")
            try:
                self.output.append(data)
            except OSError as exc:
                self.write_failures += 1
                if self.output.broken or exc.errno == errno.EPIPE:
                    self.output.broken = True
                    self.stop.set()
                full = exc.errno in _DISK_FULL
                status = HTTPStatus.INSUFFICIENT_STORAGE if full else HTTPStatus.INTERNAL_SERVER_ERROR
                return _Refusal(status, f"cannot write the events: {exc.strerror or exc}")
            self.events += len(events)
            if self.full():
                self.stop.set()
        return None

    @contextlib.contextmanager
    def tracked(self) -> Iterator[None]:
        # Shutting down waits for requests in flight, so their answers and log lines are complete.
        with self.lock:
            self.active += 1
        try:
            yield
        finally:
            with self.lock:
                self.active -= 1
                self.idle.notify_all()


def _unsupported(exc: UnknownCodecError) -> str:
    # Event formats are the codecs with a media type of their own; bindings have none.
    formats = sorted({key[1] for key in exc.available if key[2] in ("structured", "batch") and _is_format(key)})
    mode = "" if exc.key[2] == "*" else f" ({exc.key[2]} mode)"
    return f"no installed codec reads the event format {exc.key[1]!r}{mode}; formats here: {', '.join(formats)}"


def _is_format(key: tuple[str, str, str]) -> bool:
    try:
        return default_registry.lookup(*key).media_type is not None
    except CloudEventError:
        return False


def _decoded(message: Any, limits: Any) -> list[CloudEvent] | _Refusal:
    try:
        result = default_registry.decode(message, "http", limits=limits)
    except UnknownCodecError as exc:
        return _Refusal(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, _unsupported(exc))
    except PluginLoadError as exc:
        return _Refusal(HTTPStatus.INTERNAL_SERVER_ERROR, str(exc))
    except (CloudEventError, ValueError, OverflowError, RecursionError) as exc:
        # ValueError and the like: a codec that let a foreign error out; the message still caused it.
        return _Refusal(HTTPStatus.BAD_REQUEST, str(exc) or type(exc).__name__)
    return [result] if isinstance(result, CloudEvent) else list(result)


def _handler(sink: _Sink, args: argparse.Namespace) -> type[BoundedHandler]:
    limits = attrs.evolve(DEFAULT_LIMITS, max_message_bytes=max(args.max_body_size, DEFAULT_LIMITS.max_message_bytes))

    class Handler(BoundedHandler):
        idle_timeout = args.idle_timeout
        request_timeout = args.request_timeout
        max_body = args.max_body_size

        def answered(self, status: HTTPStatus, text: str) -> None:
            with sink.lock:
                sink.requests += 1
                if status >= 400:
                    sink.rejected += 1
            if not args.quiet:
                path = self.path if len(self.path) <= 200 else self.path[:199] + "…"
                say("listen", f"{self.command or '-'} {path or '-'} -> {status.value} {text}".rstrip())

        def do_POST(self) -> None:
            with sink.tracked():
                body = self.read_body()
                if body is None:
                    return
                events = _decoded((self.headers.items(), body), limits)
                refusal = events if isinstance(events, _Refusal) else sink.take(events)
                if refusal is not None:
                    self.answer(refusal.status, excerpt(refusal.reason, _REASON_LENGTH))
                    return
                accepted = len(events) if isinstance(events, list) else 0
                if accepted:
                    text = json.dumps({"accepted": accepted})
                    self.answer(HTTPStatus.ACCEPTED, text, body=text.encode(), content_type="application/json")
                else:
                    self.answer(HTTPStatus.NO_CONTENT)

        def _not_allowed(self) -> None:
            with sink.tracked():
                self.answer(HTTPStatus.METHOD_NOT_ALLOWED, "send events with POST", headers=(("Allow", "POST"),))

        do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _not_allowed

    return Handler


# -- the command --------------------------------------------------------------------------------------------------


def _address(host: str, port_number: int) -> tuple[socket.AddressFamily, tuple[Any, ...]]:
    try:
        found = socket.getaddrinfo(host, port_number, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:
        raise CommandError(f"cannot listen on {host}:{port_number}: {getattr(exc, 'strerror', None) or exc}") from exc
    family, _, _, _, address = found[0]
    return family, address


def _url(address: tuple[Any, ...]) -> str:
    host = str(address[0])
    return f"http://[{host}]:{address[1]}/" if ":" in host else f"http://{host}:{address[1]}/"


def run(args: argparse.Namespace) -> int:
    family, address = _address(args.host, args.port)
    output = _open_output(args.output)
    sink = _Sink(output, args.max_events)
    try:
        server = BoundedServer(
            address,
            _handler(sink, args),
            family=family,
            max_connections=args.max_connections,
            on_error=lambda message: say("listen", message),
        )
    except OSError as exc:
        output.close()
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from exc

    def stop(signum: int, frame: FrameType | None) -> None:
        sink.stop.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    serving.start()
    say("listen", f"listening on {_url(server.server_address)}")
    try:
        sink.stop.wait(args.timeout)
    finally:
        server.shutdown()
        with sink.lock:  # let requests in flight finish their answers
            sink.idle.wait_for(lambda: sink.active == 0, timeout=5)
        server.server_close()
        output.close()
    summary = f"{sink.events} events in {sink.requests} requests, {sink.rejected} rejected"
    if server.refused:
        summary += f"; {server.refused} connections turned away over --max-connections"
    say("listen", summary)
    if sink.write_failures:
        say("listen", f"{sink.write_failures} requests were refused because the output could not be written")
        return 1
    return 0
