"""``cefmt inspect FILE``: the events of a stream as a table for people, bad records marked where they are."""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from cefmt import CloudEvent, CloudEventError
from cefmt.codec import canonical_string
from cefmt.stream import BadRecord, Stats, read_events, read_records

from ._common import (
    CommandError,
    add_input_options,
    check_kind,
    data_types,
    dead_letter_refused,
    error_policy,
    extension_types,
    input_source,
    non_negative_int,
    say,
)
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
        description="Print the events of a stream as a table: attributes, a preview of the data, extensions. "
        "A bad record is a row marked BAD, with its position and error, where it sits in the stream.",
    )
    parser.add_argument("input", metavar="FILE", help="the file to show, or - for stdin")
    add_input_options(parser, mark=True)
    parser.add_argument(
        "-n", "--limit", type=non_negative_int, metavar="N", help="show the first N rows only (events and bad records)"
    )
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


_BAD = "BAD"  # the first cell of a bad record's row


def _bad(bad: BadRecord) -> str:
    return f"{bad.position}: {bad.error} [{type(bad.error).__name__}]"


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


def table(rows: Iterable[CloudEvent | BadRecord]) -> Iterator[str]:
    """The lines of a table of events, and of bad records (a row marked ``BAD`` with the position and the
    error); widths fit the first rows, so any number of them streams.

    >>> from cefmt import CloudEvent
    >>> lines = list(table([CloudEvent(id="1", source="/s", type="t", data=b"ab")]))
    >>> lines[0].split()[:4], lines[2].split()[:3]
    (['#', 'SPEC', 'ID', 'TYPE'], ['1', '1.0', '1'])
    """
    numbered = _numbered(rows)
    first = [
        row if isinstance(row, str) else [_cut(cell, limit) for cell, (_, limit) in zip(row, COLUMNS, strict=True)]
        for row in itertools.islice(numbered, _BLOCK)
    ]
    cells = [row for row in first if not isinstance(row, str)]
    widths = [max([len(heading), *(len(row[index]) for row in cells)]) for index, (heading, _) in enumerate(COLUMNS)]
    widths[0] = max(widths[0], len(_BAD))

    def line(row: list[str] | str) -> str:
        if isinstance(row, str):
            return f"{_BAD.ljust(widths[0])}  {row}"
        return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()

    yield line([heading for heading, _ in COLUMNS])
    yield line(["-" * width for width in widths])
    for row in first:
        yield line(row)
    for row in numbered:
        if isinstance(row, str):
            yield line(row)
        else:
            yield line([row[0], *(_cut(cell, width) for cell, width in zip(row[1:], widths[1:], strict=True))])


def _numbered(rows: Iterable[CloudEvent | BadRecord]) -> Iterator[list[str] | str]:
    """Each event as its cells (numbered from 1), each bad record as its text."""
    number = 0
    for row in rows:
        if isinstance(row, BadRecord):
            yield _bad(row)
        else:
            number += 1
            yield _row(number, row)


def _up_to_the_first_bad(
    rows: Iterator[CloudEvent | BadRecord], bad: list[BadRecord]
) -> Iterator[CloudEvent | BadRecord]:
    """The rows up to the first bad record (kept in ``bad``), which ends them."""
    for row in rows:
        yield row
        if isinstance(row, BadRecord):
            bad.append(row)
            return


def run(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    check_kind(parser, args.src, "--from")
    policy, dead_letter = error_policy(parser, args)
    dead_letter_refused(parser, dead_letter, args.input)
    options: dict[str, Any] = {
        "stats": Stats(),
        "extension_types": extension_types(parser, args.extension_type),
        "data_type": data_types(parser, args.data_types),
        "other_types": args.other_types,
        "max_record_size": args.max_record_size,
    }
    stats: Stats = options["stats"]
    source = input_source(args.input)
    stopped_at: list[BadRecord] = []
    rows: Iterator[CloudEvent | BadRecord]
    if policy in ("mark", "fail"):
        rows = read_records(source, args.src, **options)
        if policy == "fail":
            rows = _up_to_the_first_bad(rows, stopped_at)
    else:
        rows = read_events(source, args.src, on_error=policy, dead_letter=dead_letter, **options)
    shown = itertools.islice(rows, args.limit) if args.limit is not None else rows
    try:
        for text in table(shown):
            sys.stdout.write(text + "\n")
    except CloudEventError as exc:  # the framing broke: the rows before it are out
        sys.stdout.flush()
        raise CommandError(str(exc)) from exc
    finally:
        rows.close()  # type: ignore[attr-defined]  # a generator: ends the reading, hands on its dead letters
    sys.stdout.flush()
    if stopped_at:
        say("inspect", f"stopped at the first bad record: {_bad(stopped_at[0])}")
        return 1
    if policy == "mark" and stats.dead_lettered:
        say("inspect", f"{stats.dead_lettered} bad records, marked {_BAD}")
    elif stats.skipped or stats.dead_lettered:
        say("inspect", f"{stats.skipped} bad records skipped, {stats.dead_lettered} dead-lettered")
    return 0
