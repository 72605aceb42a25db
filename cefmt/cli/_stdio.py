"""Closed standard streams (``cefmt ... >&-``): a clear error when one is used, never a traceback.

Python sets ``sys.stdout`` (or ``stdin``, ``stderr``) to ``None`` when the descriptor was closed at
start, and the next file or socket opened takes that descriptor's number. :func:`guard_closed_streams`
puts ``/dev/null`` on the closed descriptors, so nothing the command opens can be mistaken for one,
and makes a closed input or output raise ``OSError`` ("the standard output is closed") when it is
used. Messages for a closed standard error go nowhere, as there is nowhere to show them.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from typing import Any, NoReturn

__all__ = ["ClosedStream", "guard_closed_streams"]


class ClosedStream(io.TextIOBase):
    """Stands in for a standard stream that was closed: reading, writing or its buffer raise ``OSError``.

    >>> stream = ClosedStream("output")
    >>> stream.write("x")
    Traceback (most recent call last):
    OSError: [Errno 9] the standard output is closed
    >>> stream.flush()  # at exit, the interpreter flushes it: nothing to do
    """

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def _fail(self, *args: Any) -> NoReturn:
        raise OSError(errno.EBADF, f"the standard {self.what} is closed")

    write = read = readline = fileno = _fail

    @property
    def buffer(self) -> NoReturn:
        self._fail()

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


def guard_closed_streams() -> None:
    """Fill closed descriptors 0-2 with ``/dev/null`` and replace their ``sys`` streams by :class:`ClosedStream`.

    >>> guard_closed_streams()  # with the streams open, nothing changes
    >>> isinstance(sys.stdout, ClosedStream)
    False
    """
    for fd, name, what in ((0, "stdin", "input"), (1, "stdout", "output"), (2, "stderr", "error")):
        if not (getattr(sys, name) is None or _closed(fd)):
            continue
        if _closed(fd):
            null = os.open(os.devnull, os.O_RDWR)  # the lowest free number: fd itself, as lower ones are filled
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        if name == "stderr":
            sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115  # for the life of the process
        else:
            setattr(sys, name, ClosedStream(what))
