"""``cefmt convert IN OUT --from X --to Y``: any registered codec's stream to any other's."""

from __future__ import annotations

import argparse
import os

from cefmt import CloudEventError
from cefmt.stream import DEFAULT_BATCH_SIZE, Stats, convert, output_mode
from cefmt.stream._files import DeadLetterFile, writing, written_in_place

from ._common import (
    Progress,
    Terminated,
    add_input_options,
    check_kind,
    dead_letter_refused,
    error_policy,
    extension_types,
    input_source,
    positive_int,
    say,
)

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "convert",
        help="convert a stream of events from one codec to another",
        description="Convert a stream of events, record by record in bounded memory. Each bad record "
        "follows --on-error; a summary line goes to stderr at the end.",
    )
    parser.add_argument("input", metavar="IN", help="the input file, or - for stdin")
    parser.add_argument(
        "output",
        metavar="OUT",
        help="the output file, written whole when the command completes (its folder is made); or - for "
        "stdout; a FIFO, a device or /dev/stdout is written as the events come",
    )
    add_input_options(parser)
    parser.add_argument("--to", dest="dst", required=True, metavar="KIND", help="the output stream kind")
    parser.add_argument(
        "--mode",
        help="the output mode: structured (default for formats), binary (default for http and kafka) or batch",
    )
    parser.add_argument("--format", help="the event format of http/kafka structured and batch modes (default: json)")
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"events per batch in batch mode (default: {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument(
        "--progress",
        choices=["auto", "always", "never"],
        default="auto",
        help="a progress bar on stderr: auto shows one on a terminal for jobs over a second (default: auto)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    parser.set_defaults(run=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    parser: argparse.ArgumentParser = args.parser
    check_kind(parser, args.src, "--from")
    check_kind(parser, args.dst, "--to")
    policy, dead_letter = error_policy(parser, args)
    types = extension_types(parser, args.extension_type)
    try:
        mode = output_mode(args.dst, args.mode, args.format)
    except CloudEventError as exc:
        parser.error(str(exc))
    dead_letter_refused(parser, dead_letter, args.input, args.output)
    source = input_source(args.input)
    dead = DeadLetterFile(dead_letter) if dead_letter is not None else None
    stats = Stats()
    chunks = convert(
        source,
        args.src,
        args.dst,
        mode,
        format=args.format,
        batch_size=args.batch_size,
        on_error=policy,
        dead_letter=dead,
        stats=stats,
        extension_types=types,
        max_record_size=args.max_record_size,
    )
    total = os.path.getsize(args.input) if args.input != "-" and os.path.isfile(args.input) else None
    progress = Progress(args.progress, total, stats)
    try:
        with writing(args.output, dead) as out:
            for chunk in chunks:
                out.write(chunk)
                progress.update()
    except CloudEventError as exc:  # a record under --on-error fail, or a broken stream
        progress.close()
        say("convert", str(exc))
        say("convert", f"stopped after {stats.summary()}; {_left(args.output, dead)}")
        return 1
    except (KeyboardInterrupt, Terminated) as exc:
        progress.close()
        name = "SIGINT" if isinstance(exc, KeyboardInterrupt) else exc.name
        say("convert", f"stopped by {name} after {stats.summary()}; {_left(args.output, dead)}")
        raise
    finally:
        progress.close()
    if not args.quiet:
        say("convert", stats.summary())
    return 0


def _left(output: str, dead: DeadLetterFile | None) -> str:
    """What a run that stopped left behind, in words."""
    if written_in_place(output):
        what = f"{'stdout' if output == '-' else output} has what was written before"
    else:
        what = f"{output} is unchanged"
    if dead is not None:
        what += f", no dead letters were appended to {dead.path}"
    return what
