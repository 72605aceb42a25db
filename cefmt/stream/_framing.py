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
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import Any, Final, TypeVar

import attrs
import msgpack  # type: ignore[import-untyped]  # msgpack ships no type information

from cefmt import CloudEventError, LimitExceededError, MalformedMessageError
from cefmt.codec import dump_json

T = TypeVar("T")

__all__ = [
    "FLUSH",
    "FramingError",
    "Position",
    "Record",
    "json_line",
    "read_array",
    "read_json",
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


def _maker(cls: type[T]) -> Callable[..., T]:
    """``cls(*values)`` (every field, in order) without the keyword handling of attrs' ``__init__`` for a
    frozen class: its slots set directly, about a third of the cost, once per record of every stream.
    Where a field is not a plain slot (a later attrs may store fields otherwise), ``cls`` itself."""
    names = [field.name for field in attrs.fields(cls)]  # type: ignore[arg-type]
    found = [getattr(cls.__dict__.get(name), "__set__", None) for name in names]
    setters: list[Callable[[object, Any], None]] = [setter for setter in found if setter is not None]
    if len(setters) != len(names):
        return cls
    probe: Any = object.__new__(cls)
    try:
        for name, setter in zip(names, setters, strict=True):
            setter(probe, name)
        if [getattr(probe, name) for name in names] != names:
            return cls
    except (AttributeError, TypeError):
        return cls

    def make(*values: Any) -> T:
        made: T = object.__new__(cls)
        for setter, value in zip(setters, values, strict=True):
            setter(made, value)
        return made

    return make


def json_line(doc: dict[str, Any]) -> bytes:
    """A JSON document as one line of UTF-8, with its newline (a captured message, a dead letter).

    >>> json_line({"a": [1, "é"]})
    b'{"a":[1,"\\xc3\\xa9"]}\\n'
    """
    return dump_json(doc, "line") + b"\n"


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


# -- a UTF-8 byte order mark -------------------------------------------------------------------------------------

_BOM: Final = codecs.BOM_UTF8


def _without_bom(chunks: Iterable[bytes]) -> tuple[int, Iterator[bytes]]:
    """The chunks of a text stream with a UTF-8 byte order mark at its very start dropped, and the BOM's length.

    Editors on some systems put one there; JSON text (RFC 8259, section 8.1) must not have one, but a reader may
    ignore it, and a BOM anywhere else is left as it is. Reads ahead only as far as the BOM needs.
    """
    source = iter(chunks)
    head = b""
    for chunk in source:
        head += chunk
        if len(head) >= len(_BOM) or not _BOM.startswith(head):
            break
    if head.startswith(_BOM):
        return len(_BOM), chain([head[len(_BOM) :]], source)
    return 0, chain([head], source)


# -- JSON Lines (and any line-delimited text) ---------------------------------------------------------------


def read_lines(chunks: Iterable[bytes], max_size: int) -> Iterator[Record | _Flush]:
    """Non-blank lines (``\\n``-terminated, a ``\\r`` before it dropped) as records of bytes.

    A line longer than ``max_size`` bytes is a record with a :class:`~cefmt.LimitExceededError`; the
    reader skips to the next line without keeping it. A UTF-8 byte order mark at the start of the stream
    is dropped (offsets still count it). The work is linear in the input, however it is chunked.

    >>> [r.raw for r in read_lines([b'{"a":1}\\n\\n{"b"', b':2}'], 100) if isinstance(r, Record)]
    [b'{"a":1}', b'{"b":2}']
    """
    number = 0  # records
    line = 1  # 1-based number of the line that starts the pending text
    offset, source = _without_bom(chunks)  # byte offset of the pending text
    pending: list[bytes] = []  # the pieces of an unfinished line, joined once its end is found
    held = 0  # their total length
    overflow = 0  # > 0 while skipping the rest of a line that is too long

    def emit(text: bytes) -> Record | None:
        nonlocal number
        if text.endswith(b"\r"):
            text = text[:-1]
        if not text.strip():
            return None
        number += 1
        position = _new_position(number, line, offset, None)
        if len(text) > max_size:
            return Record(position, None, LimitExceededError("line length in bytes", len(text), max_size))
        return _new_record(position, text, None)

    def too_long(length: int) -> Record | None:
        nonlocal number
        if blank:
            return None
        number += 1
        position = Position(number, line=line, offset=offset - overflow)
        return Record(position, None, LimitExceededError("line length in bytes", length, max_size))

    blank = True  # the line being skipped is blank so far
    for chunk in source:
        start = 0  # where the unread part of this chunk begins
        if overflow:
            end = chunk.find(b"\n")
            blank = blank and not chunk[: end if end >= 0 else len(chunk)].strip()
            if end < 0:
                overflow += len(chunk)
                offset += len(chunk)
                yield FLUSH
                continue
            record = too_long(overflow + end)
            if record is not None:
                yield record
            offset += end + 1
            line += 1
            overflow = 0
            start = end + 1
        end = chunk.find(b"\n", start)
        if end >= 0:
            if pending:  # the line begun in earlier chunks ends here
                pending.append(chunk[start:end])
                text = b"".join(pending)
                pending, held = [], 0
                record = emit(text)
                if record is not None:
                    yield record
                offset += len(text) + 1
                line += 1
                start = end + 1
            lines = chunk[start:].split(b"\n")
            rest = lines.pop()
            for text in lines:
                record = emit(text)
                if record is not None:
                    yield record
                offset += len(text) + 1
                line += 1
        else:
            rest = chunk[start:] if start else chunk
        if rest:
            pending.append(rest)
            held += len(rest)
            if held > max_size + 1:  # (one more: a "\r" that ends the line is not counted)
                blank = not any(piece.strip() for piece in pending)
                overflow = held
                offset += held
                pending, held = [], 0
        yield FLUSH
    if overflow:
        record = too_long(overflow)
        if record is not None:
            yield record
    elif pending:
        record = emit(b"".join(pending))
        if record is not None:
            yield record


# -- JSON text read value by value --------------------------------------------------------------------------

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SCANNER = json.JSONDecoder()
# A parse that fails this close to the end of what is in hand may only be short of input: a literal, number or
# escape cut by a chunk boundary (``tru``, ``1e-``, ``\\u00``). Parsing again with more in hand tells.
_NEAR_THE_END: Final = 16


class _Broken(Exception):
    """The JSON text cannot be read on at ``position``: a syntax error (``size`` False) or a value too long."""

    def __init__(self, message: str, position: Position, *, size: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.size = size

    def framing_error(self) -> FramingError:
        return FramingError(self.message, self.position)


class _Text:
    """The decoded text of a byte stream, read ahead on demand, with the reader's place and line in it.

    ``text[pos:]`` is what is in hand and not yet read. Text before ``pos`` is let go whenever more is read,
    so memory holds one value and one chunk; each read joins the new pieces once, so the work stays linear.
    """

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._source = chunks
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""
        self.pos = 0
        self.line = 1  # the line of text[pos]
        self.column_base = 0  # text index where the line of text[pos] starts (negative: before the text in hand)
        self.record = 1  # the number of the record being read, for errors
        self.eof = False
        self.fresh = False  # a chunk arrived since the reader last said so

    def more(self, at_least: int = 1) -> bool:
        """Read until ``at_least`` more characters are in hand past ``pos``; False at the end of the input."""
        if self.eof:
            return False
        pieces = [self.text[self.pos :]]
        have = len(pieces[0])
        wanted = have + at_least
        while have < wanted:
            chunk = next(self._source, None)
            try:
                piece = self._decoder.decode(b"", final=True) if chunk is None else self._decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise _Broken(f"not valid UTF-8 ({exc.reason})", Position(self.record, self.line)) from exc
            pieces.append(piece)
            have += len(piece)
            if chunk is None:
                self.eof = True
                break
            self.fresh = True
        self.column_base -= self.pos
        self.text = "".join(pieces)
        self.pos = 0
        return have > 0 if self.eof else True

    def advance(self, end: int) -> None:
        """Move ``pos`` to ``end``, counting the lines passed."""
        breaks = self.text.count("\n", self.pos, end)
        if breaks:
            self.line += breaks
            self.column_base = self.text.rfind("\n", self.pos, end) + 1
        self.pos = end

    def skip_space(self) -> bool:
        """Move ``pos`` to the next non-blank character; False when the input ends first."""
        while True:
            self.advance(_WHITESPACE.match(self.text, self.pos).end())  # type: ignore[union-attr]  # matches ""
            if self.pos < len(self.text):
                return True
            if not self.more():
                return False

    def value(self, max_size: int, what: str) -> str:
        """The JSON value at ``pos`` (not blank) as text, read ahead as needed; ``pos`` moves past it.

        Raises :class:`_Broken` for a syntax error (with the line and column where the parser stopped) or a
        value over ``max_size`` characters (``what`` names it in the message).
        """
        position = Position(self.record, self.line)
        tried = 0
        while True:
            try:
                _, end = _SCANNER.raw_decode(self.text, self.pos)
            except RecursionError as exc:
                raise _Broken(f"{what} is nested too deeply", position) from exc
            except json.JSONDecodeError as exc:
                in_hand = len(self.text) - self.pos
                short = exc.msg.startswith("Unterminated string") or len(self.text) - exc.pos <= _NEAR_THE_END
                if self.eof or not short:
                    raise self._syntax_error(exc) from exc
                if in_hand > max_size:
                    raise self._too_long(what, max_size, position) from exc
                # Short of input: read at least as much again before parsing once more, which keeps the
                # work linear in the value's size.
                tried = max(tried * 2, in_hand, 4096)
                self.more(tried)
                continue
            except ValueError as exc:  # integers over the digit limit
                raise _Broken(f"not valid JSON: {exc}", position) from exc
            if end == len(self.text) and not self.eof:
                self.more()  # a number may go on in the next chunk: parse again with more in hand
                continue
            break
        if end - self.pos > max_size:
            raise self._too_long(what, max_size, position)
        item = self.text[self.pos : end]
        self.advance(end)
        return item

    @staticmethod
    def _too_long(what: str, max_size: int, position: Position) -> _Broken:
        return _Broken(f"{what} is longer than the limit of {max_size} characters", position, size=True)

    def _syntax_error(self, exc: json.JSONDecodeError) -> _Broken:
        line = self.line + self.text.count("\n", self.pos, exc.pos)
        start = self.text.rfind("\n", self.pos, exc.pos)
        column = exc.pos - (start + 1 if start >= 0 else self.column_base) + 1
        return _Broken(f"not valid JSON: {exc.msg} (column {column})", Position(self.record, line))


def read_array(chunks: Iterable[bytes], max_size: int) -> Iterator[Record | _Flush]:
    """The items of one JSON array (a JSON batch) as records of UTF-8 bytes, never holding the whole array.

    An item longer than ``max_size`` characters, bad UTF-8 or broken JSON syntax (reported with the line and
    column where it is) stop the reader with a :class:`FramingError`: without parsing, the end of a broken
    item cannot be found. A UTF-8 byte order mark at the start is dropped.

    >>> [r.raw for r in read_array([b' [{"a": 1}, {"b', b'": [2]} ]'], 100) if isinstance(r, Record)]
    [b'{"a": 1}', b'{"b": [2]}']
    """
    try:
        yield from _array_items(_Text(_without_bom(chunks)[1]), max_size)
    except _Broken as exc:
        raise exc.framing_error() from exc.__cause__


def _array_items(text: _Text, max_size: int) -> Iterator[Record | _Flush]:
    number = 0
    if not text.skip_space() or text.text[text.pos] != "[":
        raise _Broken("a JSON batch must be one array, starting with '['", Position(1, text.line))
    text.advance(text.pos + 1)
    if not text.skip_space():
        raise _Broken("the JSON array is not closed", Position(1, text.line))
    if text.text[text.pos] == "]":
        text.advance(text.pos + 1)
    else:
        while True:
            number += 1
            text.record = number
            position = Position(number, text.line)
            yield Record(position, text.value(max_size, "an array item").encode("utf-8"))
            if not text.skip_space():
                raise _Broken("the JSON array is not closed", Position(number, text.line))
            if text.text[text.pos] == "]":
                text.advance(text.pos + 1)
                break
            if text.text[text.pos] != ",":
                raise _Broken(f"expected ',' or ']' after an array item, got {text.text[text.pos]!r}", position)
            text.advance(text.pos + 1)
            if not text.skip_space():
                raise _Broken("the JSON array is not closed", Position(number, text.line))
            if text.fresh:
                text.fresh = False
                yield FLUSH
    text.record = number + 1
    if text.skip_space():
        raise _Broken("there is more after the end of the JSON array", Position(number + 1, text.line))
    yield FLUSH


# -- the json stream kind: JSON Lines, or JSON text that is not ----------------------------------------------


class _Replay:
    """An iterator over chunks that keeps what it hands over until told to stop, to hand it over again."""

    def __init__(self, chunks: Iterator[bytes], kept: list[bytes]) -> None:
        self._chunks = chunks
        self.kept = kept
        self.keeping = True

    def __iter__(self) -> _Replay:
        return self

    def __next__(self) -> bytes:
        chunk = next(self._chunks)
        if self.keeping:
            self.kept.append(chunk)
        return chunk


def _first_line(source: Iterator[bytes], max_size: int) -> list[bytes]:
    """The chunks up to the end of the first non-blank line (or ``max_size`` bytes, or the end of the input)."""
    seen: list[bytes] = []
    started = False
    size = 0
    for chunk in source:
        seen.append(chunk)
        size += len(chunk)
        if not started:
            rest = chunk.lstrip(b" \t\r\n")
            started = bool(rest)
            if started and b"\n" in rest:
                break
        elif b"\n" in chunk:
            break
        if size > max_size:
            break
    return seen


def read_json(chunks: Iterable[bytes], max_size: int) -> Iterator[Record | _Flush]:
    """The records of a ``json`` stream: JSON Lines; or, when the stream is not JSON Lines, its JSON values.

    A stream is JSON Lines unless its first non-blank line is the start of a JSON value that goes on over
    more lines: then it is pretty-printed JSON, either one array (read item by item, as
    :func:`read_array` does, however long it is) or JSON documents one after another, each a record (an
    event, or a batch). Records of JSON Lines have a line and a byte offset; records of JSON text have a
    line. In JSON text, a syntax error stops the reader with a :class:`FramingError`, since no later
    document can be found reliably.

    >>> pretty = b'{\\n  "a": 1\\n}\\n{\\n  "b": 2\\n}\\n'
    >>> [(r.raw, r.position.line) for r in read_json([pretty], 100) if isinstance(r, Record)]
    [(b'{\\n  "a": 1\\n}', 1), (b'{\\n  "b": 2\\n}', 4)]
    """
    bom, source = _without_bom(chunks)
    seen = _first_line(source, max_size)
    head = b"".join(seen)
    first = head.lstrip(b" \t\r\n").split(b"\n", 1)[0].rstrip(b"\r")
    if first[:1] not in (b"{", b"[") or len(first) > max_size or _is_json(first):
        yield from read_lines(chain([_BOM[:bom]], seen, source), max_size)
        return
    kept: list[bytes] = []
    replay = _Replay(chain(seen, source), kept)
    text = _Text(replay)
    start_line = 1
    try:
        text.skip_space()
        start_line = text.line
        value = text.value(max_size, "a JSON document")
    except _Broken as exc:
        if not exc.size:  # not JSON text after all: JSON Lines, whose first line is a bad record
            yield from read_lines(chain([_BOM[:bom]], kept, source), max_size)
            return
        if first[:1] != b"[":
            raise exc.framing_error() from exc.__cause__
        value = None
    if value is not None and text.line == start_line:  # one value, then more on its line: JSON Lines
        yield from read_lines(chain([_BOM[:bom]], kept, source), max_size)
        return
    if first[:1] == b"[":
        yield from read_array(chain(kept, source), max_size)
        return
    replay.keeping = False
    kept.clear()
    assert value is not None
    try:
        yield from _documents(text, value, start_line, max_size)
    except _Broken as exc:
        raise exc.framing_error() from exc.__cause__


def _documents(text: _Text, first: str, line: int, max_size: int) -> Iterator[Record | _Flush]:
    number = 1
    yield Record(Position(number, line), first.encode("utf-8"))
    while text.skip_space():
        number += 1
        text.record = number
        position = Position(number, text.line)
        yield Record(position, text.value(max_size, "a JSON document").encode("utf-8"))
        if text.fresh:
            text.fresh = False
            yield FLUSH
    yield FLUSH


def _is_json(line: bytes) -> bool:
    try:
        json.loads(line)
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, digit limits
        return False
    return True


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


_new_position = _maker(Position)  # Position(record, line, offset, item), all given
_new_record = _maker(Record)  # Record(position, raw, error), all given
