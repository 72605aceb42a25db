"""Parquet files of CloudEvents: the Arrow table of :mod:`cefmt_plugins.arrow` in a Parquet file.

As a format (``application/cloudevents-batch+parquet``, registry keys ``1.0/parquet/batch`` and
``0.3/parquet/batch``), a batch of events is the bytes of one Parquet file. As a stream kind
(``cefmt convert in.parquet out.jsonl --from parquet``), a file is read row group by row group, in record
batches of a bounded size, and each row is a record of its own: a bad row is a bad record that follows
``on_error``, and the rows around it go on. Written, the stream's batches are gathered into row groups of
:data:`ROW_GROUP_ROWS` rows, so memory holds one row group whatever the file's size. The file's schema is
the first batch's (its extension columns included); a later batch whose extensions do not fit those
columns puts them in the ``extensions`` map, so nothing is lost.

Bounded reading: the file's size (``max_message_bytes``) and its row count (``max_batch_length``) are
checked before anything is read when it is a message, and the sizes its row groups say they expand to
(at most :data:`MAX_EXPANSION` times the file, or :data:`MAX_ROW_GROUP_BYTES` for a row group of a
stream) before each is read.

>>> from cefmt import CloudEvent, decode, encode
>>> events = [CloudEvent(id=str(n), source="/s", type="t", data={"n": n}) for n in range(3)]
>>> raw = encode(events, "parquet", "batch")
>>> raw[:4], decode(raw, "parquet") == events
(b'PAR1', True)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from cefmt import DEFAULT_LIMITS, CloudEvent, EncodeError, LimitExceededError, Limits, MalformedMessageError
from cefmt.codec import Codec, Container, batch_specversion

from ._columns import layout_of_schema, to_table
from ._rows import Columns, Group, Row
from ._schema import BASE_SCHEMA

__all__ = [
    "MAX_EXPANSION",
    "MAX_ROW_GROUP_BYTES",
    "MEDIA_TYPE",
    "ROW_GROUP_ROWS",
    "batch",
    "decode_batch",
    "detect",
    "encode_batch",
    "read_rows",
    "write_file",
]

#: The content type of a Parquet file of events in a binding's batch mode.
MEDIA_TYPE = "application/cloudevents-batch+parquet"
#: Rows per row group in the files a stream writes.
ROW_GROUP_ROWS: Final = 65_536
#: The most a Parquet message may say its columns expand to, as a multiple of its size.
MAX_EXPANSION: Final = 64
#: The most a row group of a file read as a stream may say it expands to.
MAX_ROW_GROUP_BYTES: Final = 1 << 30
#: The bytes of column data a stream reads at a time (rows per record batch follow from the row group).
_BATCH_BYTES: Final = 4 << 20
_COMPRESSION: Final = "zstd"


def _write(table: pa.Table, sink: Any) -> None:
    pq.write_table(table, sink, compression=_COMPRESSION)


def encode_batch(events: Iterable[CloudEvent]) -> bytes:
    """A list of events (one spec version) as a Parquet file (one row group, zstd-compressed columns).

    >>> encode_batch([])[:4]
    b'PAR1'
    """
    events = list(events)
    batch_specversion(events)
    sink = pa.BufferOutputStream()
    try:
        _write(to_table(events), sink)
    except pa.ArrowException as exc:
        raise EncodeError(f"the events cannot be written as Parquet: {exc}", codec="parquet") from exc
    return sink.getvalue().to_pybytes()  # type: ignore[no-any-return]


def _open(file: Any) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(file, buffer_size=1 << 20, pre_buffer=False)
    except (pa.ArrowException, OSError, ValueError, IndexError) as exc:
        raise MalformedMessageError(f"not a Parquet file: {exc}") from exc


def _check_expansion(parquet: pq.ParquetFile, index: int, bound: int) -> int:
    """The bytes row group ``index`` says it holds once read, refused beyond ``bound``."""
    size = parquet.metadata.row_group(index).total_byte_size
    if size > bound:
        raise LimitExceededError(f"uncompressed size of Parquet row group {index}", size, bound)
    return int(size)


def decode_batch(
    raw: Any, *, extension_types: Mapping[str, type] | None = None, limits: Limits | None = None
) -> list[CloudEvent] | CloudEvent:
    """A Parquet file's bytes (or a ``pyarrow.Table``) back to its events; a :class:`Row` gives its event.

    ``limits`` (:data:`cefmt.DEFAULT_LIMITS` when ``None``) bound the file's size and row count before it
    is read, and each row's attribute count and data; the row groups may expand to at most
    :data:`MAX_EXPANSION` times the file's size.

    >>> decode_batch(encode_batch([]))
    []
    """
    limits = limits if limits is not None else DEFAULT_LIMITS
    if isinstance(raw, Row):
        return raw.event(extension_types=extension_types, limits=limits)
    if isinstance(raw, (pa.Table, pa.RecordBatch)):
        table = raw
    else:
        if not isinstance(raw, (bytes, bytearray, memoryview)):
            raise MalformedMessageError(f"a Parquet message must be bytes, got {type(raw).__name__}")
        if len(raw) > limits.max_message_bytes:
            limits.check_message_size(raw, "size of Parquet file")
        parquet = _open(pa.BufferReader(pa.py_buffer(raw)))
        limits.check_batch_length(parquet.metadata.num_rows)
        bound = MAX_EXPANSION * len(raw) + (1 << 20)
        for index in range(parquet.num_row_groups):
            bound -= _check_expansion(parquet, index, bound)
        try:
            table = parquet.read()
        except (pa.ArrowException, OSError, ValueError, IndexError) as exc:
            raise MalformedMessageError(f"the Parquet file cannot be read: {exc}") from exc
    limits.check_batch_length(table.num_rows)
    columns = Columns(table)
    return [columns.event(row, extension_types=extension_types, limits=limits) for row in range(columns.length)]


def detect(raw: Any) -> tuple[str | None, str]:
    """A Parquet file is a batch; the spec version is in each row.

    >>> detect(b"PAR1")
    (None, 'batch')
    """
    return (None, "batch")


# -- streams: a file read row by row, and written row group by row group --------------------------------------


def read_rows(file: IO[bytes]) -> Iterator[Row]:
    """The rows of a Parquet file (a binary file that can seek), one :class:`Row` each, reading a bounded
    number of bytes at a time. A file that is no Parquet file, or whose columns are no table of events,
    raises :class:`~cefmt.MalformedMessageError` before its first row; an empty file has no rows.

    >>> import io
    >>> [row.event().id for row in read_rows(io.BytesIO(encode_batch([CloudEvent(id="7", source="/s", type="t")])))]
    ['7']
    """
    file.seek(0, 2)
    empty = file.tell() == 0
    file.seek(0)
    if empty:
        return
    parquet = _open(file)
    Columns(parquet.schema_arrow.empty_table())  # the columns are those of a table of events, or nothing is read
    first = 0
    for index in range(parquet.num_row_groups):
        size = _check_expansion(parquet, index, MAX_ROW_GROUP_BYTES)
        rows = parquet.metadata.row_group(index).num_rows
        per_batch = max(1, min(rows, _BATCH_BYTES * rows // max(size, 1))) if rows else 1
        batches = parquet.iter_batches(batch_size=per_batch, row_groups=[index], use_threads=False)
        while True:
            try:
                batch = next(batches)
                batch.validate(full=True)
            except StopIteration:
                break
            except (pa.ArrowException, OSError, ValueError, IndexError) as exc:
                raise MalformedMessageError(f"row group {index} of the Parquet file cannot be read: {exc}") from exc
            group = Group(batch, first)
            for row in range(batch.num_rows):
                yield Row(group, row)
            first += batch.num_rows


class _Sink:
    """What the Parquet writer writes into: the bytes kept until they are handed on."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0
        self.closed = False

    def write(self, data: Any) -> int:
        piece = bytes(data)
        self.parts.append(piece)
        self.position += len(piece)
        return len(piece)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        """Nothing: :meth:`take` hands the bytes on."""

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts = []
        return data


def _table_of(message: Any) -> pa.Table:
    if isinstance(message, pa.Table):
        return message
    if isinstance(message, pa.RecordBatch):
        return pa.Table.from_batches([message])
    try:
        return pq.ParquetFile(pa.BufferReader(pa.py_buffer(message))).read()
    except (pa.ArrowException, OSError, ValueError, TypeError) as exc:
        raise EncodeError(f"a message to write is not a Parquet file: {exc}", codec="parquet") from exc


def write_file(messages: Iterable[Any], *, row_group_rows: int = ROW_GROUP_ROWS) -> Iterator[bytes]:
    """One Parquet file of the tables in ``messages`` (Parquet bytes as :func:`encode_batch` gives them, or
    Arrow tables), in row groups of ``row_group_rows`` rows; its bytes as each row group is written.

    The file takes the first table's schema; a table whose extension columns differ is rewritten into it
    (what does not fit its columns goes to the ``extensions`` map). No message gives a file with no rows.

    >>> raw = b"".join(write_file([encode_batch([CloudEvent(id="1", source="/s", type="t")])] * 2))
    >>> [event.id for event in decode_batch(raw)]
    ['1', '1']
    """
    sink = _Sink()
    writer: pq.ParquetWriter | None = None
    layout: dict[str, str] = {}
    pending: list[pa.Table] = []
    held = 0
    try:
        for message in messages:
            table = _table_of(message)
            if writer is None:
                layout = layout_of_schema(table.schema)
                writer = pq.ParquetWriter(sink, table.schema, compression=_COMPRESSION)
            elif table.schema != writer.schema:
                columns = Columns(table)
                table = to_table([columns.event(row) for row in range(columns.length)], layout=layout)
            pending.append(table)
            held += table.num_rows
            if held >= row_group_rows:
                writer.write_table(pa.concat_tables(pending), row_group_size=held)
                pending, held = [], 0
                yield sink.take()
        if writer is None:
            writer = pq.ParquetWriter(sink, BASE_SCHEMA, compression=_COMPRESSION)
        if pending:
            writer.write_table(pa.concat_tables(pending), row_group_size=held)
        writer.close()
    except pa.ArrowException as exc:
        raise EncodeError(f"the Parquet file cannot be written: {exc}", codec="parquet") from exc
    yield sink.take()


batch = Codec(
    encode=encode_batch,
    decode=decode_batch,
    detect=detect,
    media_type=MEDIA_TYPE,
    container=Container(read_rows, write_file),
)
