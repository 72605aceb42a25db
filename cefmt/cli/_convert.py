"""``cefmt convert IN OUT --from X --to Y``: any registered codec's stream to any other's."""

from __future__ import annotations

import argparse
import os
from typing import Any

from cefmt import CloudEventError
from cefmt.stream import DEFAULT_BATCH_SIZE, Stats, convert, output_mode, route
from cefmt.stream._files import DeadLetterFile, writing, written_in_place

from ._common import (
    Progress,
    Terminated,
    add_input_options,
    check_kind,
    compiled,
    data_types,
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
        nargs="?",
        help="the output file, written whole when the command completes (its folder is made); or - for "
        "stdout; a FIFO, a device or /dev/stdout is written as the events come. Not with --route",
    )
    parser.add_argument(
        "--where",
        metavar="EXPR",
        help="keep only the events this CloudEvents SQL expression is true for (docs/sql.md), "
        "e.g. \"type LIKE 'com.example.%%' AND EXISTS subject\"",
    )
    parser.add_argument(
        "--route",
        action="append",
        metavar="EXPR=OUT",
        help="send the events EXPR (CloudEvents SQL) is true for to OUT, in one pass over the input; "
        "repeat for more: each event goes to the first route it matches (the last = splits EXPR from OUT)",
    )
    parser.add_argument(
        "--otherwise",
        metavar="OUT",
        help="with --route: where the events that match no route go (without it they are left out)",
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
        "--workers",
        type=positive_int,
        default=None,
        metavar="N",
        help="convert on N processes: the input is cut into tasks of whole records here and the output written "
        "in input order, with the same errors, dead letters and counts as one process (default: the number of "
        "cores for a regular file; 1 for stdin or a FIFO, where each event goes out as it comes; an input "
        "that fits in one task stays in one process)",
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
    typed = data_types(parser, args.data_types)
    where = compiled(parser, "--where", args.where) if args.where is not None else None
    try:
        mode = output_mode(args.dst, args.mode, args.format)
    except CloudEventError as exc:
        parser.error(str(exc))
    if args.route or args.otherwise is not None:
        return _route(parser, args, policy, dead_letter, decoding={"extension_types": types, "data_type": typed,
                      "other_types": args.other_types, "where": where}, mode=mode)  # fmt: skip
    if args.output is None:
        parser.error("the output file OUT is required (or --route EXPR=OUT)")
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
        data_type=typed,
        other_types=args.other_types,
        where=where,
        max_record_size=args.max_record_size,
        workers=_workers(args.workers, args.input),
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


def _route(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    policy: str,
    dead_letter: str | None,
    *,
    decoding: dict[str, Any],
    mode: str,
) -> int:
    """``--route EXPR=OUT ... [--otherwise OUT]``: one pass over the input, each event to its first match."""
    if args.output is not None:
        parser.error("give the outputs with --route EXPR=OUT (and --otherwise OUT), not as OUT")
    routes = []
    for spec in args.route or []:
        expression, equals, target = spec.rpartition("=")
        if not equals or not expression.strip() or not target:
            parser.error(f"--route {spec!r}: expected EXPR=OUT")
        routes.append((compiled(parser, "--route", expression), target))
    targets = [target for _, target in routes] + ([args.otherwise] if args.otherwise is not None else [])
    if len(set(targets)) != len(targets):
        parser.error("each route needs an output of its own; a file is named twice")
    for target in targets:
        dead_letter_refused(parser, dead_letter, args.input, target)
        if target == "-":
            parser.error("routed outputs are files: - (stdout) cannot be one")
    stats = Stats()
    try:
        route(
            input_source(args.input),
            routes,
            otherwise=args.otherwise,
            src=args.src,
            dst=args.dst,
            mode=mode,
            format=args.format,
            batch_size=args.batch_size,
            on_error=policy,
            dead_letter=dead_letter,
            stats=stats,
            max_record_size=args.max_record_size,
            **decoding,
        )
    except CloudEventError as exc:
        say("convert", str(exc))
        say("convert", f"stopped after {stats.summary()}; the outputs are unchanged")
        return 1
    except (KeyboardInterrupt, Terminated) as exc:
        name = "SIGINT" if isinstance(exc, KeyboardInterrupt) else exc.name
        say("convert", f"stopped by {name} after {stats.summary()}; the outputs are unchanged")
        raise
    if not args.quiet:
        say("convert", stats.summary())
    return 0


def _workers(asked: int | None, path: str) -> int:
    """``--workers``, or its default: every core for a regular file, one process for a stream (stdin, a FIFO),
    which gathers no tasks of records and so hands each event on as it comes."""
    if asked is not None:
        return asked
    return (os.cpu_count() or 1) if path != "-" and os.path.isfile(path) else 1


def _left(output: str, dead: DeadLetterFile | None) -> str:
    """What a run that stopped left behind, in words."""
    if written_in_place(output):
        what = f"{'stdout' if output == '-' else output} has what was written before"
    else:
        what = f"{output} is unchanged"
    if dead is not None:
        what += f", no dead letters were appended to {dead.path}"
    return what
