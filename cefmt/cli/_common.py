"""What the commands share: input files, stream-kind and number options, messages, signals, the progress bar.

Output files follow one rule, kept in :mod:`cefmt.stream._files` for the command and the Python API alike.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any, Final

from cefmt import CloudEventError, Timestamp, UnknownCodecError
from cefmt.stream import DEFAULT_MAX_RECORD_SIZE, Stats, stream_kind, stream_kinds
from cefmt.stream._files import check_dead_letter

from ._text import printable

__all__ = [
    "CommandError",
    "Progress",
    "Terminated",
    "add_input_options",
    "check_kind",
    "dead_letter_refused",
    "extension_types",
    "handle_termination",
    "input_source",
    "non_negative_int",
    "positive_int",
    "say",
    "whole_number",
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


# -- signals --------------------------------------------------------------------------------------------------


class Terminated(BaseException):  # a sibling of KeyboardInterrupt, not an Exception
    """The command was asked to stop by a signal other than SIGINT (SIGTERM, SIGHUP).

    Raised where the command is, like :class:`KeyboardInterrupt` for SIGINT, so every ``finally`` and
    ``with`` on the way out runs: a partial output file is removed, dead letters kept aside are dropped.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(self.name)

    @property
    def status(self) -> int:
        """The exit status, as a shell gives a process stopped by the signal: 128 + its number."""
        return 128 + self.signum


def _terminate(signum: int, frame: FrameType | None) -> None:
    signal.signal(signum, signal.SIG_IGN)  # a second one while cleaning up does not cut the cleanup short
    raise Terminated(signum)


@contextlib.contextmanager
def handle_termination() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP raise :class:`Terminated` in the main thread (unless they are
    ignored, as ``nohup`` asks); SIGINT keeps Python's own :class:`KeyboardInterrupt`. The handlers found are
    put back afterwards. Outside the main thread, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    found = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGHUP)}
    for signum, handler in found.items():
        if handler == signal.SIG_DFL:
            signal.signal(signum, _terminate)
    try:
        yield
    finally:
        for signum, handler in found.items():
            signal.signal(signum, handler)


# -- numbers ----------------------------------------------------------------------------------------------------


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse ``type``: a whole number (decimal digits) of at least ``minimum``, or a usage error.

    >>> whole_number(1)("12")
    12
    >>> whole_number(1)("0")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: must be at least 1, got 0
    """

    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = f"a whole number of at least {minimum}"  # argparse names the type by it
    return parse


#: An argparse ``type`` for counts and sizes: 1, 2, 3 ...
positive_int: Final = whole_number(1)
#: An argparse ``type`` for limits where 0 means "none": 0, 1, 2 ...
non_negative_int: Final = whole_number(0)


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


def data_types(parser: argparse.ArgumentParser, spec: str | None) -> Any:
    """``--data-types MODULE:NAME``: the data type (or map from event type to data type) it names.

    The module is the user's own code, named on the command line: importing it runs it, as ``python -m``
    would. A message never names a module.
    """
    if spec is None:
        return None
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        parser.error(f"--data-types {spec!r}: expected MODULE:NAME (a type, or a mapping of event types to types)")
    sys.path.insert(0, os.getcwd())  # as python -m does: modules beside the user are found
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        parser.error(f"--data-types {spec!r}: cannot import {module_name}: {exc}")
    finally:
        sys.path.remove(os.getcwd())
    found = getattr(module, attribute, None)
    if found is None:
        parser.error(f"--data-types {spec!r}: {module_name} has no {attribute}")
    return found


def compiled(parser: argparse.ArgumentParser, option: str, text: str) -> Any:
    """CESQL text from the command line compiled once; a syntax error is a usage error naming the place."""
    from cefmt import sql  # noqa: PLC0415 - the CESQL engine, only for commands that filter

    try:
        return sql.compile(text)
    except CloudEventError as exc:
        parser.error(f"{option} {text!r}: {exc}")


def add_input_options(parser: argparse.ArgumentParser, *, errors: bool = True, mark: bool = False) -> None:
    """``--from``, ``--extension-type``, ``--max-record-size`` and, when asked, the error policy options
    (with ``mark``, showing bad records among the good ones, as the default)."""
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
        "--data-types",
        metavar="MODULE:NAME",
        help="read each event's data as your own type: NAME in MODULE is a type, or a mapping of event "
        "types to types (docs/typed-data.md); data that does not fit is a bad record",
    )
    parser.add_argument(
        "--other-types",
        choices=["keep", "refuse"],
        default="keep",
        help="with a --data-types mapping: events of types it does not name keep plain data (keep, the "
        "default) or are bad records (refuse)",
    )
    parser.add_argument(
        "--max-record-size",
        type=positive_int,
        default=DEFAULT_MAX_RECORD_SIZE,
        metavar="BYTES",
        help=f"the longest input record accepted (default: {DEFAULT_MAX_RECORD_SIZE})",
    )
    if errors:
        parser.add_argument(
            "--on-error",
            choices=["mark", "fail", "skip", "dead-letter"] if mark else ["fail", "skip", "dead-letter"],
            default=None,
            help=(
                "what a bad record does: be shown, marked, among the events (mark, the default), stop the "
                "command after it (fail), be counted and dropped (skip), or be written with its error to "
                "--dead-letter (dead-letter)"
                if mark
                else "what a bad record does: stop the command (fail, the default), be counted and "
                "dropped (skip), or be written with its error to --dead-letter (dead-letter)"
            ),
        )
        parser.add_argument(
            "--dead-letter",
            metavar="FILE",
            help="append bad records here as JSON Lines, when the command completes (implies --on-error "
            "dead-letter); not the input or output file",
        )


def error_policy(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[str, str | None]:
    """The (policy, dead-letter file) pair from the options, checked."""
    default = "mark" if "mark" in _choices(parser, "--on-error") else "fail"
    policy = args.on_error or ("dead-letter" if args.dead_letter else default)
    if policy == "dead-letter" and not args.dead_letter:
        parser.error("--on-error dead-letter needs --dead-letter FILE")
    if args.dead_letter and policy != "dead-letter":
        parser.error(f"--dead-letter goes with --on-error dead-letter, not {policy}")
    if args.dead_letter == "-":
        parser.error("--dead-letter -: name a file (/dev/stderr, for one, is the standard error)")
    return policy.replace("-", "_"), args.dead_letter


def _choices(parser: argparse.ArgumentParser, option: str) -> list[str]:
    for action in parser._actions:
        if option in action.option_strings:
            return list(action.choices or [])
    return []


def dead_letter_refused(
    parser: argparse.ArgumentParser, dead_letter: str | None, source: str, target: Any = None
) -> None:
    """A usage error (exit 2) when ``--dead-letter`` names the input or the output file (as a file: links and
    other spellings of the same file count)."""
    if dead_letter is None:
        return
    try:
        check_dead_letter(dead_letter, source=source, target=target)
    except CloudEventError as exc:
        parser.error(str(exc))


def input_source(path: str) -> Any:
    """A path to read, or the standard input's bytes for ``-``."""
    if path == "-":
        return sys.stdin.buffer
    if not os.path.exists(path):
        raise CommandError(f"{path}: no such file")
    return path


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
