"""The error policy of a stream: what happens to a bad record, and when its dead letters are kept."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import IO

from cefmt import CloudEventError, UsageError

from ._files import DeadLetterFile
from ._framing import json_line
from ._stats import BadRecord, RecordError, Stats

__all__ = ["POLICIES", "DeadLetter", "Policy", "check_sizes", "running"]

#: What ``on_error=`` may say.
POLICIES = ("fail", "skip", "dead_letter")

#: Where dead letters go: a callable, a binary file, or a file path (appended when the stream completes).
DeadLetter = Callable[[BadRecord], None] | str | os.PathLike[str] | IO[bytes] | DeadLetterFile


class Policy:
    """What happens to a bad record: raise, count and drop, or count and hand to the dead-letter sink.

    A dead-letter path gets a :class:`~cefmt.stream._files.DeadLetterFile`: the dead letters of the stream
    are appended to it by :meth:`close` when the stream ended well, and dropped when it failed.
    """

    def __init__(self, on_error: str | None, dead_letter: DeadLetter | None, stats: Stats) -> None:
        policy = (on_error or ("dead_letter" if dead_letter is not None else "fail")).replace("-", "_")
        if policy not in POLICIES:
            raise UsageError(f"on_error must be one of {', '.join(POLICIES)}, got {on_error!r}")
        if policy == "dead_letter" and dead_letter is None:
            raise UsageError("on_error='dead_letter' needs dead_letter= (a callable, a file path or a file)")
        self.policy = policy
        self.stats = stats
        self._owned: DeadLetterFile | None = None
        self._sink: Callable[[BadRecord], None] | IO[bytes] | DeadLetterFile | None = None
        if policy == "dead_letter":
            if isinstance(dead_letter, (str, os.PathLike)):
                self._sink = self._owned = DeadLetterFile(dead_letter)
            else:
                self._sink = dead_letter

    def __call__(self, bad: BadRecord) -> None:
        if self.policy == "fail":
            raise RecordError(bad) from bad.error
        if self.policy == "skip":
            self.stats.skipped += 1
            return
        sink = self._sink
        if isinstance(sink, DeadLetterFile) or not callable(sink):
            assert sink is not None
            sink.write(json_line(bad.to_dict()))
            sink.flush()
        else:
            sink(bad)
        self.stats.dead_lettered += 1

    def close(self, completed: bool) -> None:
        """Hand on the dead letters of a stream that ``completed`` (or was closed by its reader); drop them
        when it failed."""
        if self._owned is not None:
            if completed:
                self._owned.commit()
            else:
                self._owned.discard()


@contextlib.contextmanager
def running(policy: Policy) -> Iterator[None]:
    """The life of a stream generator: its dead letters kept when it ends or its reader closes it, dropped
    when it raises; the finishing time recorded either way."""
    completed = False
    try:
        yield
        completed = True
    except GeneratorExit:
        completed = True
        raise
    finally:
        policy.stats.finished = time.monotonic()
        policy.close(completed)


def check_sizes(**sizes: int) -> None:
    """Each size a whole number of at least 1, or a :class:`~cefmt.CloudEventError` naming it."""
    for name, value in sizes.items():
        if type(value) is not int or value < 1:
            raise CloudEventError(f"{name} must be a whole number of at least 1, got {value!r}")
