"""``cefmt listen --port N``: an HTTP sink on 127.0.0.1 that decodes events in any mode and format.

Answers: 202 with ``{"accepted": N}`` when events were taken, 204 for an empty batch, 400 with the
reason for a bad event, 411 without a Content-Length, 413 for a body over the limit, 415 for a format
no installed codec reads, 405 for any method but POST, 500 when the plugin for a format fails to load.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import IO, Any

from cefmt import CloudEvent, CloudEventError, PluginLoadError, UnknownCodecError, decode, encode

from ._common import CommandError, say

__all__ = ["add_parser", "run"]

HOST = "127.0.0.1"
DEFAULT_MAX_BODY = 16 * 1024 * 1024


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "listen",
        help="receive events over HTTP on 127.0.0.1 and print them",
        description="Receive CloudEvents over HTTP on 127.0.0.1 (binary, structured or batch mode, any "
        "installed format) and print each as a JSON line, or append it to --output. Stops on "
        "SIGINT/SIGTERM, after --max-events events, or after --timeout seconds.",
    )
    parser.add_argument("--port", type=int, required=True, help="the port (0: any free port, printed on stderr)")
    parser.add_argument("--output", metavar="FILE", help="append events to FILE as JSON Lines instead of stdout")
    parser.add_argument("--max-events", type=int, metavar="N", help="stop after N events")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", help="stop after this many seconds")
    parser.add_argument(
        "--max-body-size",
        type=int,
        default=DEFAULT_MAX_BODY,
        metavar="BYTES",
        help=f"refuse larger bodies with 413 (default: {DEFAULT_MAX_BODY})",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no line per request on stderr")
    parser.set_defaults(run=run, parser=parser)


class _Sink:
    """Where events go, and the counts; shared by the request threads."""

    def __init__(self, out: IO[bytes], max_events: int | None, quiet: bool) -> None:
        self.out = out
        self.max_events = max_events
        self.quiet = quiet
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.events = 0
        self.requests = 0
        self.rejected = 0
        self.active = 0
        self.idle = threading.Condition(self.lock)

    def take(self, events: list[CloudEvent]) -> None:
        lines = b"".join(encode(event, "json") + b"\n" for event in events)
        with self.lock:
            self.out.write(lines)
            self.out.flush()
            self.events += len(events)

    def full(self) -> bool:
        return self.max_events is not None and self.events >= self.max_events


def _unsupported(exc: UnknownCodecError) -> str:
    formats = sorted({key[1] for key in exc.available if key[2] in ("structured", "batch")} - {"http", "kafka"})
    mode = "" if exc.key[2] == "*" else f" ({exc.key[2]} mode)"
    return f"no installed codec reads the event format {exc.key[1]!r}{mode}; formats here: {', '.join(formats)}"


def _handler(sink: _Sink, max_body: int) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "cefmt-listen"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # the base class's name
            pass  # one line per request is written by _answer instead

        def _answer(self, status: HTTPStatus, text: str = "", payload: dict[str, Any] | None = None) -> None:
            body = b""
            content_type = "text/plain; charset=utf-8"
            if payload is not None:
                body = json.dumps(payload).encode("utf-8")
                content_type = "application/json"
            elif text:
                body = text.encode("utf-8") + b"\n"
            self.send_response(status)
            if status == HTTPStatus.METHOD_NOT_ALLOWED:
                self.send_header("Allow", "POST")
            if body:
                self.send_header("Content-Type", content_type)
            if status != HTTPStatus.NO_CONTENT:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            if not sink.quiet:
                note = text or (json.dumps(payload) if payload else "")
                say("listen", f"{self.command} {self.path} -> {status.value} {note}".rstrip())

        def do_POST(self) -> None:
            with sink.lock:
                sink.requests += 1
            with self._tracked():
                self._receive()

        @contextlib.contextmanager
        def _tracked(self) -> Iterator[None]:
            # Shutting down waits for requests in flight, so their answers and log lines are complete.
            with sink.lock:
                sink.active += 1
            try:
                yield
            finally:
                with sink.lock:
                    sink.active -= 1
                    sink.idle.notify_all()
                    if sink.full():
                        sink.stop.set()

        def _receive(self) -> None:
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit():
                self.close_connection = True
                if self.headers.get("Transfer-Encoding"):
                    self._reject(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
                else:
                    self._reject(HTTPStatus.LENGTH_REQUIRED, "a Content-Length header is required")
                return
            size = int(length)
            if size > max_body:
                self.close_connection = True
                self._reject(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body is over {max_body} bytes")
                return
            body = self.rfile.read(size)
            try:
                result = decode((self.headers.items(), body), "http")
            except UnknownCodecError as exc:
                self._reject(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, _unsupported(exc))
                return
            except PluginLoadError as exc:
                self._reject(HTTPStatus.INTERNAL_SERVER_ERROR, str(exc))
                return
            except CloudEventError as exc:
                self._reject(HTTPStatus.BAD_REQUEST, str(exc))
                return
            events = [result] if isinstance(result, CloudEvent) else list(result)
            sink.take(events)
            if events:
                self._answer(HTTPStatus.ACCEPTED, payload={"accepted": len(events)})
            else:
                self._answer(HTTPStatus.NO_CONTENT)

        def _reject(self, status: HTTPStatus, reason: str) -> None:
            with sink.lock:
                sink.rejected += 1
            self._answer(status, reason)

        def _not_allowed(self) -> None:
            with self._tracked():
                self._answer(HTTPStatus.METHOD_NOT_ALLOWED, "send events with POST")

        do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = _not_allowed

    return Handler


def run(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    if args.max_events is not None and args.max_events < 1:
        parser.error("--max-events must be at least 1")
    out: IO[bytes] = open(args.output, "ab") if args.output else sys.stdout.buffer  # noqa: SIM115
    sink = _Sink(out, args.max_events, args.quiet)
    try:
        server = ThreadingHTTPServer((HOST, args.port), _handler(sink, args.max_body_size))
    except OSError as exc:
        raise CommandError(f"cannot listen on {HOST}:{args.port}: {exc.strerror or exc}") from exc
    server.daemon_threads = True

    def stop(signum: int, frame: FrameType | None) -> None:
        sink.stop.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    serving.start()
    say("listen", f"listening on http://{HOST}:{server.server_address[1]}/")
    try:
        sink.stop.wait(args.timeout)
    finally:
        server.shutdown()
        with sink.lock:  # let requests in flight finish their answers
            sink.idle.wait_for(lambda: sink.active == 0, timeout=5)
        server.server_close()
        if args.output:
            out.close()
        else:
            out.flush()
    say("listen", f"{sink.events} events in {sink.requests} requests, {sink.rejected} rejected")
    return 0
