"""CloudEvents as Apache Arrow tables, and the Arrow event format (``application/cloudevents-batch+arrow``).

A table of events has one column per context attribute, ``time`` as a UTC timestamp with its nanoseconds
and UTC offset beside it, ``data`` as bytes with ``data_kind`` saying what they were (bytes, text or a
JSON value), and each extension in a column of its own type when the batch agrees on its type, in the
``extensions`` map (its type kept in the map value) otherwise. ``docs/formats/arrow.md`` is the
reference. Nothing is lost either way: ``from_table(to_table(events)) == events``, types included.

The format's batch mode is that table as the bytes of an Arrow IPC stream; its decoder reads them within
``limits=`` (size, rows and attributes checked before events are built, compressed bodies refused, every
batch validated in full). It also takes a ``pyarrow.Table`` or ``RecordBatch`` as it is.

Registry keys ``1.0/arrow/batch`` and ``0.3/arrow/batch``; the Parquet stream kind is
:mod:`cefmt_plugins.arrow.parquet`. Needs ``pyarrow`` (``pip install cefmt[arrow]``).

>>> from cefmt import CloudEvent, decode, encode
>>> events = [CloudEvent(id="1", source="/s", type="t", data=b"\\x00", n=3)]
>>> decode(encode(events, "arrow", "batch"), "arrow") == events
True
>>> to_table(events).column_names[:4]
['specversion', 'id', 'source', 'type']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pyarrow as pa

from cefmt import DEFAULT_LIMITS, CloudEvent, CloudEventError, Limits
from cefmt.codec import Codec, batch_specversion

from ._columns import instant, layout_of, schema_for, to_table
from ._ipc import read_stream, write_stream
from ._rows import Columns, Group, Row, timestamp_of
from ._schema import BASE_SCHEMA, DATA_KINDS, EXTENSION_VALUE, EXTENSIONS_TYPE, KIND_TYPES, TIMESTAMP

__all__ = [
    "BASE_SCHEMA",
    "DATA_KINDS",
    "EXTENSIONS_TYPE",
    "EXTENSION_VALUE",
    "KIND_TYPES",
    "MEDIA_TYPE",
    "TIMESTAMP",
    "Columns",
    "Group",
    "Row",
    "batch",
    "decode_batch",
    "decode_rows",
    "detect",
    "encode_batch",
    "from_table",
    "instant",
    "layout_of",
    "read_stream",
    "schema_for",
    "timestamp_of",
    "to_table",
    "write_stream",
]

#: The content type of an Arrow IPC stream of events in a binding's batch mode.
MEDIA_TYPE = "application/cloudevents-batch+arrow"


def decode_rows(
    table: pa.Table | pa.RecordBatch,
    *,
    extension_types: Mapping[str, type] | None = None,
    limits: Limits | None = None,
) -> Iterator[CloudEvent | CloudEventError]:
    """Each row's event, or the error that row has, in order: for callers that keep going past a bad row.

    A table whose columns cannot be read at all raises :class:`~cefmt.MalformedMessageError` at once.

    >>> from cefmt import CloudEvent
    >>> table = to_table([CloudEvent(id="1", source="/s", type="t")])
    >>> [type(item).__name__ for item in decode_rows(table)]
    ['CloudEvent']
    """
    columns = Columns(table)
    for row in range(columns.length):
        try:
            yield columns.event(row, extension_types=extension_types, limits=limits)
        except CloudEventError as exc:
            yield exc


def from_table(
    table: pa.Table | pa.RecordBatch,
    *,
    extension_types: Mapping[str, type] | None = None,
    limits: Limits | None = None,
) -> list[CloudEvent]:
    """The events of a table (one per row), as :func:`to_table` writes it or another producer does.

    The first bad row raises its error, which names the row. ``limits``, when given, bound the row count
    (``max_batch_length``); each row's attribute count and data size are held to ``limits`` or
    :data:`cefmt.DEFAULT_LIMITS`. ``extension_types`` turns extensions that arrive as text into their
    type, as for the other codecs; a table written by :func:`to_table` needs none.

    >>> from cefmt import CloudEvent, Timestamp
    >>> event = CloudEvent(id="1", source="/s", type="t", time="2020-01-01T00:00:00.123456789+05:30")
    >>> str(from_table(to_table([event]))[0].time)
    '2020-01-01T00:00:00.123456789+05:30'
    """
    if limits is not None:
        limits.check_batch_length(table.num_rows)
    columns = Columns(table)
    return [columns.event(row, extension_types=extension_types, limits=limits) for row in range(columns.length)]


def encode_batch(events: Iterable[CloudEvent]) -> bytes:
    """A list of events (one spec version) as an Arrow IPC stream of :func:`to_table`'s table.

    >>> encode_batch([])[:4]
    b'\\xff\\xff\\xff\\xff'
    """
    events = list(events)
    batch_specversion(events)
    return write_stream(to_table(events))


def decode_batch(
    raw: Any, *, extension_types: Mapping[str, type] | None = None, limits: Limits | None = None
) -> list[CloudEvent] | CloudEvent:
    """An Arrow IPC stream (or a ``pyarrow.Table`` or ``RecordBatch``) back to its events.

    ``limits`` (:data:`cefmt.DEFAULT_LIMITS` when ``None``) bound the stream's size before it is read,
    its row count before any event is built, and each row's attribute count and data; a compressed
    stream is refused. A :class:`Row` (what a columnar file's stream hands on) gives its one event.

    >>> from cefmt import Limits
    >>> decode_batch(encode_batch([]))
    []
    """
    if isinstance(raw, Row):
        return raw.event(extension_types=extension_types, limits=limits)
    table = raw if isinstance(raw, (pa.Table, pa.RecordBatch)) else read_stream(raw, limits=limits)
    return from_table(table, extension_types=extension_types, limits=limits or DEFAULT_LIMITS)


def detect(raw: Any) -> tuple[str | None, str]:
    """Every Arrow message is a batch (a table); the spec version is in each row.

    >>> detect(b"")
    (None, 'batch')
    """
    return (None, "batch")


batch = Codec(encode=encode_batch, decode=decode_batch, detect=detect, media_type=MEDIA_TYPE)
