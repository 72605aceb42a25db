"""``cefmt send URL FILE --mode binary|structured|batch``: POST the events of a file, one request each
(or one per batch)."""

from __future__ import annotations

import argparse
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from cefmt import CloudEventError
from cefmt.stream import DEFAULT_BATCH_SIZE, Stats, encode_events, output_mode, read_events

from ._common import CommandError, add_input_options, check_kind, error_policy, extension_types, input_source, say

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "send",
        help="POST the events of a file to an HTTP endpoint",
        description="POST every event of FILE to URL in the chosen HTTP mode. Rejected requests are reported "
        "with their status and reason on stderr, and make the exit status 1.",
    )
    parser.add_argument("url", metavar="URL", help="an http:// or https:// URL")
    parser.add_argument("input", metavar="FILE", help="the events to send, or - for stdin")
    add_input_options(parser)
    parser.add_argument("--mode", choices=["binary", "structured", "batch"], default="binary", help="(default: binary)")
    parser.add_argument("--format", help="the event format for structured and batch modes (default: json)")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"events per request in batch mode (default: {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help="per request (default: 10)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    parser.set_defaults(run=run, parser=parser)


def _post(url: str, headers: dict[str, str], body: bytes, timeout: float) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # scheme checked in run
            response.read()
            return int(response.status), ""
    except urllib.error.HTTPError as exc:
        reason = exc.read(2000).decode("utf-8", "replace").strip()
        return exc.code, reason or str(exc.reason)


def run(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    if urlsplit(args.url).scheme not in ("http", "https"):
        parser.error(f"URL {args.url!r}: only http:// and https:// URLs")
    check_kind(parser, args.src, "--from")
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    try:
        output_mode("http", args.mode, args.format if args.mode != "binary" else None)
    except CloudEventError as exc:
        parser.error(str(exc))
    policy, dead_letter = error_policy(parser, args)
    stats = Stats()
    events = read_events(
        input_source(args.input),
        args.src,
        on_error=policy,
        dead_letter=dead_letter,
        stats=stats,
        extension_types=extension_types(parser, args.extension_type),
        max_record_size=args.max_record_size,
    )
    messages = encode_events(
        events,
        "http",
        args.mode,
        format=args.format if args.mode != "binary" else None,
        batch_size=args.batch_size,
        on_error=policy,
        dead_letter=dead_letter,
        stats=stats,
    )
    requests = accepted = rejected = 0
    try:
        for message in messages:
            requests += 1
            try:
                status, reason = _post(args.url, message.headers, message.body, args.timeout)
            except (urllib.error.URLError, OSError) as exc:
                why = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                raise CommandError(f"request {requests}: cannot reach {args.url}: {why}") from exc
            if 200 <= status < 300:
                accepted += 1
            else:
                rejected += 1
                say("send", f"request {requests}: HTTP {status}: {reason}")
    except CloudEventError as exc:
        raise CommandError(str(exc)) from exc
    if not args.quiet:
        say(
            "send",
            f"{stats.events_out} events in {requests} requests: {accepted} accepted, {rejected} rejected; "
            f"{stats.skipped} skipped, {stats.dead_lettered} dead-lettered",
        )
    return 1 if rejected else 0
