"""``cefmt inspect FILE``: the events of a stream as a table for people."""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from cefmt import CloudEvent, CloudEventError
from cefmt.codec import canonical_string
from cefmt.stream import Stats, read_events

from ._common import CommandError, add_input_options, check_kind, error_policy, extension_types, input_source, say
from ._text import printable

__all__ = ["add_parser", "run", "table"]

# (heading, widest cell): wider cells are cut with an ellipsis.
COLUMNS = (
    ("#", 7),
    ("SPEC", 4),
    ("ID", 36),
    ("TYPE", 40),
    ("SOURCE", 34),
    ("TIME", 35),
    ("CONTENT TYPE", 26),
    ("DATA", 40),
    ("EXTENSIONS", 60),
)
_BLOCK = 100  # rows whose widths set the table's widths


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "inspect",
        help="show the events of a stream as a table",
        description="Print the events of a stream as a table: attributes, a preview of the data, extensions.",
    )
    parser.add_argument("input", metavar="FILE", help="the file to show, or - for stdin")
    add_input_options(parser)
    parser.add_argument("-n", "--limit", type=int, metavar="N", help="show the first N events only")
    parser.set_defaults(run=run, parser=parser)


def _cut(text: str, width: int) -> str:
    text = printable(text.replace("\t", " "))
    return text if len(text) <= width else text[: width - 1] + "…"


def _data(event: CloudEvent) -> str:
    data = event.data
    if data is None:
        return "-"
    if type(data) is bytes:
        return f"<{len(data)} bytes> {data[:12].hex(' ')}"
    if type(data) is str:
        return repr(data)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _row(number: int, event: CloudEvent) -> list[str]:
    extensions = ", ".join(f"{name}={canonical_string(value)}" for name, value in event.extensions.items())
    return [
        str(number),
        event.specversion,
        event.id,
        event.type,
        event.source,
        str(event.time) if event.time is not None else "-",
        event.datacontenttype or "-",
        _data(event),
        extensions or "-",
    ]


def table(events: Iterable[CloudEvent]) -> Iterator[str]:
    """The lines of a table of ``events``; widths fit the first rows, so any number of events streams.

    >>> from cefmt import CloudEvent
    >>> lines = list(table([CloudEvent(id="1", source="/s", type="t", data=b"ab")]))
    >>> lines[0].split()[:4], lines[2].split()[:3]
    (['#', 'SPEC', 'ID', 'TYPE'], ['1', '1.0', '1'])
    """
    rows = (_row(number, event) for number, event in enumerate(events, 1))
    first = [
        [_cut(cell, limit) for cell, (_, limit) in zip(row, COLUMNS, strict=True)]
        for row in itertools.islice(rows, _BLOCK)
    ]
    widths = [max([len(heading), *(len(row[index]) for row in first)]) for index, (heading, _) in enumerate(COLUMNS)]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    yield line([heading for heading, _ in COLUMNS])
    yield line(["-" * width for width in widths])
    for row in first:
        yield line(row)
    for row in rows:
        yield line([row[0], *(_cut(cell, width) for cell, width in zip(row[1:], widths[1:], strict=True))])


def run(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    check_kind(parser, args.src, "--from")
    policy, dead_letter = error_policy(parser, args)
    stats = Stats()
    events: Any = read_events(
        input_source(args.input),
        args.src,
        on_error=policy,
        dead_letter=dead_letter,
        stats=stats,
        extension_types=extension_types(parser, args.extension_type),
        max_record_size=args.max_record_size,
    )
    if args.limit is not None:
        events = itertools.islice(events, args.limit)
    try:
        for text in table(events):
            sys.stdout.write(text + "\n")
    except CloudEventError as exc:
        sys.stdout.flush()
        raise CommandError(str(exc)) from exc
    sys.stdout.flush()
    if stats.skipped or stats.dead_lettered:
        say("inspect", f"{stats.skipped} bad records skipped, {stats.dead_lettered} dead-lettered")
    return 0
