"""``cefmt validate FILE``: check every record, report each bad one with its position, attribute and rule."""

from __future__ import annotations

import argparse
import json

from cefmt import CloudEventError, MalformedMessageError, UnsupportedSpecVersionError
from cefmt.stream import BadRecord, Stats, read_events, stream_kinds

from ._common import CommandError, add_input_options, check_kind, data_types, extension_types, input_source, say
from ._text import printable, printable_json

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "validate",
        help="check every event of a file; exit 1 when any record is bad",
        description="Decode every record and check it against its CloudEvents spec version. Each bad "
        "record is reported on stdout with its position, the attribute and the rule it breaks; the exit "
        "status is 1 when any record is bad.",
    )
    parser.add_argument("input", metavar="FILE", help="the file to check, or - for stdin")
    add_input_options(parser, errors=False)
    parser.add_argument("--json", action="store_true", help="report bad records as JSON Lines")
    parser.set_defaults(run=run, parser=parser)


def _report(name: str, bad: BadRecord) -> str:
    error = bad.error
    attribute = getattr(error, "attribute", None)
    rule = getattr(error, "rule", None)
    if attribute is not None and rule is not None:
        where = f" ({error.location})" if error.location else ""
        detail = f"attribute {attribute!r}{where}: {rule}"
        value = getattr(error, "value", None)
        if value is not None:
            detail += f" (got {value!r})"[:200]
    elif isinstance(error, UnsupportedSpecVersionError):
        detail = f"attribute 'specversion': {error}"
    else:
        detail = str(error)
    return f"{name}: {bad.position}: {detail} [{type(error).__name__}]"


def _no_kind(name: str, src: str) -> None:
    """Not one record could be read as ``src``: the file may be of another kind; say which there are."""
    say(
        "validate",
        f"{name}: no record could be read as --from {src}; the stream kinds here are "
        f"{', '.join(stream_kinds())} (pick one with --from KIND)",
    )


def run(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    check_kind(parser, args.src, "--from")
    types = extension_types(parser, args.extension_type)
    name = "<stdin>" if args.input == "-" else args.input
    stats = Stats()

    unreadable = 0  # bad records that could not even be read as the kind (not JSON, not msgpack ...)

    def report(bad: BadRecord) -> None:
        nonlocal unreadable
        if isinstance(bad.error, MalformedMessageError):
            unreadable += 1
        if args.json:
            print(printable_json(json.dumps({"file": name, **bad.to_dict()}, ensure_ascii=False)), flush=True)
        else:
            print(printable(_report(name, bad)), flush=True)

    events = read_events(
        input_source(args.input),
        args.src,
        on_error="dead_letter",
        dead_letter=report,
        stats=stats,
        extension_types=types,
        data_type=data_types(parser, args.data_types),
        other_types=args.other_types,
        max_record_size=args.max_record_size,
    )
    try:
        for _ in events:
            pass
    except CloudEventError as exc:  # the framing broke: nothing after this point can be read
        print(printable(f"{name}: {exc} [{type(exc).__name__}]"), flush=True)
        if stats.events_in == 0:
            _no_kind(name, args.src)
        raise CommandError(f"{name}: checked {stats.records} records before the stream broke") from exc
    bad = stats.dead_lettered
    if bad and stats.events_in == 0 and unreadable == bad:
        _no_kind(name, args.src)
    summary = f"{name}: {stats.records} records, {stats.records - bad} valid, {bad} bad ({stats.events_in} events)"
    if not args.json:
        print(printable(summary), flush=True)
    return 1 if bad else 0
