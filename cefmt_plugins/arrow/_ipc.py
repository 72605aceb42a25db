"""Arrow IPC stream bytes, written and read within limits.

Before any record batch is read, every message of the stream is looked at: the row counts in the batches'
headers are added up and checked against ``max_batch_length``, and a compressed body is refused (LZ4 and
ZSTD bodies name the size they expand to, which a few bytes can make any size: the memory a message may
take would no longer follow from its length). Only then are the batches read, without copying, and
validated in full, so that no offset or length in a hostile message is trusted.
"""

from __future__ import annotations

import struct
from typing import Any, Final

import pyarrow as pa

from cefmt import DEFAULT_LIMITS, CloudEventError, EncodeError, LimitExceededError, Limits, MalformedMessageError

__all__ = ["read_stream", "write_stream"]

# Arrow's Message.fbs: the Message table's fields, the MessageHeader union's members, RecordBatch's fields.
_HEADER_TYPE, _HEADER = 1, 2
_SCHEMA, _DICTIONARY_BATCH, _RECORD_BATCH = 1, 2, 3
_BATCH_LENGTH, _BATCH_COMPRESSION = 0, 3
_DICTIONARY_DATA = 1
_U8: Final = struct.Struct("<B")
_U16: Final = struct.Struct("<H")
_I32: Final = struct.Struct("<i")
_U32: Final = struct.Struct("<I")
_I64: Final = struct.Struct("<q")


def write_stream(table: pa.Table) -> bytes:
    """``table`` as the bytes of an Arrow IPC stream (a schema, its record batches, the end marker).

    >>> write_stream(pa.table({"a": [1]}))[:4]
    b'\\xff\\xff\\xff\\xff'
    """
    sink = pa.BufferOutputStream()
    try:
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
    except pa.ArrowException as exc:
        raise EncodeError(f"the table cannot be written as an Arrow IPC stream: {exc}", codec="arrow") from exc
    return sink.getvalue().to_pybytes()  # type: ignore[no-any-return]


def _field(meta: memoryview, table: int, index: int) -> int | None:
    """Where field ``index`` of the flatbuffer table at ``table`` sits, or ``None`` when it is absent."""
    vtable = table - _I32.unpack_from(meta, table)[0]
    size = _U16.unpack_from(meta, vtable)[0]
    slot = 4 + 2 * index
    if slot + 2 > size:
        return None
    offset = _U16.unpack_from(meta, vtable + slot)[0]
    return table + offset if offset else None


def _target(meta: memoryview, at: int) -> int:
    return at + _U32.unpack_from(meta, at)[0]  # type: ignore[no-any-return]


def _batch(meta: memoryview, table: int) -> tuple[int, bool]:
    """A RecordBatch table's row count, and whether its body is compressed."""
    at = _field(meta, table, _BATCH_LENGTH)
    length = 0 if at is None else _I64.unpack_from(meta, at)[0]
    return length, _field(meta, table, _BATCH_COMPRESSION) is not None


def _header(meta: memoryview) -> tuple[int, int | None]:
    root = _target(meta, 0)
    kind_at = _field(meta, root, _HEADER_TYPE)
    header_at = _field(meta, root, _HEADER)
    kind = 0 if kind_at is None else _U8.unpack_from(meta, kind_at)[0]
    return kind, None if header_at is None else _target(meta, header_at)


def _scan(buffer: pa.Buffer, limits: Limits) -> int:
    """Check every message's header (see the module docstring); the number of rows in the stream."""
    source = pa.BufferReader(buffer)
    reader = pa.ipc.MessageReader.open_stream(source)
    rows = 0
    number = 0
    while True:
        try:
            message = reader.read_next_message()
        except StopIteration:
            break
        number += 1
        meta = memoryview(message.metadata)
        try:
            kind, header = _header(meta)
            if number == 1 and kind != _SCHEMA:
                raise MalformedMessageError("an Arrow IPC stream must start with its schema")
            if kind == _RECORD_BATCH and header is not None:
                length, compressed = _batch(meta, header)
                rows += length
                if rows > limits.max_batch_length:
                    raise LimitExceededError("batch length", rows, limits.max_batch_length)
            elif kind == _DICTIONARY_BATCH and header is not None:
                data = _field(meta, header, _DICTIONARY_DATA)
                compressed = data is not None and _batch(meta, _target(meta, data))[1]
            elif kind == _SCHEMA and number == 1:
                compressed = False
            else:
                raise MalformedMessageError(f"message {number} of the Arrow IPC stream is not a record batch")
        except struct.error as exc:
            raise MalformedMessageError(f"message {number} of the Arrow IPC stream has a broken header") from exc
        if compressed:
            raise MalformedMessageError(
                "the Arrow IPC stream has a compressed body; cefmt reads uncompressed streams only, whose memory "
                "follows from their size"
            )
    if number == 0:
        raise MalformedMessageError("an empty message is not an Arrow IPC stream")
    if source.tell() != buffer.size:
        raise MalformedMessageError(f"the Arrow IPC stream has {buffer.size - source.tell()} bytes after its end")
    return rows


def read_stream(raw: Any, *, limits: Limits | None = None) -> pa.Table:
    """The table an Arrow IPC stream holds, checked as the module docstring says.

    >>> read_stream(write_stream(pa.table({"a": [1]}))).to_pydict()
    {'a': [1]}
    """
    limits = limits if limits is not None else DEFAULT_LIMITS
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise MalformedMessageError(f"an Arrow IPC stream must be bytes, got {type(raw).__name__}")
    if len(raw) > limits.max_message_bytes:
        limits.check_message_size(raw, "size of Arrow IPC stream")
    buffer = pa.py_buffer(raw)
    try:
        _scan(buffer, limits)
        table = pa.ipc.open_stream(buffer).read_all()
        table.validate(full=True)
    except CloudEventError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:  # ArrowInvalid, ArrowIOError (an OSError) ...
        raise MalformedMessageError(f"not a valid Arrow IPC stream: {exc}") from exc
    return table
