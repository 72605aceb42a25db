"""What the commands share: input and output files, stream-kind options, messages, the progress bar."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from cefmt import CloudEventError, Timestamp, UnknownCodecError
from cefmt.stream import DEFAULT_MAX_RECORD_SIZE, Stats, stream_kind, stream_kinds

from ._options import count
from ._text import printable

__all__ = [
    "CommandError",
    "Progress",
    "add_input_options",
    "check_kind",
    "extension_types",
    "input_source",
    "output_file",
    "say",
]

EXTENSION_TYPES: dict[str, type] = {"str": str, "int": int, "bool": bool, "bytes": bytes, "timestamp": Timestamp}


class CommandError(Exception):
    """A failure to report in one line on stderr, with an exit code (1 unless told)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def say(command: str, message: str) -> None:
    """One line on stderr, prefixed with the command's name; control characters in it are escaped."""
    print(f"cefmt {command}: {printable(message)}", file=sys.stderr, flush=True)


def check_kind(parser: argparse.ArgumentParser, name: str, option: str) -> str:
    """``name`` if it is a stream kind of the installed codecs; a usage error (exit 2) otherwise."""
    try:
        stream_kind(name)
    except UnknownCodecError:
        parser.error(f"{option} {name}: no codec registered for it; stream kinds here: {', '.join(stream_kinds())}")
    except CloudEventError as exc:
        parser.error(f"{option} {name}: {exc}")
    return name


def extension_types(parser: argparse.ArgumentParser, specs: list[str] | None) -> dict[str, type] | None:
    """``["seq=int", "at=timestamp"]`` as the ``extension_types`` mapping of the decoders."""
    if not specs:
        return None
    found: dict[str, type] = {}
    for spec in specs:
        name, _, kind = spec.partition("=")
        if not name or kind not in EXTENSION_TYPES:
            parser.error(f"--extension-type {spec!r}: expected NAME=TYPE, TYPE one of {', '.join(EXTENSION_TYPES)}")
        found[name] = EXTENSION_TYPES[kind]
    return found


def add_input_options(parser: argparse.ArgumentParser, *, errors: bool = True) -> None:
    """``--from``, ``--extension-type``, ``--max-record-size`` and, when asked, the error policy options."""
    parser.add_argument(
        "--from",
        dest="src",
        default="json",
        metavar="KIND",
        help="the input stream kind: json (JSON Lines), json-array, msgpack, http, kafka, or another "
        "registered format (default: json)",
    )
    parser.add_argument(
        "--extension-type",
        action="append",
        metavar="NAME=TYPE",
        help="read extension NAME as TYPE (str, int, bool, bytes, timestamp) where the input carries "
        "it as a string; repeat for more",
    )
    parser.add_argument(
        "--max-record-size",
        type=count,
        default=DEFAULT_MAX_RECORD_SIZE,
        metavar="BYTES",
        help=f"the longest input record accepted (default: {DEFAULT_MAX_RECORD_SIZE})",
    )
    if errors:
        parser.add_argument(
            "--on-error",
            choices=["fail", "skip", "dead-letter"],
            default=None,
            help="what a bad record does: stop the command (fail, the default), be counted and "
            "dropped (skip), or be written with its error to --dead-letter (dead-letter)",
        )
        parser.add_argument(
            "--dead-letter",
            metavar="FILE",
            help="append bad records here as JSON Lines (implies --on-error dead-letter)",
        )


def error_policy(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[str, str | None]:
    """The (policy, dead-letter file) pair from the options, checked."""
    policy = args.on_error or ("dead-letter" if args.dead_letter else "fail")
    if policy == "dead-letter" and not args.dead_letter:
        parser.error("--on-error dead-letter needs --dead-letter FILE")
    if args.dead_letter and policy != "dead-letter":
        parser.error(f"--dead-letter goes with --on-error dead-letter, not {policy}")
    return policy.replace("-", "_"), args.dead_letter


def input_source(path: str) -> Any:
    """A path to read, or the standard input's bytes for ``-``."""
    if path == "-":
        return sys.stdin.buffer
    if not os.path.exists(path):
        raise CommandError(f"{path}: no such file")
    return path


@contextlib.contextmanager
def output_file(path: str) -> Iterator[IO[bytes]]:
    """The file to write: standard output for ``-``; otherwise ``path`` (folders made as needed), which
    appears only when the block ends without an error, so a failed run leaves no half-written output."""
    if path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        with open(partial, "wb") as out:
            yield out
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()


class Progress:
    """A progress bar on stderr (tqdm, from the ``cli`` extra), only where one helps.

    ``mode`` ``auto`` shows it when stderr is a terminal and the job lasts over a second; ``always``
    shows it at once, terminal or not; ``never`` never does. Without tqdm installed there is no bar.
    """

    def __init__(self, mode: str, total: int | None, stats: Stats) -> None:
        self.stats = stats
        self.bar: Any = None
        self._shown = 0
        self._next = 0.0
        if mode == "never" or (mode == "auto" and not sys.stderr.isatty()):
            return
        try:
            from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415  # the optional cli extra, only for a terminal
        except ImportError:
            return
        self.bar = tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            delay=1.0 if mode == "auto" else 0.0,
            file=sys.stderr,
            dynamic_ncols=True,
            leave=False,
        )

    def update(self) -> None:
        """Move the bar to the bytes read so far (at most a few times a second)."""
        if self.bar is None:
            return
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + 0.1
        read = self.stats.bytes_in
        self.bar.update(read - self._shown)
        self._shown = read
        self.bar.set_postfix_str(f"{self.stats.events_in:,} events", refresh=False)

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
