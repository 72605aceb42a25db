"""Where a stream's bytes come from: a path, a file, bytes, an iterable of chunks or of messages."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import IO, Any, Final

from cefmt import CloudEventError
from cefmt.codec import Container

from ._framing import (
    FLUSH,
    FramingError,
    Position,
    Record,
    read_array,
    read_json,
    read_length_prefixed,
    read_lines,
    read_msgpack,
)
from ._kinds import StreamKind
from ._stats import Stats

__all__ = ["DEFAULT_CHUNK_SIZE", "DEFAULT_MAX_RECORD_SIZE", "Source", "records"]

#: Bytes read from the input at a time.
DEFAULT_CHUNK_SIZE: Final = 64 * 1024
#: The longest record (line, array item, msgpack object, frame) a reader accepts.
DEFAULT_MAX_RECORD_SIZE: Final = 16 * 1024 * 1024

#: A path, a binary file, bytes, or an iterable of byte chunks or of messages.
Source = Any

_READERS = {
    "json": read_json,
    "lines": read_lines,
    "array": read_array,
    "msgpack": read_msgpack,
    "length-prefixed": read_length_prefixed,
    "messages": read_lines,
}


def _file_chunks(file: Any, chunk_size: int, stats: Stats) -> Iterator[bytes]:
    file = getattr(file, "buffer", file)  # a text stream (sys.stdin): read its bytes
    read = getattr(file, "read1", None) or file.read
    while True:
        chunk = read(chunk_size)
        if not chunk:
            return
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8")
        stats.bytes_in += len(chunk)
        yield chunk


def _iter_chunks(items: Iterable[Any], stats: Stats) -> Iterator[bytes]:
    for item in items:
        chunk = item.encode("utf-8") if isinstance(item, str) else bytes(item)
        stats.bytes_in += len(chunk)
        yield chunk


def records(source: Source, kind: StreamKind, chunk_size: int, max_size: int, stats: Stats) -> Iterator[Any]:
    """The records of ``source`` as ``kind`` frames them (with ``FLUSH`` after each chunk); messages given
    as objects are records as they are."""
    if kind.container is not None:
        yield from _container_records(source, kind.container, chunk_size, stats)
        return
    reader = _READERS[kind.framing]
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as file:
            yield from reader(_file_chunks(file, chunk_size, stats), max_size)
        return
    if hasattr(source, "read"):
        yield from reader(_file_chunks(source, chunk_size, stats), max_size)
        return
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield from reader(_iter_chunks([source], stats), max_size)
        return
    items = iter(source)
    first = next(items, None)
    if first is None:
        return
    items = chain([first], items)
    if isinstance(first, (bytes, bytearray, memoryview, str)):
        yield from reader(_iter_chunks(items, stats), max_size)
        return
    for number, item in enumerate(items, 1):  # messages (or events) given as objects
        yield Record(Position(number), item)


# -- whole files (a columnar format's container) -------------------------------------------------------------

#: A container's records are handed on in runs of this many (a FLUSH after each), as a chunk's would be.
CONTAINER_RUN: Final = 1024


@contextlib.contextmanager
def _seekable(source: Source, chunk_size: int, stats: Stats) -> Iterator[IO[bytes]]:
    """``source`` as a binary file that can seek: a path opened, a seekable file as it is, anything else
    (standard input, a pipe, bytes, chunks) copied to an unnamed temporary file first."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as file:
            stats.bytes_in += os.fstat(file.fileno()).st_size
            yield file
        return
    given: Any = getattr(source, "buffer", source)
    if hasattr(given, "read") and _can_seek(given):
        start = given.tell()
        yield given
        stats.bytes_in += max(given.tell() - start, 0)
        return
    chunks = _file_chunks(given, chunk_size, stats) if hasattr(given, "read") else _iter_chunks(source, stats)
    with tempfile.TemporaryFile() as spool:
        for chunk in chunks:
            spool.write(chunk)
        spool.seek(0)
        yield spool


def _can_seek(file: Any) -> bool:
    try:
        return bool(file.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _container_records(source: Source, container: Container, chunk_size: int, stats: Stats) -> Iterator[Any]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = [source]
    elif not isinstance(source, (str, os.PathLike)) and not hasattr(source, "read"):
        items = iter(source)
        first = next(items, None)
        if first is None:
            source = []
        elif not isinstance(first, (bytes, bytearray, memoryview, str)):  # messages given as objects
            for number, item in enumerate(chain([first], items), 1):
                yield Record(Position(number), item)
            return
        else:
            source = chain([first], items)
    number = 0
    with _seekable(source, chunk_size, stats) as file:
        messages = container.read(file)
        while True:
            try:
                message = next(messages)
            except StopIteration:
                break
            except CloudEventError as exc:  # the file cannot be read on: no later record can be found
                raise FramingError(str(exc), Position(number + 1)) from exc
            number += 1
            yield Record(Position(number), message)
            if number % CONTAINER_RUN == 0:
                yield FLUSH
    yield FLUSH
