"""Framings: how a byte stream is cut into records, and how records are joined into one.

Every reader takes an iterator of byte chunks and yields :class:`Record` objects (and the :data:`FLUSH`
marker after each chunk, so that writers can hand on what they have while the input is idle). Memory is
bounded by ``max_size``: a reader never holds more than one record and one chunk. A reader that loses
the thread of its stream (bad msgpack, broken JSON array syntax, a truncated frame) raises
:class:`FramingError`, because no later record can be found reliably; a record that is merely too long
in a framing that can step over it (a line, a length-prefixed frame) is yielded with its error instead.
"""

from __future__ import annotations

import codecs
import json
import re
import struct
from collections.abc import Iterable, Iterator
from typing import Any, Final

import attrs
import msgpack  # type: ignore[import-untyped]  # msgpack ships no type information

from cefmt import CloudEventError, LimitExceededError, MalformedMessageError

__all__ = [
    "FLUSH",
    "FramingError",
    "Position",
    "Record",
    "read_array",
    "read_length_prefixed",
    "read_lines",
    "read_msgpack",
]


class _Flush:
    __slots__ = ()

    def __repr__(self) -> str:
        return "FLUSH"

    def __reduce__(self) -> str:
        return "FLUSH"


#: Passed along after each input chunk: "the input may be idle now, hand on what you have".
FLUSH: Final = _Flush()


@attrs.frozen
class Position:
    """Where a record sits in its input: its number (from 1), and its line and byte offset when known.

    ``item`` numbers an event inside a record that held a batch (from 0), for errors found after
    decoding.

    >>> str(Position(3, line=4, offset=120))
    'record 3 (line 4, byte 120)'
    """

    record: int
    line: int | None = None
    offset: int | None = None
    item: int | None = None

    def __str__(self) -> str:
        where = [f"line {self.line}"] if self.line is not None else []
        if self.offset is not None:
            where.append(f"byte {self.offset}")
        text = f"record {self.record}" + (f" ({', '.join(where)})" if where else "")
        return text if self.item is None else f"{text}, batch item {self.item}"

    def to_dict(self) -> dict[str, int]:
        """The known fields as a ``dict`` (for dead-letter lines)."""
        return {name: value for name, value in attrs.asdict(self).items() if value is not None}


@attrs.frozen
class Record:
    """One record cut from a stream: its position, its raw content, and an error when it could not be read."""

    position: Position
    raw: Any
    error: CloudEventError | None = None


class FramingError(MalformedMessageError):
    """The stream's framing is broken at ``position``; no later record can be found reliably."""

    def __init__(self, message: str, position: Position) -> None:
        super().__init__(f"{position}: {message}; the stream cannot be read past this point")
        self.position = position


def _pieces(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Chunks no larger than ``size`` (a source may hand over anything)."""
    for chunk in chunks:
        if len(chunk) <= size:
            yield chunk
        else:
            view = memoryview(chunk)
            for start in range(0, len(chunk), size):
                yield bytes(view[start : start + size])


# -- JSON Lines (and any line-delimited text) ---------------------------------------------------------------


def read_lines(chunks: Iterable[bytes], max_size: int) -> Iterator[Record | _Flush]:
    """Non-blank lines (``\\n``-terminated, a ``\\r`` before it dropped) as records of bytes.

    A line longer than ``max_size`` bytes is a record with a :class:`~cefmt.LimitExceededError`; the
    reader skips to the next line without keeping it.

    >>> [r.raw for r in read_lines([b'{"a":1}\\n\\n{"b"', b':2}'], 100) if isinstance(r, Record)]
    [b'{"a":1}', b'{"b":2}']
    """
    number = 0  # records
    line = 1  # 1-based number of the line that starts the pending text
    offset = 0  # byte offset of the pending text
    pending = b""
    overflow = 0  # > 0 while skipping the rest of a line that is too long

    def emit(text: bytes, line: int, offset: int) -> Record | None:
        nonlocal number
        if text.endswith(b"\r"):
            text = text[:-1]
        if not text.strip():
            return None
        number += 1
        position = Position(number, line=line, offset=offset)
        if len(text) > max_size:
            return Record(position, None, LimitExceededError("line length in bytes", len(text), max_size))
        return Record(position, text)

    for piece in chunks:
        chunk = piece
        if overflow:
            end = chunk.find(b"\n")
            if end < 0:
                overflow += len(chunk)
                offset += len(chunk)
                yield FLUSH
                continue
            number += 1
            yield Record(
                Position(number, line=line, offset=offset - overflow),
                None,
                LimitExceededError("line length in bytes", overflow + end, max_size),
            )
            offset += end + 1
            line += 1
            overflow = 0
            chunk = chunk[end + 1 :]
        lines = (pending + chunk).split(b"\n") if pending else chunk.split(b"\n")
        pending = lines.pop()
        for text in lines:
            record = emit(text, line, offset)
            if record is not None:
                yield record
            offset += len(text) + 1
            line += 1
        if len(pending) > max_size:
            overflow = len(pending)
            offset += len(pending)
            pending = b""
        yield FLUSH
    if overflow:
        number += 1
        yield Record(
            Position(number, line=line, offset=offset - overflow),
            None,
            LimitExceededError("line length in bytes", overflow, max_size),
        )
    elif pending:
        record = emit(pending, line, offset)
        if record is not None:
            yield record


# -- one JSON array, read item by item ------------------------------------------------------------------------

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SCANNER = json.JSONDecoder()


def read_array(chunks: Iterable[bytes], max_size: int) -> Iterator[Record | _Flush]:
    """The items of one JSON array (a JSON batch) as records of UTF-8 bytes, never holding the whole array.

    An item longer than ``max_size`` characters, bad UTF-8 or broken array syntax stop the reader with a
    :class:`FramingError`: without parsing, the end of a broken item cannot be found.

    >>> [r.raw for r in read_array([b' [{"a": 1}, {"b', b'": [2]} ]'], 100) if isinstance(r, Record)]
    [b'{"a": 1}', b'{"b": [2]}']
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    source = iter(chunks)
    text = ""
    pos = 0
    line = 1
    number = 0
    eof = False
    fresh = False  # a chunk arrived since the last FLUSH

    def more(at_least: int = 1) -> bool:
        """Read until ``at_least`` more characters are buffered past ``pos``; False at the end of input."""
        nonlocal text, pos, eof, fresh
        if eof:
            return False
        text = text[pos:]
        pos = 0
        wanted = len(text) + at_least
        while len(text) < wanted:
            chunk = next(source, None)
            if chunk is None:
                eof = True
                try:
                    text += decoder.decode(b"", final=True)
                except UnicodeDecodeError as exc:
                    raise FramingError(f"not valid UTF-8 ({exc.reason})", Position(number + 1, line)) from exc
                return len(text) > 0
            fresh = True
            try:
                text += decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise FramingError(f"not valid UTF-8 ({exc.reason})", Position(number + 1, line)) from exc
        return True

    def skip_space() -> bool:
        """Move ``pos`` to the next non-blank character; False when the input ends first."""
        nonlocal pos, line
        while True:
            end = _WHITESPACE.match(text, pos).end()  # type: ignore[union-attr]  # the pattern matches ""
            line += text.count("\n", pos, end)
            pos = end
            if pos < len(text):
                return True
            if not more():
                return False

    if not skip_space() or text[pos] != "[":
        raise FramingError("a JSON batch must be one array, starting with '['", Position(1, line))
    pos += 1
    if not skip_space():
        raise FramingError("the JSON array is not closed", Position(1, line))
    if text[pos] == "]":
        pos += 1
    else:
        while True:
            number += 1
            position = Position(number, line)
            tried = 0
            while True:
                try:
                    _, end = _SCANNER.raw_decode(text, pos)
                except RecursionError as exc:
                    raise FramingError("an array item is nested too deeply", position) from exc
                except json.JSONDecodeError as exc:
                    if eof or len(text) - pos > max_size:
                        if len(text) - pos > max_size:
                            raise FramingError(
                                f"an array item is longer than the limit of {max_size} characters", position
                            ) from exc
                        raise FramingError(f"not valid JSON: {exc.msg}", position) from exc
                    # Incomplete so far: read at least as much again before parsing once more, which
                    # keeps the work linear in the item's size.
                    tried = max(tried * 2, len(text) - pos, 4096)
                    more(tried)
                    continue
                except ValueError as exc:  # integers over the digit limit
                    raise FramingError(f"not valid JSON: {exc}", position) from exc
                if end == len(text) and not eof:
                    more()  # a number may go on in the next chunk: parse again with more in hand
                    continue
                break
            if end - pos > max_size:
                raise FramingError(f"an array item is longer than the limit of {max_size} characters", position)
            item = text[pos:end]
            line += item.count("\n")
            pos = end
            yield Record(position, item.encode("utf-8"))
            if not skip_space():
                raise FramingError("the JSON array is not closed", Position(number, line))
            if text[pos] == "]":
                pos += 1
                break
            if text[pos] != ",":
                raise FramingError(f"expected ',' or ']' after an array item, got {text[pos]!r}", position)
            pos += 1
            if not skip_space():
                raise FramingError("the JSON array is not closed", Position(number, line))
            if fresh:
                fresh = False
                yield FLUSH
    if skip_space():
        raise FramingError("there is more after the end of the JSON array", Position(number + 1, line))
    yield FLUSH


# -- a stream of msgpack objects (self-delimiting) ----------------------------------------------------------


def read_msgpack(chunks: Iterable[bytes], max_size: int) -> Iterator[Record | _Flush]:
    """The objects of a msgpack stream (concatenated, no framing) as records holding each object's bytes.

    Bad msgpack, an object larger than ``max_size`` bytes, or a stream that ends inside an object stop
    the reader with a :class:`FramingError`.

    >>> import msgpack
    >>> data = msgpack.packb({"a": 1}) + msgpack.packb([1, 2])
    >>> [r.raw for r in read_msgpack([data[:3], data[3:]], 100) if isinstance(r, Record)]
    [b'\\x81\\xa1a\\x01', b'\\x92\\x01\\x02']
    """
    unpacker = msgpack.Unpacker(max_buffer_size=2 * max_size + 16)
    pending = bytearray()  # the bytes from `base` on, which the unpacker has not finished with
    base = 0  # absolute offset of pending[0]
    start = 0  # absolute offset of the object being read
    number = 0
    for piece in _pieces(chunks, max_size):
        unpacker.feed(piece)
        pending += piece
        while True:
            try:
                unpacker.skip()
            except msgpack.OutOfData:
                break
            except Exception as exc:  # FormatError, StackError, ValueError: msgpack names no common base
                raise FramingError(
                    f"not valid msgpack ({type(exc).__name__}: {exc})", Position(number + 1, offset=start)
                ) from exc
            end = unpacker.tell()
            number += 1
            yield Record(Position(number, offset=start), bytes(pending[start - base : end - base]))
            start = end
        del pending[: start - base]
        base = start
        if len(pending) > max_size:
            raise FramingError(
                f"an object is larger than the limit of {max_size} bytes", Position(number + 1, offset=start)
            )
        yield FLUSH
    if pending:
        raise FramingError("the stream ends inside a msgpack object", Position(number + 1, offset=start))


# -- length-prefixed frames (for any other event format) -------------------------------------------------------

_LENGTH = struct.Struct(">I")


def read_length_prefixed(chunks: Iterable[bytes], max_size: int) -> Iterator[Record | _Flush]:
    """Frames of a 4-byte big-endian unsigned length followed by that many bytes.

    A frame longer than ``max_size`` is a record with a :class:`~cefmt.LimitExceededError` and is
    stepped over without being kept; a stream that ends inside a frame raises :class:`FramingError`.

    >>> [r.raw for r in read_length_prefixed([b"\\0\\0\\0\\2hi\\0\\0", b"\\0\\1!"], 10) if isinstance(r, Record)]
    [b'hi', b'!']
    """
    pending = bytearray()
    offset = 0  # absolute offset of pending[0]
    number = 0
    skip = 0  # bytes of an oversized frame still to drop
    for chunk in chunks:
        pending += chunk
        while True:
            if skip:
                dropped = min(skip, len(pending))
                del pending[:dropped]
                offset += dropped
                skip -= dropped
                if skip:
                    break
            if len(pending) < 4:
                break
            (size,) = _LENGTH.unpack_from(pending)
            if size > max_size:
                number += 1
                yield Record(Position(number, offset=offset), None, LimitExceededError("frame length", size, max_size))
                del pending[:4]
                offset += 4
                skip = size
                continue
            if len(pending) < 4 + size:
                break
            number += 1
            yield Record(Position(number, offset=offset), bytes(pending[4 : 4 + size]))
            del pending[: 4 + size]
            offset += 4 + size
        yield FLUSH
    if pending or skip:
        raise FramingError("the stream ends inside a frame", Position(number + 1, offset=offset))
