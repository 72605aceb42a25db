"""``cefmt send URL FILE --mode binary|structured|batch``: POST the events of a file, one request each
(or one per batch), with retries; every event not delivered is named, and kept in ``--dead-letter``."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import attrs

from cefmt import CloudEvent, CloudEventError, default_registry
from cefmt.codec import dump_json
from cefmt.stream import DEFAULT_BATCH_SIZE, BadRecord, Position, RecordError, Stats, output_mode, read_events

from ._client import Connection, Outcome, post
from ._common import add_input_options, check_kind, error_policy, extension_types, input_source, say
from ._options import count, header, non_negative, seconds

__all__ = ["DeliveryError", "add_parser", "run"]

DEFAULT_RETRIES = 3
DEFAULT_TIMEOUT = 10.0
_IDS_SHOWN = 10  # event ids listed in the summary; the rest are counted

#: (the event's number among the events read, the event)
Numbered = tuple[int, CloudEvent]


class DeliveryError(CloudEventError):
    """An event the receiver refused, or that could not be delivered: the error of its dead-letter record."""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "send",
        help="POST the events of a file to an HTTP endpoint",
        description="POST every event of FILE to URL in the chosen HTTP mode. Connection failures, timeouts "
        "and the answers 429 and 5xx are retried with backoff (honouring Retry-After). Each event not "
        "delivered is reported by id on stderr, and written to --dead-letter when given; any makes the exit "
        "status 1. When the receiver cannot be reached after the retries, sending stops.",
    )
    parser.add_argument("url", metavar="URL", help="an http:// or https:// URL")
    parser.add_argument("input", metavar="FILE", help="the events to send, or - for stdin")
    add_input_options(parser)
    parser.add_argument("--mode", choices=["binary", "structured", "batch"], default="binary", help="(default: binary)")
    parser.add_argument("--format", help="the event format for structured and batch modes (default: json)")
    parser.add_argument(
        "--batch-size",
        type=count,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"events per request in batch mode (default: {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="for each attempt of a request, from connecting to the last byte of the answer "
        f"(default: {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--retries",
        type=non_negative,
        default=DEFAULT_RETRIES,
        metavar="N",
        help=f"retry a request up to N times (default: {DEFAULT_RETRIES}; 0: never)",
    )
    parser.add_argument(
        "--header",
        type=header,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="add this header to every request (Authorization=..., for example); repeat for more",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary")
    parser.set_defaults(run=run, parser=parser)


# -- messages and the events in them --------------------------------------------------------------------------


def _messages(
    events: Iterable[CloudEvent], mode: str, options: dict[str, Any], batch_size: int, bad: Callable[..., None]
) -> Iterator[tuple[Any, list[Numbered]]]:
    """Each HTTP message with the events it holds; an event that cannot be encoded goes to ``bad``.

    A batch holds events of one spec version, in their order (each version fills its own batches).
    """
    numbered = enumerate(events, 1)
    if mode != "batch":
        for number, event in numbered:
            try:
                message = default_registry.encode(event, "http", mode, **options)
            except CloudEventError as exc:
                bad(number, event, exc)
                continue
            yield message, [(number, event)]
        return
    pending: dict[str, list[Numbered]] = {}
    for number, event in numbered:
        group = pending.setdefault(event.specversion, [])
        group.append((number, event))
        if len(group) >= batch_size:
            del pending[event.specversion]
            yield from _batch(group, options, bad)
    for group in pending.values():
        yield from _batch(group, options, bad)


def _batch(
    group: list[Numbered], options: dict[str, Any], bad: Callable[..., None]
) -> Iterator[tuple[Any, list[Numbered]]]:
    try:
        message = default_registry.encode([event for _, event in group], "http", "batch", **options)
    except CloudEventError as batch_error:
        # Find the events that fail on their own; the others still go, as one batch.
        good = []
        for number, event in group:
            try:
                default_registry.encode([event], "http", "batch", **options)
            except CloudEventError as exc:
                bad(number, event, exc)
            else:
                good.append((number, event))
        if len(good) == len(group):  # each encodes alone but not together: all share the blame
            for number, event in group:
                bad(number, event, batch_error)
        elif good:
            yield from _batch(good, options, bad)
        return
    yield message, group


def _as_json(event: CloudEvent) -> bytes | None:
    try:
        return bytes(default_registry.encode(event, "json"))
    except CloudEventError:
        return None


def _which(items: list[Numbered]) -> str:
    if len(items) == 1:
        return f"event {items[0][1].id!r}"
    return f"batch of {len(items)} events ({items[0][1].id!r} to {items[-1][1].id!r})"


# -- what happened ------------------------------------------------------------------------------------------------


class _DeadLetters:
    """Bad and undelivered records appended to the ``--dead-letter`` file, one JSON line each, as convert writes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.count = 0
        self._file: BinaryIO | None = None

    def __call__(self, bad: BadRecord) -> None:
        if self._file is None:
            self._file = open(self.path, "ab")  # noqa: SIM115  # closed by close(), at the end of the run
        self._file.write(dump_json(bad.to_dict(), "dead letter") + b"\n")
        self._file.flush()
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


@attrs.define
class _Tally:
    requests: int = 0
    events: int = 0
    accepted: int = 0
    rejected: int = 0
    failed: int = 0
    retries: int = 0
    undelivered: list[str] = attrs.field(factory=list)  # the first ids, for the summary
    undelivered_count: int = 0

    def lost(self, items: list[Numbered]) -> None:
        self.undelivered_count += len(items)
        room = _IDS_SHOWN - len(self.undelivered)
        self.undelivered.extend(repr(event.id) for _, event in items[:room])


def _counted(number: int, thing: str, things: str) -> str:
    return f"{number} {thing if number == 1 else things}"


def _report(outcome: Outcome) -> str:
    after = f" (after {_counted(outcome.retries, 'retry', 'retries')})" if outcome.retries else ""
    if outcome.reply is not None:
        return f"refused: HTTP {outcome.reply.status}: {outcome.reply.reason}{after}"
    return f"not delivered: {outcome.error}{after}"


# -- the command --------------------------------------------------------------------------------------------------


def _check_url(parser: argparse.ArgumentParser, url: str) -> None:
    if not url.isascii() or any(char.isspace() or not char.isprintable() for char in url):
        parser.error(f"URL {url!r}: percent-encode spaces, control characters and non-ASCII characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        parser.error(f"URL {url!r}: only http:// and https:// URLs")
    try:
        parts.port  # noqa: B018  # parsing the port checks it
    except ValueError as exc:
        parser.error(f"URL {url!r}: {exc}")
    if not parts.hostname:
        parser.error(f"URL {url!r}: no host")


def run(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    _check_url(parser, args.url)
    check_kind(parser, args.src, "--from")
    format_name = args.format if args.mode != "binary" else None
    try:
        output_mode("http", args.mode, format_name)
    except CloudEventError as exc:
        parser.error(str(exc))
    policy, dead_letter_path = error_policy(parser, args)
    dead = _DeadLetters(dead_letter_path) if dead_letter_path else None
    stats = Stats()
    events = read_events(
        input_source(args.input),
        args.src,
        on_error=policy,
        dead_letter=dead,
        stats=stats,
        extension_types=extension_types(parser, args.extension_type),
        max_record_size=args.max_record_size,
    )

    def bad(number: int, event: CloudEvent, exc: CloudEventError) -> None:
        record = BadRecord(Position(number), "encode", exc, _as_json(event))
        if policy == "fail":
            raise RecordError(record) from exc
        if dead is None:
            stats.skipped += 1
        else:
            dead(record)

    def undelivered(items: list[Numbered], why: str) -> None:
        tally.lost(items)
        if dead is not None:
            for number, event in items:
                dead(BadRecord(Position(number), "send", DeliveryError(why), _as_json(event)))

    tally = _Tally()
    failed_record = False
    stopped = ""
    connection = Connection(args.url, timeout=args.timeout, headers=args.header)
    messages = _messages(events, args.mode, {"format": format_name} if format_name else {}, args.batch_size, bad)
    try:
        for message, items in messages:
            tally.requests += 1
            tally.events += len(items)
            outcome = post(connection, message.headers, message.body, retries=args.retries)
            tally.retries += outcome.retries
            if outcome.delivered:
                tally.accepted += 1
                continue
            report = _report(outcome)
            say("send", f"{_which(items)}: {report}")
            undelivered(items, report)
            if outcome.reply is not None:
                tally.rejected += 1
                continue
            tally.failed += 1
            stopped = f"stopped: no HTTP answer from {args.url}"
            if dead is None:
                stopped += "; the rest of the input was not sent"
                break
            rest = 0
            for _, later in messages:  # the rest goes to the dead-letter file, so nothing is lost
                undelivered(later, f"not sent: sending stopped when {args.url} gave no HTTP answer")
                rest += len(later)
            stopped += f"; the {rest} events after it were not sent" if rest else ""
            break
    except CloudEventError as exc:  # a bad record under --on-error fail, or a stream that broke
        say("send", str(exc))
        failed_record = True
    finally:
        connection.close()
        if dead is not None:
            dead.close()
    if not args.quiet:
        dead_count = dead.count if dead is not None else 0
        say(
            "send",
            f"{tally.events} events in {tally.requests} requests: {tally.accepted} accepted, {tally.rejected} "
            f"rejected, {tally.failed} failed, {_counted(tally.retries, 'retry', 'retries')}; {stats.skipped} "
            f"skipped, {dead_count} dead-lettered",
        )
        if tally.undelivered_count:
            more = tally.undelivered_count - len(tally.undelivered)
            ids = ", ".join(tally.undelivered) + (f" and {more} more" if more else "")
            where = f" (in {dead_letter_path})" if dead is not None else ""
            say("send", f"not delivered{where}: {tally.undelivered_count} events: {ids}")
        if stopped:
            say("send", stopped)
    return 1 if (tally.undelivered_count or failed_record or stopped) else 0
