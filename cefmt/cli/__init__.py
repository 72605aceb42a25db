"""The ``cefmt`` command: convert, validate and inspect streams of events; list codecs; listen and send.

Exit status: 0 on success; 1 when a record failed under ``--on-error fail``, a stream broke, ``validate``
found a bad record, ``send`` did not deliver an event, ``listen`` could not write its output, ``codecs``
found a broken plugin, or a file or a standard stream could not be used; 2 for a usage error (a number
out of range included), found before any record is read; 130 when stopped by SIGINT (Ctrl-C), 143 by
SIGTERM, 129 by SIGHUP, each after removing a partial output. Run ``cefmt COMMAND --help`` for each
command's options, and see ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cefmt import CloudEventError, __version__

from . import _codecs, _convert, _inspect, _listen, _send, _validate
from ._common import CommandError, Terminated, handle_termination, say
from ._stdio import guard_closed_streams

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    """The argument parser of the ``cefmt`` command.

    >>> parser().parse_args(["convert", "in.jsonl", "out.msgpack", "--to", "msgpack"]).src
    'json'
    """
    top = argparse.ArgumentParser(
        prog="cefmt",
        description="CloudEvents streams for data pipelines: convert between any registered codecs, "
        "validate, inspect, list codecs, and a listen/send pair for debugging over HTTP.",
    )
    top.add_argument("--version", action="version", version=f"cefmt {__version__}")
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (_convert, _validate, _inspect, _codecs, _listen, _send):
        module.add_parser(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``cefmt`` command with ``argv`` (the process's arguments unless given); the exit status."""
    guard_closed_streams()
    args = parser().parse_args(argv)
    try:
        with handle_termination():
            return int(args.run(args))
    except CommandError as exc:
        say(args.command, str(exc))
        return exc.code
    except CloudEventError as exc:
        say(args.command, str(exc))
        return 1
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            # The reader of our output went away (`| head`): stop quietly, as other tools do.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 1
        say(args.command, f"{exc.filename + ': ' if exc.filename else ''}{exc.strerror or exc}")
        return 1
    except KeyboardInterrupt:
        say(args.command, "interrupted (SIGINT)")
        return 130
    except Terminated as exc:
        say(args.command, f"terminated ({exc.name})")
        return exc.status
