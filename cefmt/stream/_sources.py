"""Where a stream's bytes come from: a path, a file, bytes, an iterable of chunks or of messages."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any, Final

from ._framing import (
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
